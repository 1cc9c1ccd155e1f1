"""Refreshing access tokens, one data row per platform's documented token endpoint."""

from __future__ import annotations

import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

from distribution import http
from distribution.credentials import Credentials, refreshed
from distribution.errors import ErrorKind, PostError

# platform -> (default base URL, path, field name of the client id, answer nested under "data"?)
TOKEN_ENDPOINTS: dict[str, tuple[str, str, str, bool]] = {
    "douyin": ("https://open.douyin.com", "/oauth/refresh_token/", "client_key", True),
    "kuaishou": ("https://open.kuaishou.com", "/oauth2/refresh_token", "app_id", False),
    "tiktok": ("https://open.tiktokapis.com", "/v2/oauth/token/", "client_key", False),
    "youtube": ("https://oauth2.googleapis.com", "/token", "client_id", False),
}


@dataclass(frozen=True)
class AppCredentials:
    """The app's own id and secret on a platform (from config and the environment, never code)."""

    client_id: str
    client_secret: str


class OAuthRefresher:
    def __init__(self, platform: str, app: AppCredentials, base_url: str = "", timeout_s: float = 30.0):
        if platform not in TOKEN_ENDPOINTS:
            raise ValueError(f"platform: {platform!r} has no OAuth refresh; known: {sorted(TOKEN_ENDPOINTS)}")
        default_base, self.path, self.id_field, self.nested = TOKEN_ENDPOINTS[platform]
        self.platform = platform
        self.app = app
        self.base = (base_url or default_base).rstrip("/")
        self.timeout_s = timeout_s

    def refresh(self, credentials: Credentials, account_extra: dict[str, str]) -> Credentials:
        fields = {
            self.id_field: self.app.client_id,
            "grant_type": "refresh_token",
            "refresh_token": credentials.refresh_token,
        }
        if self.platform != "douyin":  # Douyin's refresh takes no secret
            fields["client_secret" if self.platform != "kuaishou" else "app_secret"] = self.app.client_secret
        body = urllib.parse.urlencode(fields).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Content-Length": str(len(body))}
        what = f"{self.platform} token refresh"
        reply = http.send(
            "POST", f"{self.base}{self.path}", headers=headers, body=body, timeout_s=self.timeout_s, what=what
        )
        if reply.status >= 500:
            reply.require_ok(what)
        answer = reply.json(what)
        record: Any = answer.get("data", answer) if self.nested else answer
        if not isinstance(record, dict):
            raise PostError(ErrorKind.RETRYABLE, f"{what}: reply has no data object")
        refused = (
            reply.status in (400, 401)
            or record.get("error_code") not in (None, 0)
            or record.get("error") not in (None, "", "ok")
            or (self.platform == "kuaishou" and answer.get("result") not in (None, 1))
        )
        if refused or not record.get("access_token"):
            words = record.get("description") or record.get("error_description") or record.get("error") or ""
            raise PostError(ErrorKind.NEEDS_REAUTH, f"{what} refused: {words}".strip())
        return refreshed(credentials, record, time.time())
