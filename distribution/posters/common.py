"""What the posters share: the create-once guard and error-code lookup."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from distribution.errors import ErrorKind, PostError
from distribution.journal import Session


def kind_of_code(code: Any, table: dict[str, str], default: ErrorKind = ErrorKind.PERMANENT) -> ErrorKind:
    kind = table.get(str(code))
    return ErrorKind(kind) if kind else default


def create_once(session: Session, key: str, call: Callable[[], str], what: str) -> str:
    """Run the call that makes the post visible (create, publish) at most once per post.

    A flag is saved before the call and the platform's id right after it. A flag without an id
    means a worker died, or the connection broke, while the call was in flight: the video may exist,
    so the post becomes UNCERTAIN for a person instead of risking a second video.
    """
    if session.get(key):
        return session.get(key)
    if session.get(f"{key}_pending"):
        raise PostError(
            ErrorKind.UNCERTAIN,
            f"{what} was in flight when the last attempt stopped; check the account before posting again",
        )
    session.update(**{f"{key}_pending": True})
    try:
        value = call()
    except PostError as exc:
        # Only a refusal with the platform's own code (or a request never sent) proves nothing was
        # created; a broken connection or an unreadable 2xx reply may hide a new video.
        if exc.kind is not ErrorKind.UNCERTAIN and (exc.platform_code is not None or exc.never_sent):
            session.update(**{f"{key}_pending": False})
            raise
        raise PostError(ErrorKind.UNCERTAIN, f"{what}: no clear answer ({exc.reason}); check the account") from None
    session.update(**{key: value, f"{key}_pending": False})
    return value
