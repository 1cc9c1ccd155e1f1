"""Run the ffmpeg command-line tool; a failure raises RemixError with the step and ffmpeg's last lines."""

from __future__ import annotations

import re
import subprocess

from clipper.remix.errors import RemixError

_TAIL = 12
_INTEGRATED = re.compile(r"I:\s+(-?[\d.]+|-inf) LUFS")


def run_ffmpeg(args: list[str], what: str, ffmpeg: str = "ffmpeg", timeout: float = 600.0, level: str = "error") -> str:
    """Run ffmpeg with `args`; returns its stderr (for measurements printed there)."""
    cmd = [ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", level, *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=timeout, check=False)
    except FileNotFoundError as exc:
        raise RemixError(f"{what}: ffmpeg binary not found: {ffmpeg!r}") from exc
    except subprocess.TimeoutExpired as exc:
        raise RemixError(f"{what}: ffmpeg ran longer than {timeout:.0f}s") from exc
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-_TAIL:])
        raise RemixError(f"{what} failed (ffmpeg exit code {proc.returncode}):\n{tail}")
    return proc.stderr


def integrated_loudness(stderr: str) -> float | None:
    """The integrated loudness (LUFS) from the summary the ebur128 filter prints; None for silence."""
    found = _INTEGRATED.findall(stderr)
    if not found or found[-1] == "-inf":
        return None
    value = float(found[-1])
    return value if value > -70.0 else None
