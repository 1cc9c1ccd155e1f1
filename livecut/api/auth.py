"""Who is calling: a bearer API token or the page's session cookie, checked against the store on every request.

Nothing is cached, so a revoked token or a deleted user stops working at once. Routes
ask for a least role with `Authenticator.require`; no credentials is 401, too low a
role 403.
"""

import asyncio
import functools
import logging
import math
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response, Security
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from livecut.api.login_throttle import LoginThrottle
from livecut.api.models import Login, Me
from livecut.auth import Principal, hash_password, hash_secret, new_session_id, verify_password
from livecut.store import MetadataStore

log = logging.getLogger(__name__)

SESSION_COOKIE = "livecut_session"
SESSION_TTL_S = 12 * 3600

_bearer = HTTPBearer(auto_error=False, description="an API token (`livecut token create`, POST /api/tokens)")
_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="the session POST /api/login sets")
Credential = tuple[str, str]


@functools.cache
def _dummy_hash() -> str:
    """Checked against when the username is unknown, so a wrong name takes as long as a wrong password."""
    return hash_password(new_session_id())


class Authenticator:
    """Turns a request's credentials into a Principal; `require(role)` is a route dependency."""

    def __init__(self, store: MetadataStore) -> None:
        self.store = store

    def lookup(self, credential: Credential) -> Principal | None:
        """The principal a (kind, hash) credential stands for now; None once revoked, expired or deleted."""
        kind, secret_hash = credential
        user = self.store.user_by_token(secret_hash) if kind == "token" else self.store.user_by_session(secret_hash)
        return Principal(user["username"], user["tenant"], user["role"]) if user else None

    async def principal(
        self,
        request: Request,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
        session: Annotated[str | None, Security(_cookie)],
    ) -> Principal:
        if bearer is not None:
            credential = ("token", hash_secret(bearer.credentials))
        elif session:
            credential = ("session", hash_secret(session))
        else:
            raise HTTPException(401, "sign in: POST /api/login, or send Authorization: Bearer <token>")
        principal = self.lookup(credential)
        if principal is None:
            raise HTTPException(401, "invalid, revoked or expired credentials")
        request.state.credential = credential
        return principal

    def require(self, role: str) -> Callable[..., Any]:
        """A dependency giving the caller's Principal if its role is `role` or above."""

        async def dependency(principal: Annotated[Principal, Depends(self.principal)]) -> Principal:
            if not principal.can(role):
                raise HTTPException(403, f"needs the {role} role (you are {principal.role})")
            return principal

        return dependency


def too_many_attempts(wait_s: float) -> HTTPException:
    seconds = max(1, math.ceil(wait_s))
    return HTTPException(
        429, f"too many failed sign-ins: try again in {seconds} s", headers={"Retry-After": str(seconds)}
    )


def session_router(
    store: MetadataStore, auth: Authenticator, throttle: LoginThrottle, secure_cookies: bool = False
) -> APIRouter:
    """Login, logout and who am I, for the operator web page. `secure_cookies`: the session cookie
    is sent only over HTTPS (set it behind a TLS proxy, where the app itself sees plain HTTP)."""
    router = APIRouter(tags=["session"])

    @router.post(
        "/api/login",
        responses={
            401: {"description": "wrong username or password"},
            429: {"description": "too many failed sign-ins for this username or address; see Retry-After"},
        },
    )
    async def login(body: Login, request: Request, response: Response) -> Me:
        """Sign in with a password; sets the `livecut_session` cookie (HttpOnly, SameSite=Lax).
        Repeated failures per username and per client address are refused for a doubling time."""
        address = request.client.host if request.client else "unknown"
        wait_s = throttle.retry_after(body.username, address)
        if wait_s > 0:
            log.warning("sign-in of %r from %s refused: locked out for %.0f s more", body.username, address, wait_s)
            raise too_many_attempts(wait_s)
        stored = store.password_hash(body.username)
        valid = await asyncio.to_thread(verify_password, body.password, stored or _dummy_hash())
        user = store.user(body.username) if valid and stored else None
        if user is None:
            _record_failure(store, throttle, body.username, address)
            raise HTTPException(401, "wrong username or password")
        throttle.succeeded(body.username)
        session_id = new_session_id()
        store.create_session(hash_secret(session_id), user["username"], SESSION_TTL_S)
        response.set_cookie(
            SESSION_COOKIE,
            session_id,
            max_age=SESSION_TTL_S,
            path="/",
            httponly=True,
            samesite="lax",
            secure=secure_cookies or request.url.scheme == "https",
        )
        store.audit(user["username"], user["tenant"], "login", f"user:{user['username']}")
        return Me(username=user["username"], tenant=user["tenant"], role=user["role"])

    @router.post("/api/logout")
    async def logout(
        request: Request, response: Response, session: Annotated[str | None, Security(_cookie)] = None
    ) -> dict[str, bool]:
        """End the cookie's session (if any) and clear the cookie."""
        if session:
            store.delete_session(hash_secret(session))
        secure = secure_cookies or request.url.scheme == "https"
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=secure)
        return {"logged_out": True}

    @router.get("/api/me", responses={401: {"description": "not signed in"}})
    async def me(principal: Annotated[Principal, Depends(auth.principal)]) -> Me:
        return Me(username=principal.username, tenant=principal.tenant, role=principal.role)

    return router


def _record_failure(store: MetadataStore, throttle: LoginThrottle, username: str, address: str) -> None:
    """A wrong password goes to the log and to the audit of the user's tenant (an unknown name has none:
    its row is under the empty tenant, which only the store's own audit listing shows)."""
    locked_s = throttle.failed(username, address)
    known = store.user(username)
    tenant = known["tenant"] if known else ""
    note = f"; locked out for {locked_s:.0f} s" if locked_s else ""
    log.warning("failed sign-in for %s%r from %s%s", "" if known else "unknown user ", username, address, note)
    detail = {"address": address, "known_user": known is not None, "locked_out_s": round(locked_s, 1)}
    store.audit(username if known else "", tenant, "login.failed", f"user:{username}", detail)
