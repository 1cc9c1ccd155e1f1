"""The `livecut` command line: a parser whose commands each live in their own module."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from livecut.cli import accounts as cli_accounts
from livecut.cli import catalog as cli_catalog
from livecut.cli import classify as cli_classify
from livecut.cli import clip as cli_clip
from livecut.cli import product as cli_product
from livecut.cli import remix as cli_remix
from livecut.cli import serve as cli_serve
from livecut.cli import users as cli_users
from livecut.cli import worker as cli_worker
from livecut.config import ConfigError, load_config
from livecut.observability.logs import configure_from_config

EPILOG = (
    "Every default is in livecut/config/config.toml (config.toml at the repository root); "
    "--config FILE overrides any of its keys."
)
COMMAND_MODULES = (
    cli_clip,
    cli_remix,
    cli_serve,
    cli_worker,
    cli_classify,
    cli_users,
    cli_accounts,
    cli_product,
    cli_catalog,
)


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    try:
        config = load_config(args.config)
        configure_from_config(config, worker=getattr(args, "worker_id", None), role=getattr(args, "role", None))
        return args.handler(args, config)
    except ConfigError as exc:
        print(f"livecut: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("livecut: interrupted", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="livecut",
        description="Turn live-commerce broadcasts into labeled, captioned clips of each selling point.",
        epilog=EPILOG,
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, help="TOML file whose keys override config.toml")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(commands, common, EPILOG)
    return parser


if __name__ == "__main__":
    sys.exit(main())
