"""Account routes: the platform accounts a tenant posts from, their encrypted credentials, pause and resume.

Another tenant's account is reported exactly like a missing one. Credentials are write-only: they
are encrypted with the key in the environment variable `[distribution] secret_key_env` and never
returned; without that key they are refused with 409 and nothing is written.
"""

import os
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException

from livecut.api.auth import Authenticator
from livecut.api.models import AccountCreate, AccountFields, AccountOut, CredentialsIn
from livecut.api.views import ApiContext
from livecut.auth import Principal
from livecut.runtime.posting import SecretKeyMissing, as_account, vault

# The posts of an account that wait while it is paused (those being sent or done are left alone).
HELD_POSTS = ("planned", "retry_wait", "waiting_reauth")


def find_account(ctx: ApiContext, principal: Principal, account_id: str) -> dict[str, Any]:
    account = ctx.store.account(account_id)
    if account is None or account["tenant"] != principal.tenant:
        raise HTTPException(404, f"account {account_id} not found")
    return account


def encrypt(ctx: ApiContext, body: CredentialsIn) -> bytes:
    """The credentials' ciphertext; 409 naming the environment variable when the server has no key."""
    from distribution import Credentials

    try:
        keeper = vault(ctx.distribution, os.environ)
    except SecretKeyMissing as exc:
        raise HTTPException(409, f"credentials cannot be stored: {exc}") from None
    now = time.time()
    credentials = Credentials(
        access_token=body.access_token,
        refresh_token=body.refresh_token,
        access_expires_at=now + body.expires_in if body.expires_in else 0.0,
        refresh_expires_at=now + body.refresh_expires_in if body.refresh_expires_in else 0.0,
        scope=body.scope,
    )
    return keeper.encrypt(credentials)


def checked(ctx: ApiContext, record: dict[str, Any]) -> dict[str, Any]:
    """The record as distribution validates it (422 naming the bad field), in the store's shape."""
    try:
        account = as_account(record, ctx.distribution)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    return record | {"windows": [_window_text(w) for w in account.windows], "extra": dict(account.extra)}


def _window_text(window: Any) -> str:
    return f"{window.start:%H:%M}-{window.end:%H:%M}"


def accounts_router(ctx: ApiContext, auth: Authenticator) -> APIRouter:
    router = APIRouter(tags=["accounts"])
    store = ctx.store
    Viewer = Annotated[Principal, Depends(auth.require("viewer"))]
    Operator = Annotated[Principal, Depends(auth.require("operator"))]
    Admin = Annotated[Principal, Depends(auth.require("admin"))]

    @router.get("/api/accounts")
    async def list_accounts(principal: Viewer, group: str | None = None) -> list[AccountOut]:
        """Your tenant's accounts (credentials are never shown: `has_credentials` says whether it has some)."""
        return [AccountOut(**a) for a in store.accounts(principal.tenant, group)]

    @router.post("/api/accounts", status_code=201, responses={409: {"description": "id taken, or no secret key"}})
    async def create_account(body: AccountCreate, admin: Admin) -> AccountOut:
        """Add an account of a known platform, with its credentials if given (encrypted at once)."""
        fields = body.model_dump(exclude={"credentials"}, exclude_none=True)
        record = checked(ctx, fields | {"tenant": admin.tenant, "status": "active"})
        ciphertext = encrypt(ctx, body.credentials) if body.credentials else None
        if not store.create_account(record):
            raise HTTPException(409, f"account id {body.account_id} is taken")
        if ciphertext is not None:
            store.set_account_credentials(body.account_id, ciphertext)
        detail = {"platform": body.platform, "group": record.get("group", ""), "credentials": ciphertext is not None}
        store.audit(admin.username, admin.tenant, "account.create", f"account:{body.account_id}", detail)
        return AccountOut(**find_account(ctx, admin, body.account_id))

    @router.get("/api/accounts/{account_id}")
    async def get_account(account_id: str, principal: Viewer) -> AccountOut:
        return AccountOut(**find_account(ctx, principal, account_id))

    @router.patch("/api/accounts/{account_id}")
    async def update_account(account_id: str, body: AccountFields, admin: Admin) -> AccountOut:
        """Change an account's name, group, windows, time zone, cap, spacing or platform ids."""
        current = find_account(ctx, admin, account_id)
        record = checked(ctx, current | body.model_dump(exclude_none=True))
        store.update_account(record)
        store.audit(
            admin.username, admin.tenant, "account.update", f"account:{account_id}", body.model_dump(exclude_none=True)
        )
        return AccountOut(**find_account(ctx, admin, account_id))

    @router.put("/api/accounts/{account_id}/credentials", responses={409: {"description": "no secret key"}})
    async def set_credentials(account_id: str, body: CredentialsIn, admin: Admin) -> AccountOut:
        """Connect (or reconnect) an account: its tokens are encrypted and stored; an account that
        needed re-authorisation becomes active and its waiting posts are tried again."""
        account = find_account(ctx, admin, account_id)
        store.set_account_credentials(account_id, encrypt(ctx, body))
        if account["status"] == "needs_reauth":
            store.set_account_status(account_id, "active")
        for post in store.posts(admin.tenant, account_id=account_id, status="waiting_reauth", limit=10_000):
            store.set_post_status(
                post["post_id"], "planned", reason="account reconnected", only_from=("waiting_reauth",)
            )
        store.audit(admin.username, admin.tenant, "account.credentials", f"account:{account_id}")
        return AccountOut(**find_account(ctx, admin, account_id))

    @router.delete("/api/accounts/{account_id}")
    async def delete_account(account_id: str, admin: Admin) -> AccountOut:
        """Remove an account and its credentials; its posts not yet sent are cancelled."""
        account = find_account(ctx, admin, account_id)
        store.delete_account(account_id)
        store.audit(admin.username, admin.tenant, "account.delete", f"account:{account_id}")
        return AccountOut(**account)

    @router.post("/api/accounts/{account_id}/pause")
    async def pause_account(account_id: str, operator: Operator) -> AccountOut:
        """Stop posting from the account: its planned posts wait (paused) until it is resumed."""
        find_account(ctx, operator, account_id)
        store.set_account_status(account_id, "paused")
        for post in store.posts(operator.tenant, account_id=account_id, limit=100_000):
            store.set_post_status(post["post_id"], "paused", only_from=HELD_POSTS)
        store.audit(operator.username, operator.tenant, "account.pause", f"account:{account_id}")
        return AccountOut(**find_account(ctx, operator, account_id))

    @router.post("/api/accounts/{account_id}/resume")
    async def resume_account(account_id: str, operator: Operator) -> AccountOut:
        """Post from the account again: paused posts whose time is ahead are planned again; those whose
        time passed are cancelled (posting them all at once would break the spacing), freeing their
        clips for the next plan."""
        account = find_account(ctx, operator, account_id)
        if account["status"] not in ("paused", "active"):
            raise HTTPException(409, f"account {account_id} is {account['status']}: reconnect it instead")
        store.set_account_status(account_id, "active")
        now = time.time()
        for post in store.posts(operator.tenant, account_id=account_id, status="paused", limit=100_000):
            status, reason = ("planned", None) if post["at"] > now else ("cancelled", "its time passed while paused")
            store.set_post_status(post["post_id"], status, reason=reason, only_from=("paused",))
        store.audit(operator.username, operator.tenant, "account.resume", f"account:{account_id}")
        return AccountOut(**find_account(ctx, operator, account_id))

    return router
