"""`livecut account add|list|remove` (platform accounts in the configured store) and `livecut secret-key`.

Credentials are read as JSON from stdin (never from the command line, where `ps` and the shell
history would keep them) and encrypted with the key in `[distribution] secret_key_env` before they
reach the store. Each change is audited as user "(cli)".
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from livecut.config import ConfigError
from livecut.runtime.posting import SecretKeyMissing, as_account, distribution_settings, vault
from livecut.store import build_metadata_store

CLI_USER = "(cli)"
CREDENTIAL_FIELDS = ("access_token", "refresh_token", "expires_in", "refresh_expires_in", "scope")


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser, epilog: str) -> None:
    account = commands.add_parser("account", help="add, list and remove the platform accounts clips are posted to")
    actions = account.add_subparsers(title="actions", metavar="ACTION", required=True)
    add = actions.add_parser(
        "add",
        parents=[common],
        help="add an account of a tenant",
        description="Add a platform account. With --credentials-stdin, a JSON object "
        '{"access_token": ..., "refresh_token": ..., "expires_in": seconds} is read from stdin and stored '
        "encrypted with the key in the environment variable [distribution] secret_key_env.",
        epilog=epilog,
    )
    add.add_argument("account_id")
    add.add_argument("--tenant", required=True)
    add.add_argument("--platform", required=True, help="douyin, kuaishou, tiktok, youtube, webhook, xiaohongshu ...")
    add.add_argument("--name", required=True, help="the account's display name")
    add.add_argument("--group", default="", help="the account group plans are made for")
    add.add_argument("--window", action="append", dest="windows", help="HH:MM-HH:MM, local time; repeatable")
    add.add_argument("--timezone", default="Asia/Shanghai")
    add.add_argument("--daily-cap", type=int, default=10)
    add.add_argument("--min-spacing-s", type=int, default=1800)
    add.add_argument("--extra", action="append", default=[], metavar="KEY=VALUE", help="platform id, e.g. open_id=…")
    add.add_argument("--credentials-stdin", action="store_true", help="read the account's tokens as JSON from stdin")
    add.set_defaults(handler=_account_add)
    listing = actions.add_parser("list", parents=[common], help="list accounts (never their credentials)")
    listing.add_argument("--tenant", required=True)
    listing.set_defaults(handler=_account_list)
    remove = actions.add_parser("remove", parents=[common], help="remove an account; its unsent posts are cancelled")
    remove.add_argument("account_id")
    remove.set_defaults(handler=_account_remove)
    key = commands.add_parser(
        "secret-key",
        parents=[common],
        help="print a new key for encrypting account credentials",
        description="Print a new Fernet key. Put it in the environment variable named by "
        "[distribution] secret_key_env (LIVECUT_SECRET_KEY) of every API and post process; "
        "credentials stored under one key cannot be read with another.",
        epilog=epilog,
    )
    key.set_defaults(handler=_secret_key)


def _account_add(args: argparse.Namespace, config: dict) -> int:
    settings = distribution_settings(config)
    extra = {}
    for item in args.extra:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ConfigError(f"--extra {item!r}: expected KEY=VALUE")
        extra[name] = value
    record = {
        "account_id": args.account_id,
        "tenant": args.tenant,
        "platform": args.platform,
        "display_name": args.name,
        "group": args.group,
        "windows": args.windows or ["08:00-23:00"],
        "timezone": args.timezone,
        "daily_cap": args.daily_cap,
        "min_spacing_s": args.min_spacing_s,
        "extra": extra,
        "status": "active",
    }
    try:
        as_account(record, settings)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    ciphertext = _read_credentials(settings) if args.credentials_stdin else None
    store = build_metadata_store(config)
    try:
        store.ensure_tenant(args.tenant, "brand")
        if not store.create_account(record):
            raise ConfigError(f"account id {args.account_id} is taken")
        if ciphertext is not None:
            store.set_account_credentials(args.account_id, ciphertext)
        detail = {"platform": args.platform, "group": args.group, "credentials": ciphertext is not None}
        store.audit(CLI_USER, args.tenant, "account.create", f"account:{args.account_id}", detail)
    finally:
        store.close()
    connected = "with credentials" if ciphertext is not None else "without credentials (PUT them through the API)"
    print(f"account {args.account_id} ({args.platform}) added to tenant {args.tenant}, {connected}")
    return 0


def _read_credentials(settings) -> bytes:
    from distribution import Credentials

    try:
        keeper = vault(settings)
    except SecretKeyMissing as exc:
        raise ConfigError(str(exc)) from None
    try:
        record = json.loads(sys.stdin.read())
    except json.JSONDecodeError as exc:
        raise ConfigError(f"credentials on stdin: not JSON ({exc.msg})") from None
    if not isinstance(record, dict) or not isinstance(record.get("access_token"), str) or not record["access_token"]:
        raise ConfigError("credentials on stdin: access_token is required, a non-empty string")
    unknown = set(record) - set(CREDENTIAL_FIELDS)
    if unknown:
        raise ConfigError(f"credentials on stdin: unknown fields {sorted(unknown)}; known: {list(CREDENTIAL_FIELDS)}")
    now = time.time()
    try:
        expires_in = float(record.get("expires_in") or 0)
        refresh_in = float(record.get("refresh_expires_in") or 0)
    except (TypeError, ValueError):
        raise ConfigError("credentials on stdin: expires_in and refresh_expires_in are seconds") from None
    credentials = Credentials(
        access_token=record["access_token"],
        refresh_token=str(record.get("refresh_token") or ""),
        access_expires_at=now + expires_in if expires_in else 0.0,
        refresh_expires_at=now + refresh_in if refresh_in else 0.0,
        scope=str(record.get("scope") or ""),
    )
    return keeper.encrypt(credentials)


def _account_list(args: argparse.Namespace, config: dict) -> int:
    store = build_metadata_store(config)
    try:
        for account in store.accounts(args.tenant):
            connected = "connected" if account["has_credentials"] else "no-credentials"
            print(
                f"{account['account_id']:24} {account['platform']:12} {account['status']:13} {connected:15} "
                f"{account['group'] or '-':12} {account['display_name']}"
            )
    finally:
        store.close()
    return 0


def _account_remove(args: argparse.Namespace, config: dict) -> int:
    store = build_metadata_store(config)
    try:
        account = store.account(args.account_id)
        if account is None:
            raise ConfigError(f"no account {args.account_id}")
        store.delete_account(args.account_id)
        store.audit(CLI_USER, account["tenant"], "account.delete", f"account:{args.account_id}")
    finally:
        store.close()
    print(f"account {args.account_id} removed; its unsent posts are cancelled")
    return 0


def _secret_key(args: argparse.Namespace, config: dict) -> int:
    from cryptography.fernet import Fernet

    print(Fernet.generate_key().decode())
    return 0
