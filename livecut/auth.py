"""Credentials: salted scrypt password hashes, random API tokens and session ids kept only as hashes, roles.

The store keeps what these functions make (livecut/store_tenancy.py) and the API checks
requests with them (livecut/api_auth.py); only the first start's admin is written from here.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from livecut.store.tenancy import TenancyStore

ROLES = ("viewer", "operator", "admin")
Role = Literal["viewer", "operator", "admin"]  # one of ROLES
TENANT_KINDS = ("brand", "mcn")
TOKEN_PREFIX = "lc_"
# scrypt cost: about 50 ms and 16 MiB per check, so a stolen table is slow to guess from.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SCRYPT_MAXMEM = 64 * 1024 * 1024
USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$"
TENANT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


@dataclass(frozen=True)
class Principal:
    """Who makes a request: a user of one tenant, with a role."""

    username: str
    tenant: str
    role: Role

    def can(self, role: str) -> bool:
        """Whether this principal's role is `role` or above it (viewer < operator < admin)."""
        return ROLES.index(self.role) >= ROLES.index(role)


def hash_password(password: str) -> str:
    """`scrypt$N$r$p$salt$hash`, salt and hash in hex."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        computed = _scrypt(password, bytes.fromhex(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(computed.hex(), digest)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=SCRYPT_MAXMEM, dklen=32)


def new_password() -> str:
    return secrets.token_urlsafe(12)


def new_token() -> str:
    """A random API token; it is shown once and only its hash_secret() is kept."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """sha256 hex of a token or session id: they are long and random, so no salt or slow hash is needed."""
    return hashlib.sha256(secret.encode()).hexdigest()


ADMIN_PASSWORD_ENV = "LIVECUT_ADMIN_PASSWORD"
FIRST_TENANT, FIRST_TENANT_KIND, FIRST_ADMIN = "default", "mcn", "admin"


def first_start_admin(store: TenancyStore, environ: Mapping[str, str]) -> str | None:
    """On a store without users, create tenant "default" (an MCN) and its user "admin".

    Returns the generated password to show once; None when there were users already, or
    when the password came from LIVECUT_ADMIN_PASSWORD (it is not shown then). Of processes
    racing here only one creates the admin.
    """
    if store.has_users():
        return None
    given = environ.get(ADMIN_PASSWORD_ENV)
    password = given or new_password()
    store.ensure_tenant(FIRST_TENANT, FIRST_TENANT_KIND)
    if not store.create_user(FIRST_ADMIN, FIRST_TENANT, "admin", hash_password(password)):
        return None
    store.audit("(first start)", FIRST_TENANT, "user.create", f"user:{FIRST_ADMIN}", {"role": "admin"})
    return None if given else password
