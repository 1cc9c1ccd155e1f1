"""OAuth tokens per account: encrypted at rest, refreshed before they expire.

The key comes from an environment variable the caller names (e.g. LIVECUT_SECRET_KEY, a Fernet key
made by `CredentialVault.new_key()`); the store keeps only the ciphertext. A refused refresh
token moves the account to needs_reauth: its posts wait for a person, they do not fail.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, replace
from typing import Any, Protocol

from cryptography.fernet import Fernet, InvalidToken

from distribution.errors import ErrorKind, PostError


@dataclass(frozen=True)
class Credentials:
    access_token: str
    refresh_token: str = ""
    access_expires_at: float = 0.0  # unix seconds; 0 = never expires (webhooks, hand-off)
    refresh_expires_at: float = 0.0
    scope: str = ""

    def expires_within(self, now: float, margin_s: float) -> bool:
        return bool(self.access_expires_at) and self.access_expires_at - margin_s <= now

    def __repr__(self) -> str:  # never print a token into a log
        return f"Credentials(access_expires_at={self.access_expires_at}, scope={self.scope!r})"


class CredentialVault:
    """Fernet encryption of credentials with the key in the environment variable `key_env`."""

    def __init__(self, key_env: str = "LIVECUT_SECRET_KEY", environ: dict[str, str] | None = None) -> None:
        key = (environ if environ is not None else os.environ).get(key_env, "")
        if not key:
            raise ValueError(f"{key_env}: not set; make one with CredentialVault.new_key()")
        try:
            self._fernet = Fernet(key.encode())
        except ValueError:
            raise ValueError(f"{key_env}: not a Fernet key (32 url-safe base64 bytes)") from None

    @staticmethod
    def new_key() -> str:
        return Fernet.generate_key().decode()

    def encrypt(self, credentials: Credentials) -> bytes:
        return self._fernet.encrypt(json.dumps(asdict(credentials)).encode())

    def decrypt(self, token: bytes) -> Credentials:
        try:
            record = json.loads(self._fernet.decrypt(token))
        except InvalidToken:
            raise ValueError("credentials: cannot decrypt (wrong LIVECUT_SECRET_KEY or corrupted)") from None
        return Credentials(**record)


class TokenRefresher(Protocol):
    def refresh(self, credentials: Credentials, account_extra: dict[str, str]) -> Credentials:
        """New credentials; PostError NEEDS_REAUTH when the refresh token is refused."""
        ...


def ensure_fresh(
    credentials: Credentials,
    refresher: TokenRefresher | None,
    account_extra: dict[str, str],
    *,
    now: float | None = None,
    margin_s: float = 600.0,
) -> tuple[Credentials, bool]:
    """Credentials valid for at least `margin_s` more, and whether they changed (the caller saves them)."""
    now = time.time() if now is None else now
    if not credentials.expires_within(now, margin_s):
        return credentials, False
    if refresher is None or not credentials.refresh_token:
        raise PostError(ErrorKind.NEEDS_REAUTH, "access token expires and there is no refresh token")
    if credentials.refresh_expires_at and credentials.refresh_expires_at <= now:
        raise PostError(ErrorKind.NEEDS_REAUTH, "refresh token expired; reconnect the account")
    return refresher.refresh(credentials, account_extra), True


def refreshed(old: Credentials, record: dict[str, Any], now: float) -> Credentials:
    """Credentials from an OAuth token answer (expires_in seconds); a missing refresh token keeps the old one."""
    access = record.get("access_token")
    if not isinstance(access, str) or not access:
        raise PostError(ErrorKind.RETRYABLE, "token refresh: answer has no access_token")
    expires_in = float(record.get("expires_in") or 0)
    refresh_in = float(record.get("refresh_expires_in") or record.get("refresh_token_expires_in") or 0)
    return replace(
        old,
        access_token=access,
        refresh_token=record.get("refresh_token") or old.refresh_token,
        access_expires_at=now + expires_in if expires_in else 0.0,
        refresh_expires_at=now + refresh_in if refresh_in else old.refresh_expires_at,
        scope=record.get("scope", old.scope) or old.scope,
    )
