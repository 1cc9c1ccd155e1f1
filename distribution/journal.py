"""Where a post's progress lives between steps, so a killed worker resumes instead of repeating.

The shell provides a `PostJournal` backed by its store; posters call `save` before a step that
changes anything on the platform and after it succeeds. `FileJournal` is the durable one used by
tests and single-machine tools (one JSON file per post, replaced atomically).
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any, Protocol


class PostJournal(Protocol):
    def load(self, post_id: str) -> dict[str, Any]:
        """The last saved state of the post's platform session; {} when it never started."""
        ...

    def save(self, post_id: str, state: dict[str, Any]) -> None:
        """Durably replace the post's state before returning."""
        ...


class MemoryJournal:
    def __init__(self) -> None:
        self._states: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def load(self, post_id: str) -> dict[str, Any]:
        with self._lock:
            return dict(self._states.get(post_id, {}))

    def save(self, post_id: str, state: dict[str, Any]) -> None:
        with self._lock:
            self._states[post_id] = dict(state)


class FileJournal:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def _path(self, post_id: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in post_id)
        return self.folder / f"{safe}.json"

    def load(self, post_id: str) -> dict[str, Any]:
        try:
            return json.loads(self._path(post_id).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}

    def save(self, post_id: str, state: dict[str, Any]) -> None:
        path = self._path(post_id)
        staged = path.with_suffix(".tmp")
        with open(staged, "w", encoding="utf-8") as handle:
            json.dump(state, handle, ensure_ascii=False)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(staged, path)


class Session:
    """One post's journal state with a save after every change (the posters' working copy)."""

    def __init__(self, journal: PostJournal, post_id: str) -> None:
        self.journal = journal
        self.post_id = post_id
        self.state = journal.load(post_id)

    def get(self, key: str, default: Any = None) -> Any:
        return self.state.get(key, default)

    def update(self, **values: Any) -> None:
        self.state.update(values)
        self.journal.save(self.post_id, self.state)

    def reset(self, *keep: str) -> None:
        self.state = {k: v for k, v in self.state.items() if k in keep}
        self.journal.save(self.post_id, self.state)
