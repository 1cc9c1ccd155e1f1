"""Logging setup: plain text for a terminal, or one JSON object a line for a log collector.

A JSON line holds ts (ISO 8601, UTC), level, logger, message, exc_info (the traceback, when
there is one) and whichever of room, clip, worker, role, topic the record carries. They
come from `extra={"room": ...}` on the call, or from every record logged inside a
`with log_context(room=..., clip=...)` block (the call's extra wins).

The context is a contextvar: asyncio tasks inherit it, but loop.run_in_executor does not
carry it into the thread; enter log_context inside the function the thread runs (or run it
with contextvars.copy_context().run).
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TextIO

from livecut.config import ConfigError

CONTEXT_FIELDS = ("room", "clip", "worker", "role", "topic")
# What `livecut` printed before this module existed: text logs stay as they were.
TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s"
FORMATS = ("text", "json")

_context: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("livecut_log_context", default=None)


@contextmanager
def log_context(
    *,
    room: str | None = None,
    clip: str | None = None,
    worker: str | None = None,
    role: str | None = None,
    topic: str | None = None,
) -> Iterator[None]:
    """Add the given ids to every record logged in this block (nested blocks add to the outer ones)."""
    given = {"room": room, "clip": clip, "worker": worker, "role": role, "topic": topic}
    token = _context.set((_context.get() or {}) | {k: v for k, v in given.items() if v is not None})
    try:
        yield
    finally:
        _context.reset(token)


class ContextFilter(logging.Filter):
    """Copies ids onto each record: the call's extra= first, then log_context, then the process's own."""

    def __init__(self, process: dict[str, str] | None = None) -> None:
        super().__init__()
        self.process = process or {}

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (self.process | (_context.get() or {})).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in CONTEXT_FIELDS:
            value = getattr(record, key, None)
            if value is not None:
                line[key] = value
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack_info"] = self.formatStack(record.stack_info)
        # default=str: an id given as a UUID or Path must not make the log call fail.
        return json.dumps(line, ensure_ascii=False, default=str)


class _LivecutHandler(logging.StreamHandler):
    """Marks the handler configure_logging installed, so a second call replaces it."""


def configure_logging(
    level: str | int = "INFO",
    json_format: bool = False,
    stream: TextIO | None = None,
    *,
    worker: str | None = None,
    role: str | None = None,
) -> None:
    """Send every logger's records to `stream` (stderr) as text or JSON lines; call once per process.

    `worker` and `role` go on every record of the process, threads included (log_context
    does not reach into executor threads).
    """
    handler = _LivecutHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if json_format else logging.Formatter(TEXT_FORMAT))
    process = {k: v for k, v in (("worker", worker), ("role", role)) if v is not None}
    handler.addFilter(ContextFilter(process))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _LivecutHandler)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(_level(level))


def configure_from_config(
    config: dict[str, Any], stream: TextIO | None = None, *, worker: str | None = None, role: str | None = None
) -> None:
    """configure_logging from the [logging] section (level, format)."""
    section = config["logging"]
    if section["format"] not in FORMATS:
        raise ConfigError(f'logging.format must be "text" or "json", not {section["format"]!r}')
    configure_logging(section["level"], section["format"] == "json", stream, worker=worker, role=role)


def _level(level: str | int) -> int:
    if isinstance(level, int):
        return level
    number = logging.getLevelName(level.upper())
    if not isinstance(number, int):
        raise ConfigError(f"logging.level must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {level!r}")
    return number
