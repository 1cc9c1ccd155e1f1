"""422 answers that are always valid JSON and never echo a huge input back.

FastAPI's own handler puts each bad value into the answer as it came: NaN or Infinity (which
Python's JSON parser accepts) then cannot be encoded and the 422 became a 500, and a 100 KB
query string came back whole. Here each echoed value is made finite and short.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

MAX_ECHO_CHARS = 200  # of any string in a 422 answer
MAX_ECHO_ITEMS = 20  # of any list or object, and of errors listed
MAX_DEPTH = 4


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    # Registered for RequestValidationError only; Starlette types handlers by the base Exception.
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    detail = [bounded(jsonable_encoder(error, custom_encoder={float: _finite})) for error in errors[:MAX_ECHO_ITEMS]]
    if len(errors) > MAX_ECHO_ITEMS:
        detail.append({"type": "too_many_errors", "msg": f"{len(errors) - MAX_ECHO_ITEMS} more errors not shown"})
    return JSONResponse({"detail": detail}, status_code=422)


def bounded(value: Any, depth: int = 0) -> Any:
    """`value` with every string cut to MAX_ECHO_CHARS, containers to MAX_ECHO_ITEMS, floats finite."""
    if isinstance(value, str):
        return value if len(value) <= MAX_ECHO_CHARS else f"{value[:MAX_ECHO_CHARS]}… ({len(value)} characters)"
    if isinstance(value, float):
        return _finite(value)
    if isinstance(value, bool | int) or value is None:
        return value
    if depth >= MAX_DEPTH:
        return "…"
    if isinstance(value, dict):
        items = list(value.items())
        keys = {bounded(str(k)): bounded(v, depth + 1) for k, v in items[:MAX_ECHO_ITEMS]}
        if len(items) > MAX_ECHO_ITEMS:
            keys["…"] = f"{len(items) - MAX_ECHO_ITEMS} more keys"
        return keys
    if isinstance(value, list | tuple):
        shown = [bounded(v, depth + 1) for v in value[:MAX_ECHO_ITEMS]]
        if len(value) > MAX_ECHO_ITEMS:
            shown.append(f"… {len(value) - MAX_ECHO_ITEMS} more items")
        return shown
    return bounded(str(value))


def _finite(value: float) -> float | str:
    """JSON has no NaN or Infinity: those are echoed as the strings "nan", "inf", "-inf"."""
    return value if math.isfinite(value) else str(value)
