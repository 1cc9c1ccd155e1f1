"""The in-process memory bus: the embedded default's way for stages to pass events.

Topic = event kind, key = room id. Each subscriber gets its own FIFO queue, so one
room's events reach a consumer in the order they were published. Publishing from a
worker thread goes through `publish_threadsafe`.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

# Fragments and the EndOfStream that follows a room's last one share a topic, so they stay in order.
FRAGMENTS = "fragments"
UTTERANCES = "utterances"
CLIP_REQUESTS = "clip_requests"
CLIPS = "clips"


class MemoryBus:
    def __init__(self) -> None:
        self.queues: dict[str, list[asyncio.Queue[tuple[str, Any]]]] = defaultdict(list)
        self.published = 0

    def subscribe(self, topic: str) -> asyncio.Queue[tuple[str, Any]]:
        """A queue of (key, event) for every event published on `topic` from now on."""
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.queues[topic].append(queue)
        return queue

    async def publish(self, topic: str, key: str, event: Any) -> None:
        self.published += 1
        for queue in self.queues.get(topic, ()):
            queue.put_nowait((key, event))

    def publish_threadsafe(self, loop: asyncio.AbstractEventLoop, topic: str, key: str, event: Any) -> None:
        asyncio.run_coroutine_threadsafe(self.publish(topic, key, event), loop).result()

    async def drain(self) -> None:
        """Wait until every subscriber has handled every event, including events that handling published."""
        while True:
            before = self.published
            for queue in [q for queues in list(self.queues.values()) for q in queues]:
                await queue.join()
            if self.published == before:
                return
