"""Why a post did not go through, sorted into the classes the retry policy acts on.

Every poster turns a platform's answer into one `PostError` with one `ErrorKind`; the policy in
`retry.py` decides from the kind alone, so a new platform only has to map its codes.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorKind(StrEnum):
    RETRYABLE = "retryable"  # busy, network, 5xx, a malformed reply: try again after a backoff
    RATE_LIMITED = "rate_limited"  # too many requests: wait for the platform's window
    QUOTA = "quota"  # the account's posting quota is used: wait for the account's next window
    TOKEN_EXPIRED = "token_expired"  # refresh the access token, then retry at once
    NEEDS_REAUTH = "needs_reauth"  # the refresh token is refused too: a person must reconnect the account
    PERMANENT = "permanent"  # spec violation, banned account, bad parameters: fail with the reason
    UNCERTAIN = "uncertain"  # a create/publish call may have happened: never repeat it, a person checks


class PostError(Exception):
    """A failed step of a post, with the platform's own code and words kept for the operator."""

    def __init__(
        self,
        kind: ErrorKind,
        reason: str,
        *,
        platform_code: str | int | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(f"{kind}: {reason}")
        self.kind = kind
        self.reason = reason
        self.platform_code = platform_code
        self.retry_after_s = retry_after_s
        # True when the request never left this machine (the connection was refused).
        self.never_sent = False

    def to_record(self) -> dict:
        return {
            "kind": str(self.kind),
            "reason": self.reason,
            "platform_code": self.platform_code,
            "retry_after_s": self.retry_after_s,
        }


def http_status_error(status: int, what: str, body: bytes, retry_after: str | None = None) -> PostError:
    """The class of an HTTP status when the platform's body gives nothing more specific."""
    snippet = body[:300].decode("utf-8", "replace")
    reason = f"{what}: HTTP {status} {snippet}".strip()
    wait = _seconds(retry_after)
    if status == 429:
        return PostError(ErrorKind.RATE_LIMITED, reason, platform_code=status, retry_after_s=wait)
    if status == 401:
        return PostError(ErrorKind.TOKEN_EXPIRED, reason, platform_code=status)
    if status >= 500 or status in (408, 425):
        return PostError(ErrorKind.RETRYABLE, reason, platform_code=status, retry_after_s=wait)
    return PostError(ErrorKind.PERMANENT, reason, platform_code=status)


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
