"""Security headers on every answer: the page, the API, media, errors (including 413s from BodyLimit).

The operator page loads only its own scripts and styles (no inline script; styles set from
script go through the CSSOM, which CSP allows), may not be framed (its keyboard shortcuts
approve and reject clips, a classic clickjacking target), and sends no referrer. FastAPI's
/docs page is the one exception: it runs an inline script and loads Swagger UI from a CDN.
"""

from __future__ import annotations

from livecut.api.limits import App, Message, Receive, Scope, Send

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; worker-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")
HSTS = "max-age=31536000"


class SecurityHeaders:
    """ASGI middleware adding CSP, X-Frame-Options, nosniff and Referrer-Policy to every response;
    with `https_only` (the deployment sits behind TLS) also Strict-Transport-Security."""

    def __init__(self, app: App, https_only: bool = False) -> None:
        self.app = app
        self.https_only = https_only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = self._headers(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in headers if name not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _headers(self, path: str) -> list[tuple[bytes, bytes]]:
        csp = DOCS_CSP if path.startswith(DOCS_PATHS) else PAGE_CSP
        headers = [
            (b"content-security-policy", csp.encode()),
            (b"x-frame-options", b"DENY"),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
        ]
        if self.https_only:
            headers.append((b"strict-transport-security", HSTS.encode()))
        return headers
