"""Progress on a terminal for long jobs; silent when stderr is not a terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tqdm import tqdm


@contextmanager
def progress_bar(source: Path, duration: float | None) -> Iterator[Callable[[float], None]]:
    """Yields a callback taking the media time reached, in seconds."""
    bar = tqdm(
        total=round(duration, 1) if duration else None,
        desc=source.name,
        unit="s",
        disable=not sys.stderr.isatty(),
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} s media [{elapsed}<{remaining}]",
    )

    def advance(media_time: float) -> None:
        bar.update(max(0.0, min(media_time, bar.total or media_time) - bar.n))

    try:
        yield advance
    finally:
        bar.close()
