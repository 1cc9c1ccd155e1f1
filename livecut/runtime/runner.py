"""The one loop every worker role runs: take an event, handle it, publish what it made, acknowledge.

A stage is a small object (see `Stage`): the topic it consumes, its consumer group, an error
policy and a `handle` that turns one event into the events it makes. `StageRunner` owns the
rest, the same way for every role, in one process or many:

- subscribe (before the bus starts, so a Kafka group is joined at start) and acknowledge only
  after the outputs are published, so a worker that dies loses nothing (at-least-once);
- blocking work runs on the stage's own single thread, so the event loop that serves the API
  and RTMP stays free and one room's events are handled in order;
- the log context (room, role) and the stage's error count and dead letters in the metrics;
- batches, for a stage that has `handle_batch` and `batch_size`: the events already waiting
  (up to batch_size, or until the stage's optional `batch_full(items)` says so) are handed over
  together, each room's in order; if the batch fails, its events are handled again one by one
  under the error policy, so one bad event fails alone;
- the error policy: an event whose handling raises is tried again with backoff, up to
  `policy.attempts` times (an error in `policy.permanent` is not retried); then it is
  dead-lettered: the stage's `give_up` records the outcome (a clip becomes `failed` with the
  reason), the event and the reason go to the dead-letter store, and the loop goes on. A stage
  never stops because of one event.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from livecut.bus import Bus
from livecut.observability.logs import log_context
from livecut.observability.metrics import METRICS

log = logging.getLogger(__name__)

# (topic, key, event) a stage wants published.
Emit = tuple[str, str, Any]
# How long a batch waits for one more event that is not there yet.
BATCH_WAIT_S = 0.005


@dataclass(frozen=True)
class ErrorPolicy:
    attempts: int = 3
    # Seconds before the second try; doubled before each further one.
    backoff_s: float = 0.5
    # Errors that another try cannot fix (a corrupt input, a refused request): dead-lettered at once.
    permanent: tuple[type[BaseException], ...] = field(default=())


class Stage(Protocol):
    name: str  # the role and consumer group, e.g. "render"
    topic: str  # the topic it consumes
    policy: ErrorPolicy

    def handle(self, key: str, event: Any) -> list[Emit] | Awaitable[list[Emit]]:
        """Handle one event; blocking stages run on the stage's thread, `async def` ones on the loop."""
        ...

    def give_up(self, key: str, event: Any, reason: str) -> None:
        """The event failed for good: record what that means (called on the stage's thread)."""
        ...


class DeadLetters(Protocol):
    def add_dead_letter(self, stage: str, key: str, event: Any, reason: str) -> None: ...


class StageRunner:
    """Runs one stage on the bus until cancelled."""

    def __init__(self, stage: Stage, bus: Bus, dead_letters: DeadLetters) -> None:
        self.stage = stage
        self.bus = bus
        self.dead_letters = dead_letters
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=stage.name)
        self.subscription = bus.subscribe(stage.topic, stage.name)

    async def run(self) -> None:
        try:
            while True:
                items = await self._batch(await self.subscription.get())
                try:
                    if len(items) == 1:
                        with log_context(room=items[0][0], role=self.stage.name):
                            await self._process(*items[0])
                    else:
                        with log_context(role=self.stage.name):
                            await self._process_batch(items)
                finally:
                    for _ in items:
                        self.subscription.task_done()
        finally:
            self.thread.shutdown(wait=False, cancel_futures=True)

    async def _batch(self, first: tuple[str, Any]) -> list[tuple[str, Any]]:
        """`first` and the events already waiting after it, while the stage's batch has room (a
        stage without batches: `first` alone)."""
        items = [first]
        limit = getattr(self.stage, "batch_size", 1)
        full: Callable[[list[tuple[str, Any]]], bool] = getattr(self.stage, "batch_full", lambda _: False)
        while len(items) < limit and not full(items):
            try:
                # A get() cancelled by the timeout hands out nothing: the subscriptions are cancel-safe.
                items.append(await asyncio.wait_for(self.subscription.get(), BATCH_WAIT_S))
            except TimeoutError:
                break
        return items

    async def _process_batch(self, items: list[tuple[str, Any]]) -> None:
        try:
            outputs = await self._on_thread(self.stage.handle_batch, items)  # type: ignore[attr-defined]
        except Exception as exc:  # noqa: BLE001 - each event gets its own tries below
            log.warning("%s: a batch of %d failed (%s); handling each event alone", self.stage.name, len(items), exc)
            for key, event in items:
                with log_context(room=key):
                    await self._process(key, event)
            return
        for topic, out_key, out_event in outputs:
            await self.bus.publish(topic, out_key, out_event)

    async def _process(self, key: str, event: Any) -> None:
        policy = self.stage.policy
        delay = policy.backoff_s
        for attempt in range(1, policy.attempts + 1):
            try:
                outputs = await self._handle(key, event)
            except Exception as exc:  # noqa: BLE001 - the policy decides; nothing escapes the loop
                METRICS.error(self.stage.name)
                last = attempt == policy.attempts or isinstance(exc, policy.permanent)
                if last:
                    await self._dead_letter(key, event, exc)
                    return
                log.warning("%s: attempt %d of %d failed: %s; retrying", self.stage.name, attempt, policy.attempts, exc)
                await asyncio.sleep(delay)
                delay *= 2
                continue
            for topic, out_key, out_event in outputs:
                await self.bus.publish(topic, out_key, out_event)
            return

    async def _handle(self, key: str, event: Any) -> list[Emit]:
        if inspect.iscoroutinefunction(self.stage.handle):
            return await self.stage.handle(key, event)
        return await self._on_thread(self.stage.handle, key, event)

    async def _dead_letter(self, key: str, event: Any, exc: Exception) -> None:
        reason = f"{type(exc).__name__}: {exc}"
        log.error("%s: gave up on %s of %s: %s", self.stage.name, type(event).__name__, key, reason, exc_info=exc)
        METRICS.dead_letter(self.stage.name)
        try:
            await self._on_thread(self.stage.give_up, key, event, reason)
            await self._on_thread(self.dead_letters.add_dead_letter, self.stage.name, key, event, reason)
        except Exception:
            # The store may be what is failing: the log line above is then the only record.
            log.exception("%s: could not record the dead letter of %s", self.stage.name, key)

    async def _on_thread(self, function: Callable[..., Any], *args: Any) -> Any:
        run = contextvars.copy_context().run
        return await asyncio.get_running_loop().run_in_executor(self.thread, run, function, *args)
