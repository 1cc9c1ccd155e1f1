"""Background music: the readable audio files of a folder; unreadable ones are skipped with a message."""

from __future__ import annotations

from pathlib import Path

import av

AUDIO_SUFFIXES = frozenset({".mp3", ".m4a", ".aac", ".wav", ".flac", ".ogg", ".opus"})


def music_tracks(folder: Path | None) -> tuple[list[Path], list[str]]:
    """(usable tracks in name order, one message per file skipped)."""
    if folder is None:
        return [], []
    folder = Path(folder)
    if not folder.is_dir():
        return [], [f"music folder {folder} does not exist: variants have no music"]
    tracks, messages = [], []
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES):
        problem = _problem(path)
        if problem:
            messages.append(f"skipped music file {path.name}: {problem}")
        else:
            tracks.append(path)
    if not tracks:
        messages.append(f"no readable music in {folder}: variants have no music")
    return tracks, messages


def _problem(path: Path) -> str | None:
    """Why `path` cannot be used as music, or None when one audio frame decodes from it."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                return "no audio stream"
            for _frame in container.decode(container.streams.audio[0]):
                return None
            return "no audio frames"
    except (av.FFmpegError, OSError, UnicodeDecodeError) as exc:
        return f"unreadable ({exc.__class__.__name__}: {exc})"
