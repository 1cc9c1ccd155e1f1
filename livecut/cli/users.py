"""`livecut user`, `livecut token`, `livecut tenant`: accounts in the configured metadata store.

These run on the machine's own store (SQLite in paths.data_dir or the PostgreSQL of
store.url), as the operator of the installation: they are not limited to one tenant.
Passwords and tokens are printed once and kept only as hashes; each change is audited
as user "(cli)".
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable

from livecut.auth import (
    ROLES,
    TENANT_KINDS,
    TENANT_PATTERN,
    USERNAME_PATTERN,
    hash_password,
    hash_secret,
    new_password,
    new_token,
)
from livecut.config import ConfigError
from livecut.store import MetadataStore, build_metadata_store
from livecut.store.tenancy import GrantError

CLI_USER = "(cli)"
MIN_PASSWORD = 8


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser, epilog: str) -> None:
    _register_user(commands, common, epilog)
    _register_token(commands, common, epilog)
    _register_tenant(commands, common, epilog)


def _register_user(commands: argparse._SubParsersAction, common: argparse.ArgumentParser, epilog: str) -> None:
    user = commands.add_parser("user", help="add users, set passwords", epilog=epilog)
    actions = user.add_subparsers(title="actions", metavar="ACTION", required=True)
    add = actions.add_parser(
        "add",
        parents=[common],
        help="add a user to a tenant (made if missing)",
        description="Add a user. Its password is generated and printed once, or read from stdin.",
        epilog=epilog,
    )
    add.add_argument("username")
    add.add_argument("--tenant", required=True, help="the user's tenant (a brand or an MCN); made if missing")
    add.add_argument("--tenant-kind", choices=TENANT_KINDS, help="kind of a new tenant (default: brand)")
    add.add_argument("--role", choices=ROLES, default="viewer")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin's first line")
    add.set_defaults(handler=_with_store(_user_add))
    passwd = actions.add_parser("passwd", parents=[common], help="set a user's password (ends its sessions)")
    passwd.add_argument("username")
    passwd.add_argument("--password-stdin", action="store_true", help="read the password from stdin's first line")
    passwd.set_defaults(handler=_with_store(_user_passwd))
    listing = actions.add_parser("list", parents=[common], help="list users")
    listing.set_defaults(handler=_with_store(_user_list))


def _register_token(commands: argparse._SubParsersAction, common: argparse.ArgumentParser, epilog: str) -> None:
    token = commands.add_parser("token", help="create, list and revoke API tokens", epilog=epilog)
    actions = token.add_subparsers(title="actions", metavar="ACTION", required=True)
    create = actions.add_parser("create", parents=[common], help="make an API token for a user; printed once")
    create.add_argument("username")
    create.add_argument("--name", default="cli", help="a label to tell tokens apart")
    create.set_defaults(handler=_with_store(_token_create))
    revoke = actions.add_parser("revoke", parents=[common], help="revoke a token by its id (see token list)")
    revoke.add_argument("token_id")
    revoke.set_defaults(handler=_with_store(_token_revoke))
    listing = actions.add_parser("list", parents=[common], help="list tokens (ids and labels, never the tokens)")
    listing.set_defaults(handler=_with_store(_token_list))


def _register_tenant(commands: argparse._SubParsersAction, common: argparse.ArgumentParser, epilog: str) -> None:
    tenant = commands.add_parser("tenant", help="grant a brand's rooms to an MCN tenant", epilog=epilog)
    actions = tenant.add_subparsers(title="actions", metavar="ACTION", required=True)
    grant = actions.add_parser("grant", parents=[common], help="let an MCN tenant see and work on a brand's room")
    grant.add_argument("mcn_tenant")
    grant.add_argument("room_id")
    grant.set_defaults(handler=_with_store(_tenant_grant))
    listing = actions.add_parser("list", parents=[common], help="list tenants")
    listing.set_defaults(handler=_with_store(_tenant_list))


Handler = Callable[[argparse.Namespace, MetadataStore], int]


def _with_store(handler: Handler) -> Callable[[argparse.Namespace, dict], int]:
    def run(args: argparse.Namespace, config: dict) -> int:
        store = build_metadata_store(config)
        try:
            return handler(args, store)
        finally:
            store.close()

    return run


def _user_add(args: argparse.Namespace, store: MetadataStore) -> int:
    _check(USERNAME_PATTERN, args.username, "username")
    _check(TENANT_PATTERN, args.tenant, "tenant name")
    tenant = store.ensure_tenant(args.tenant, args.tenant_kind or "brand")
    if args.tenant_kind and tenant["kind"] != args.tenant_kind:
        raise ConfigError(f"tenant {args.tenant} exists and is a {tenant['kind']}, not a {args.tenant_kind}")
    password = _read_password() if args.password_stdin else new_password()
    if not store.create_user(args.username, tenant["name"], args.role, hash_password(password)):
        raise ConfigError(f"username {args.username} is taken")
    store.audit(CLI_USER, tenant["name"], "user.create", f"user:{args.username}", {"role": args.role})
    print(f"user {args.username} ({args.role}) added to {tenant['kind']} tenant {tenant['name']}")
    if not args.password_stdin:
        print(f"password: {password}  (shown once)")
    return 0


def _user_passwd(args: argparse.Namespace, store: MetadataStore) -> int:
    user = store.user(args.username)
    if user is None:
        raise ConfigError(f"no user {args.username}")
    password = _read_password() if args.password_stdin else new_password()
    store.set_password(args.username, hash_password(password))
    store.audit(CLI_USER, user["tenant"], "user.passwd", f"user:{args.username}")
    print(f"password of {args.username} changed; its sessions ended")
    if not args.password_stdin:
        print(f"password: {password}  (shown once)")
    return 0


def _user_list(args: argparse.Namespace, store: MetadataStore) -> int:
    for user in store.users():
        print(f"{user['username']:24} {user['role']:9} {user['tenant']}")
    return 0


def _token_create(args: argparse.Namespace, store: MetadataStore) -> int:
    user = store.user(args.username)
    if user is None:
        raise ConfigError(f"no user {args.username}")
    token = new_token()
    made = store.create_token(args.username, args.name, hash_secret(token))
    store.audit(CLI_USER, user["tenant"], "token.create", f"token:{made['id']}", {"user": args.username})
    print(f"token {made['id']} ({args.name}) for {args.username}; send it as Authorization: Bearer <token>")
    print(token)
    return 0


def _token_revoke(args: argparse.Namespace, store: MetadataStore) -> int:
    token = store.token(args.token_id)
    if token is None:
        raise ConfigError(f"no token {args.token_id}")
    if not store.revoke_token(args.token_id):
        print(f"token {args.token_id} was revoked already")
        return 0
    store.audit(CLI_USER, token["tenant"], "token.revoke", f"token:{args.token_id}")
    print(f"token {args.token_id} revoked")
    return 0


def _token_list(args: argparse.Namespace, store: MetadataStore) -> int:
    for token in store.tokens():
        state = "revoked" if token["revoked_at"] else "active"
        print(f"{token['id']:14} {state:8} {token['username']:24} {token['tenant']:16} {token['name']}")
    return 0


def _tenant_grant(args: argparse.Namespace, store: MetadataStore) -> int:
    room = store.room(args.room_id)
    if room is None:
        raise ConfigError(f"no room {args.room_id}")
    try:
        added = store.grant_room(args.mcn_tenant, args.room_id)
    except GrantError as exc:
        raise ConfigError(str(exc)) from None
    detail = {"tenant": args.mcn_tenant}
    store.audit(CLI_USER, room.tenant, "grant.create", f"room:{args.room_id}", detail, args.room_id)
    print(
        f"room {args.room_id} of {room.tenant} {'granted to' if added else 'was already granted to'} {args.mcn_tenant}"
    )
    return 0


def _tenant_list(args: argparse.Namespace, store: MetadataStore) -> int:
    for tenant in store.tenants():
        print(f"{tenant['name']:24} {tenant['kind']}")
    return 0


def _check(pattern: str, value: str, what: str) -> None:
    if not re.match(pattern, value):
        raise ConfigError(
            f"{what} {value!r} must be letters, digits and _.@- (up to 64), starting with a letter or digit"
        )


def _read_password() -> str:
    password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < MIN_PASSWORD:
        raise ConfigError(f"the password must have at least {MIN_PASSWORD} characters")
    return password
