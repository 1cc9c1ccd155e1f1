"""Request body size limit: a body over the limit gets 413 JSON before any route reads it.

(FastAPI's own max_body_size answers in plain text when Content-Length is too large.)
The body is read up front (the API's bodies are small JSON) and handed on as it came,
so a body without Content-Length (chunked) is limited too. A few routes take larger bodies
(product images, product imports): each names its own limit by method and path pattern.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]
# (method, path pattern, the route's own limit in bytes).
RouteLimit = tuple[str, str, int]


class BodyLimit:
    """ASGI middleware: 413 {"detail": ...} for a request body over `max_bytes`, or over the limit
    of the first of `routes` that matches the request's method and whole path."""

    def __init__(self, app: App, max_bytes: int, routes: Sequence[RouteLimit] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.routes = [(method, re.compile(pattern), limit) for method, pattern, limit in routes]

    def limit_for(self, scope: Scope) -> int:
        for method, pattern, limit in self.routes:
            if scope.get("method") == method and pattern.fullmatch(scope.get("path", "")):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.limit_for(scope)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > max_bytes):
            await self._refuse(send, declared.isdigit(), max_bytes)
            return
        messages = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > max_bytes:
                await self._refuse(send, True, max_bytes)
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(messages, receive), send)

    async def _refuse(self, send: Send, too_large: bool, max_bytes: int) -> None:
        status, detail = (413, f"request body over {max_bytes} bytes") if too_large else (400, "bad Content-Length")
        body = json.dumps({"detail": detail}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """The messages read already, then the connection's own (a disconnect, later)."""
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed
