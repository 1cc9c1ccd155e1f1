"""Which product a live room's utterances and clips are about, from the room's lineup (issue 13).

One per room, kept in the transcribe stage's room state: a catalog.ProductLinker fed the
room's utterances in order sets `utterance.product`; a clip request gets the product that
covers most of its span (catalog.product_of_span). The lineup is read from the metadata store
and the linker is rebuilt when the lineup, or a product on it, changes during the broadcast.
"""

from __future__ import annotations

import logging
import re
from collections import deque
from collections.abc import Iterator
from typing import Any

from catalog import LineupEntry, ProductLinker, product_from_dict, product_of_span
from livecut.contracts import ClipRequest, Utterance
from livecut.store import MetadataStore

log = logging.getLogger(__name__)

# What the room vocabulary takes as one term (segmenter.lexicon): letters, digits, Chinese, 2-12 characters.
_TERM = re.compile(r"[\u3400-\u9fffA-Za-z0-9]{2,12}")


class RoomProducts:
    """`memory_s`: how far back linked utterances are kept for clip requests (a clip's longest span, and more)."""

    def __init__(self, room: str, store: MetadataStore, memory_s: float) -> None:
        self.room = room
        self.store = store
        self.memory_s = memory_s
        self.version: float | None = None
        self.linker: ProductLinker | None = None
        # (t0, t1, sku) of the room's recent utterances, in order.
        self.linked: deque[tuple[float, float, str | None]] = deque()

    def carry(self, sku: str | None) -> None:
        """Present `sku` until the next cue: what a worker taking the room over knows from the store."""
        self.refresh()
        if sku and self.linker is not None:
            self.linker.current = self._entry(sku) or self.linker.current

    def refresh(self) -> None:
        """Rebuild the linker if the lineup changed; the product being presented stays, if still on it."""
        version = self.store.lineup_version(self.room)
        if version == self.version:
            return
        self.version = version
        current = self.linker.current.product.sku if self.linker and self.linker.current else None
        lineup = self.store.lineup(self.room)
        entries = [LineupEntry(self.room, row["link"], product_from_dict(row["product"])) for row in lineup]
        self.linker = ProductLinker(entries) if entries else None
        if self.linker is not None and current:
            self.linker.current = self._entry(current)
        log.info("room %s: lineup of %d products", self.room, len(entries))

    def link(self, utterances: list[Utterance]) -> None:
        """Set each utterance's product (None without a lineup or before the first cue)."""
        if not utterances:
            return
        self.refresh()
        for utterance in utterances:
            found = self.linker.link(utterance) if self.linker is not None else None
            utterance.product = found.entry.product.sku if found is not None else None
            self.linked.append((utterance.t0, utterance.t1, utterance.product))
        horizon = self.linked[-1][1] - self.memory_s
        while self.linked and self.linked[0][1] < horizon:
            self.linked.popleft()

    def assign(self, requests: list[ClipRequest]) -> None:
        """Give each clip request the product of its span, unless it has one."""
        for request in requests:
            if request.product is None:
                request.product = product_of_span(request.t0, request.t1, list(self.linked))

    def terms(self) -> list[str]:
        """The lineup's words for the room's Whisper vocabulary: titles' and aliases' words, attribute values,
        and each product's link ("3号链接"), so the host's product words are heard and corrected."""
        self.refresh()
        if self.linker is None:
            return []
        found: dict[str, None] = {}
        for entry in self.linker.lineup:
            product = entry.product
            found[f"{entry.link}号链接"] = None
            for text in [product.title, *product.aliases, *_values(product.attributes)]:
                # Whole words only: a 16-character title cut at 12 would teach Whisper a word nobody says.
                found.update(dict.fromkeys(w for w in re.split(r"[\s,，、/|·]+", text) if _TERM.fullmatch(w)))
        return list(found)

    def _entry(self, sku: str) -> LineupEntry | None:
        if self.linker is None:
            return None
        return next((e for e in self.linker.lineup if e.product.sku == sku), None)


def _values(attributes: dict[str, Any]) -> Iterator[str]:
    """The text of confirmed attribute values ({"value": ...} records, plain values, lists)."""
    for value in attributes.values():
        value = value.get("value") if isinstance(value, dict) and "value" in value else value
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                yield item
