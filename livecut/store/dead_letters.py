"""Events a stage gave up on: what, where, why. A mixin of MetadataStore."""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from typing import Any

from livecut.store.db import Database


class DeadLetterStore:
    db: Database

    def add_dead_letter(self, stage: str, key: str, event: Any, reason: str) -> None:
        """Keep the event (as JSON where it is a dataclass, else its repr) and the reason it failed."""
        body = dataclasses.asdict(event) if dataclasses.is_dataclass(event) and not isinstance(event, type) else None
        payload = json.dumps(body, ensure_ascii=False, default=str) if body is not None else repr(event)
        self.db.execute(
            "INSERT INTO dead_letters (id, stage, event_key, event_type, event, reason, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (uuid.uuid4().hex, stage, key, type(event).__name__, payload, reason, time.time()),
        )

    def dead_letters(self, stage: str | None = None) -> list[dict[str, Any]]:
        """Newest first, of one stage or all."""
        where, params = ("WHERE stage = ? ", (stage,)) if stage else ("", ())
        return self.db.query(
            "SELECT stage, event_key, event_type, event, reason, created_at FROM dead_letters "
            f"{where}ORDER BY created_at DESC",
            params,
        )
