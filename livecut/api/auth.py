"""Who is calling: a bearer API token or the page's session cookie, checked against the store on every request.

Nothing is cached, so a revoked token or a deleted user stops working at once. Routes
ask for a least role with `Authenticator.require`; no credentials is 401, too low a
role 403.
"""

import asyncio
import functools
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response, Security
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from livecut.api.models import Login, Me
from livecut.auth import Principal, hash_password, hash_secret, new_session_id, verify_password
from livecut.store import MetadataStore

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


def session_router(store: MetadataStore, auth: Authenticator) -> APIRouter:
    """Login, logout and who am I, for the operator web page."""
    router = APIRouter(tags=["session"])

    @router.post("/api/login", responses={401: {"description": "wrong username or password"}})
    async def login(body: Login, request: Request, response: Response) -> Me:
        """Sign in with a password; sets the `livecut_session` cookie (HttpOnly, SameSite=Lax)."""
        stored = store.password_hash(body.username)
        valid = await asyncio.to_thread(verify_password, body.password, stored or _dummy_hash())
        user = store.user(body.username) if valid and stored else None
        if user is None:
            raise HTTPException(401, "wrong username or password")
        session_id = new_session_id()
        store.create_session(hash_secret(session_id), user["username"], SESSION_TTL_S)
        response.set_cookie(
            SESSION_COOKIE,
            session_id,
            max_age=SESSION_TTL_S,
            path="/",
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
        store.audit(user["username"], user["tenant"], "login", f"user:{user['username']}")
        return Me(username=user["username"], tenant=user["tenant"], role=user["role"])

    @router.post("/api/logout")
    async def logout(response: Response, session: Annotated[str | None, Security(_cookie)] = None) -> dict[str, bool]:
        """End the cookie's session (if any) and clear the cookie."""
        if session:
            store.delete_session(hash_secret(session))
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
        return {"logged_out": True}

    @router.get("/api/me", responses={401: {"description": "not signed in"}})
    async def me(principal: Annotated[Principal, Depends(auth.principal)]) -> Me:
        return Me(username=principal.username, tenant=principal.tenant, role=principal.role)

    return router
