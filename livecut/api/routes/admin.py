"""Admin routes: the users and API tokens of the admin's tenant, room grants to MCN tenants, the audit log.

An admin manages only its own tenant: a user, token or room of another tenant is
reported as not found.
"""

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query

from livecut.api.auth import Authenticator
from livecut.api.models import (
    AuditEntry,
    GrantCreate,
    GrantOut,
    PasswordChange,
    TokenCreate,
    TokenOut,
    UserCreate,
    UserOut,
)
from livecut.auth import Principal, hash_password, hash_secret, new_password, new_token
from livecut.store import MetadataStore
from livecut.store.tenancy import GrantError


def admin_router(store: MetadataStore, auth: Authenticator) -> APIRouter:
    router = APIRouter(tags=["admin"])
    Admin = Annotated[Principal, Depends(auth.require("admin"))]

    def own_user(admin: Principal, username: str) -> dict[str, Any]:
        user = store.user(username)
        if user is None or user["tenant"] != admin.tenant:
            raise HTTPException(404, f"user {username} not found")
        return user

    @router.get("/api/users")
    async def list_users(admin: Admin) -> list[UserOut]:
        return [UserOut(**u) for u in store.users(admin.tenant)]

    @router.post("/api/users", status_code=201, responses={409: {"description": "the username is not available"}})
    async def create_user(body: UserCreate, admin: Admin) -> UserOut:
        """Add a user to your tenant; without a password in the body one is generated and returned once.
        Usernames are global (they sign in alone), so a taken name is refused with one answer whoever
        holds it: the reply never says whether another tenant has that user."""
        password = body.password or new_password()
        hashed = await asyncio.to_thread(hash_password, password)
        if not store.create_user(body.username, admin.tenant, body.role, hashed):
            store.audit(admin.username, admin.tenant, "user.create.refused", f"user:{body.username}")
            raise HTTPException(409, f"username {body.username} is not available: choose another")
        store.audit(admin.username, admin.tenant, "user.create", f"user:{body.username}", {"role": body.role})
        return UserOut(**own_user(admin, body.username), password=None if body.password else password)

    @router.delete("/api/users/{username}")
    async def delete_user(username: str, admin: Admin) -> UserOut:
        """Remove a user of your tenant; its sessions end and its tokens are revoked at once."""
        user = own_user(admin, username)
        if username == admin.username:
            raise HTTPException(409, "you cannot delete yourself")
        store.delete_user(username)
        store.audit(admin.username, admin.tenant, "user.delete", f"user:{username}")
        return UserOut(**user)

    @router.post("/api/users/{username}/password")
    async def set_password(username: str, body: PasswordChange, admin: Admin) -> UserOut:
        """Set a user's password (generated and returned once if left out); its sessions end."""
        user = own_user(admin, username)
        password = body.password or new_password()
        store.set_password(username, await asyncio.to_thread(hash_password, password))
        store.audit(admin.username, admin.tenant, "user.passwd", f"user:{username}")
        return UserOut(**user, password=None if body.password else password)

    @router.get("/api/tokens")
    async def list_tokens(admin: Admin) -> list[TokenOut]:
        return [TokenOut(**t) for t in store.tokens(admin.tenant)]

    @router.post("/api/tokens", status_code=201)
    async def create_token(body: TokenCreate, admin: Admin) -> TokenOut:
        """An API token for a user of your tenant (default: you). The token is in this reply only."""
        user = own_user(admin, body.username or admin.username)
        token = new_token()
        made = store.create_token(user["username"], body.name, hash_secret(token))
        store.audit(admin.username, admin.tenant, "token.create", f"token:{made['id']}", {"user": user["username"]})
        return TokenOut(**made, token=token)

    @router.delete("/api/tokens/{token_id}")
    async def revoke_token(token_id: str, admin: Admin) -> TokenOut:
        """Revoke a token of your tenant; it stops working at once."""
        token = store.token(token_id)
        if token is None or token["tenant"] != admin.tenant:
            raise HTTPException(404, f"token {token_id} not found")
        store.revoke_token(token_id)
        store.audit(admin.username, admin.tenant, "token.revoke", f"token:{token_id}")
        revoked = store.token(token_id)
        if revoked is None:  # its user was deleted meanwhile
            raise HTTPException(404, f"token {token_id} not found")
        return TokenOut(**revoked)

    @router.get("/api/grants")
    async def list_grants(admin: Admin) -> list[GrantOut]:
        """Grants of your tenant's rooms, and rooms granted to your tenant."""
        return [GrantOut(**g) for g in store.grants(admin.tenant)]

    @router.post("/api/grants", status_code=201)
    async def grant_room(body: GrantCreate, admin: Admin) -> GrantOut:
        """Let an MCN tenant see and work on a room of your (brand) tenant."""
        room = store.room(body.room)
        if room is None or room.tenant != admin.tenant:
            raise HTTPException(404, f"room {body.room} not found")
        try:
            store.grant_room(body.tenant, body.room)
        except GrantError as exc:
            raise HTTPException(422, str(exc)) from None
        store.audit(
            admin.username, admin.tenant, "grant.create", f"room:{body.room}", {"tenant": body.tenant}, body.room
        )
        return next(GrantOut(**g) for g in store.grants(body.tenant) if g["room"] == body.room)

    @router.delete("/api/grants/{tenant}/{room_id}")
    async def revoke_grant(tenant: str, room_id: str, admin: Admin) -> GrantOut:
        grant = next((g for g in store.grants(admin.tenant) if (g["tenant"], g["room"]) == (tenant, room_id)), None)
        if grant is None or grant["owner"] != admin.tenant:
            raise HTTPException(404, f"no grant of room {room_id} to {tenant}")
        store.revoke_grant(tenant, room_id)
        store.audit(admin.username, admin.tenant, "grant.delete", f"room:{room_id}", {"tenant": tenant}, room_id)
        return GrantOut(**grant)

    @router.get("/api/audit")
    async def audit_log(
        admin: Admin,
        since: Annotated[
            float | None, Query(description="only entries after this Unix time", allow_inf_nan=False)
        ] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[AuditEntry]:
        """Writes by your tenant's users and on your tenant's rooms, newest first."""
        return [AuditEntry(**row) for row in store.audit_log(admin.tenant, since=since, limit=limit)]

    return router
