"""A small HTTP client over http.client: no redirects followed (YouTube's 308 is a progress answer,
not a redirect), bodies streamed from files, and every failure turned into a `PostError`."""

from __future__ import annotations

import http.client
import json
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from distribution.errors import ErrorKind, PostError, http_status_error

Body = bytes | Iterable[bytes] | None


@dataclass
class Reply:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self, what: str) -> dict[str, Any]:
        """The body as a JSON object; anything else is a clear retryable error naming the call."""
        try:
            value = json.loads(self.body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            snippet = self.body[:120].decode("utf-8", "replace")
            raise PostError(ErrorKind.RETRYABLE, f"{what}: malformed JSON reply ({exc.msg}): {snippet!r}") from None
        if not isinstance(value, dict):
            raise PostError(ErrorKind.RETRYABLE, f"{what}: reply is JSON but not an object: {type(value).__name__}")
        return value

    def require_ok(self, what: str) -> Reply:
        if not 200 <= self.status < 300:
            raise http_status_error(self.status, what, self.body, self.header("retry-after"))
        return self


def with_query(url: str, **params: Any) -> str:
    query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
    return f"{url}{'&' if '?' in url else '?'}{query}" if query else url


def send(
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    body: Body = None,
    timeout_s: float = 60.0,
    what: str = "",
) -> Reply:
    """One request; network failures become RETRYABLE errors naming `what` (the platform call)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PostError(ErrorKind.PERMANENT, f"{what}: not an http(s) URL: {url!r}")
    conn_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = conn_class(parts.hostname, parts.port, timeout=timeout_s)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    try:
        conn.connect()
    except OSError as exc:
        error = PostError(ErrorKind.RETRYABLE, f"{what or method + ' ' + url}: cannot connect: {exc!r}")
        error.never_sent = True
        raise error from None
    try:
        conn.request(method, target, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
    except (OSError, http.client.HTTPException) as exc:
        raise PostError(ErrorKind.RETRYABLE, f"{what or method + ' ' + url}: network error: {exc!r}") from None
    finally:
        conn.close()


def json_body(value: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    data = json.dumps(value, ensure_ascii=False).encode()
    return {"Content-Type": "application/json; charset=UTF-8", "Content-Length": str(len(data))}, data
