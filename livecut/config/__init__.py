"""Configuration: livecut/config/config.toml (shipped in the package) holds every default; a user file overrides keys.

A user file only needs the keys it changes. Tables merge key by key; a key that the
defaults do not know is an error (a typo must not silently do nothing), except under
`taxonomy`, where a user adds classes, and `catalog.platforms`, where a user overrides profile values.
"""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parent / "config.toml"
# Relative paths in the config (the shipped classifier model, say) are relative to the folder that
# holds the packages: the repository in a checkout, site-packages in an installed wheel.
PACKAGES_ROOT = DEFAULT_CONFIG_PATH.parents[2]
# Tables where a user adds keys of their own: taxonomy classes, platform profile overrides.
OPEN_TABLES = ("taxonomy", "catalog.platforms")


class ConfigError(ValueError):
    """The configuration file is missing, unreadable or has an unknown key."""


def load_config(path: Path | str | None = None) -> dict[str, Any]:
    """The defaults, with the user's file (if any) merged over them."""
    config = _read_toml(DEFAULT_CONFIG_PATH)
    if path is not None:
        _merge(config, _read_toml(Path(path)), prefix="")
    return config


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as exc:
        raise ConfigError(f"config file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc


def _merge(base: dict[str, Any], override: dict[str, Any], prefix: str) -> None:
    for key, value in override.items():
        dotted = f"{prefix}{key}"
        is_open = any(dotted.startswith(f"{table}.") for table in OPEN_TABLES)
        if key not in base and not is_open:
            raise ConfigError(f"unknown config key: {dotted}")
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value, prefix=f"{dotted}.")
        else:
            base[key] = copy.deepcopy(value)


def expand_path(value: str) -> Path:
    return Path(value).expanduser()
