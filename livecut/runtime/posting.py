"""What the post stage and the API share: the `[distribution]` section, the credential vault, each
platform's poster and token refresher, and a stored account as distribution's `Account`.

The distribution package (PyAV, PDQ) is imported inside the functions that need it, so the API
process loads it only when a distribution route runs. Secrets come from the environment only.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from livecut.config import expand_path

if TYPE_CHECKING:
    from distribution import Account, CredentialVault, PlatformRules, Poster, TokenRefresher


class SecretKeyMissing(RuntimeError):
    """Credentials cannot be encrypted or read: the key's environment variable is unset or not a Fernet key."""


@dataclass(frozen=True)
class DistributionSettings:
    secret_key_env: str = "LIVECUT_SECRET_KEY"
    refresh_margin_s: float = 600.0
    max_attempts: int = 6
    backoff_s: float = 30.0
    rate_limit_wait_s: float = 60.0
    duplicate_days: float = 30.0
    duplicate_threshold: float = 0.5
    max_accounts_per_group: int = 3
    jitter_s: float = 600.0
    lead_s: float = 120.0
    rules_dir: str = ""
    poll_s: float = 5.0
    lease_s: float = 1800.0
    metrics_every_s: float = 3600.0
    metrics_days: float = 7.0
    handoff_dir: Path = field(default_factory=lambda: Path(tempfile.gettempdir()) / "livecut-handoff")
    work_dir: Path = field(default_factory=lambda: Path(tempfile.gettempdir()) / "livecut-post")
    # platform -> its table ([distribution.douyin] ...)
    platforms: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def rules_folder(self) -> Path | None:
        return expand_path(self.rules_dir) if self.rules_dir else None


def distribution_settings(config: dict[str, Any]) -> DistributionSettings:
    section = dict(config["distribution"])
    platforms = {k: v for k, v in section.items() if isinstance(v, dict)}
    scalars = {k: v for k, v in section.items() if not isinstance(v, dict)}
    data_dir = expand_path(config["paths"]["data_dir"])
    handoff = scalars.pop("handoff_dir", "")
    work = scalars.pop("work_dir", "")
    return DistributionSettings(
        **scalars,
        handoff_dir=expand_path(handoff) if handoff else data_dir / "handoff",
        work_dir=expand_path(work) if work else Path(tempfile.gettempdir()) / "livecut-post",
        platforms=platforms,
    )


def vault(settings: DistributionSettings, environ: Mapping[str, str] | None = None) -> CredentialVault:
    """The vault of the key in `secret_key_env`; SecretKeyMissing when it is unset or malformed."""
    from distribution import CredentialVault

    try:
        return CredentialVault(settings.secret_key_env, dict(environ if environ is not None else os.environ))
    except ValueError as exc:
        raise SecretKeyMissing(f"{exc} (make one with `livecut secret-key`)") from None


def known_platforms(settings: DistributionSettings) -> set[str]:
    from distribution import known_platforms as known
    from distribution.rules import PLATFORMS_DIR

    return known(settings.rules_folder or PLATFORMS_DIR)


def rules_for(settings: DistributionSettings, platform: str) -> PlatformRules:
    from distribution import load_rules
    from distribution.rules import PLATFORMS_DIR

    return load_rules(platform, settings.rules_folder or PLATFORMS_DIR)


def as_account(row: dict[str, Any], settings: DistributionSettings, platforms: set[str] | None = None) -> Account:
    """A stored account row as distribution's Account (ValueError naming a bad field); pass `platforms`
    (known_platforms) when converting many rows."""
    from distribution import account_from_record

    return account_from_record(row, platforms if platforms is not None else known_platforms(settings))


def poster_for_platform(
    settings: DistributionSettings, rules: PlatformRules, environ: Mapping[str, str] | None = None
) -> Poster:
    """The poster a platform's rules name, with its [distribution.<platform>] table and secrets from the env."""
    from distribution import poster_for

    environ = environ if environ is not None else os.environ
    table = settings.platforms.get(rules.name, {})
    options: dict[str, Any] = {k: table[k] for k in ("base_url", "timeout_s", "upload_scheme") if table.get(k)}
    options["app_id"] = environ.get(table.get("client_id_env", ""), "")
    options["secret"] = environ.get(table.get("secret_env", ""), "").encode()
    options["media_base_url"] = table.get("media_base_url", "")
    options["queue_dir"] = str(settings.handoff_dir)
    return poster_for(rules, options)


def refresher_for(
    settings: DistributionSettings, platform: str, environ: Mapping[str, str] | None = None
) -> TokenRefresher | None:
    """The platform's OAuth refresher when it has one and the app's id is in the environment, else None
    (an expiring token then moves the account to needs_reauth)."""
    from distribution import AppCredentials, OAuthRefresher
    from distribution.oauth import TOKEN_ENDPOINTS

    environ = environ if environ is not None else os.environ
    table = settings.platforms.get(platform, {})
    client_id = environ.get(table.get("client_id_env", ""), "")
    if platform not in TOKEN_ENDPOINTS or not client_id:
        return None
    secret = environ.get(table.get("client_secret_env", ""), "")
    timeout = float(table.get("timeout_s") or 30.0)
    return OAuthRefresher(platform, AppCredentials(client_id, secret), table.get("base_url", ""), timeout)
