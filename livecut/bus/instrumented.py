"""A Bus that counts what passes through another one: events out and in, and each consumer's lag.

`InstrumentedBus(build_bus(config), METRICS)` is used exactly like the bus it wraps (it
passes tests/test_bus_contract.py) and feeds livecut_events_out_total{topic},
livecut_events_in_total{topic,group} and livecut_consumer_lag{topic,group}.

Lag is, per subscription, the events get() returned that are not acknowledged yet, plus on
Kafka the events on the broker its partitions have not handed out yet (highwater minus
position, summed over the partitions it holds). The Kafka part is read after each get()
and task_done(), in a background task, from what the consumer already knows (no request
to the broker), so it is as fresh as the consumer's last fetch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from livecut.bus import Bus, Subscription
from livecut.observability.metrics import Metrics

log = logging.getLogger(__name__)

# aiokafka learns a partition's highwater only from its fetches and does not fetch while records are
# buffered, so the Kafka part of the lag can trail by what one fetch returned; re-read this often.
LAG_REFRESH_S = 0.5
# A position is known at once except during a rebalance, when a stale lag is better than waiting.
POSITION_TIMEOUT_S = 0.5


class InstrumentedBus:
    """Wraps `bus`; the wrapped bus is `inner`."""

    def __init__(self, bus: Bus, metrics: Metrics) -> None:
        self.inner = bus
        self.metrics = metrics
        self.subscriptions: list[InstrumentedSubscription] = []

    def subscribe(self, topic: str, group: str) -> InstrumentedSubscription:
        subscription = InstrumentedSubscription(self.inner.subscribe(topic, group), topic, group, self.metrics)
        self.subscriptions.append(subscription)
        return subscription

    async def publish(self, topic: str, key: str, event: Any) -> None:
        try:
            await self.inner.publish(topic, key, event)
        except Exception:
            self.metrics.error("publish")
            raise
        self.metrics.events_out.labels(topic).inc()

    def publish_threadsafe(self, loop: asyncio.AbstractEventLoop, topic: str, key: str, event: Any) -> None:
        # Not through self.publish: the inner bus runs its own publish on the loop.
        try:
            self.inner.publish_threadsafe(loop, topic, key, event)
        except Exception:
            self.metrics.error("publish")
            raise
        self.metrics.events_out.labels(topic).inc()

    async def start(self) -> None:
        await self.inner.start()

    async def close(self) -> None:
        # Through the wrappers, so each takes its share off the lag; together, as KafkaBus closes its own.
        await asyncio.gather(*(s.close() for s in self.subscriptions))
        await self.inner.close()

    async def drain(self) -> None:
        await self.inner.drain()


class InstrumentedSubscription:
    """Passes get/task_done/close through to `inner`, counting deliveries and keeping the lag gauge."""

    def __init__(self, inner: Subscription, topic: str, group: str, metrics: Metrics) -> None:
        self.inner = inner
        self.topic = topic
        self.group = group
        self.events_in = metrics.events_in.labels(topic, group)
        # Shared by every member of the group in this process: each adds and removes its own share.
        self.lag = metrics.consumer_lag.labels(topic, group)
        self.unacked = 0
        self.backlog = 0
        self.closed = False
        self._refresh_wanted = False
        self._refresher: asyncio.Task[None] | None = None

    async def get(self) -> tuple[str, Any]:
        item = await self.inner.get()
        # No await from here on: a cancelled get() must not lose an event the inner bus handed out.
        self.events_in.inc()
        self.unacked += 1
        self.lag.inc()
        self._refresh_backlog()
        return item

    def task_done(self) -> None:
        self.inner.task_done()
        if self.closed or not self.unacked:
            return  # after close() the inner bus ignores it, and close() already took the share off
        self.unacked -= 1
        self.lag.dec()
        self._refresh_backlog()

    async def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.lag.dec(self.unacked + self.backlog)
            self.unacked = self.backlog = 0
            if self._refresher is not None:
                self._refresher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._refresher
        await self.inner.close()

    def _refresh_backlog(self) -> None:
        """Keep the Kafka backlog current, off the consumer's path: re-read at once, then every
        LAG_REFRESH_S, since the highwater a consumer knows moves with its fetches, not with our calls."""
        consumer = getattr(self.inner, "consumer", None)
        if consumer is None:
            return  # the memory bus hands every pending event to the next get() at once: no backlog
        self._refresh_wanted = True
        if self._refresher is None or self._refresher.done():
            self._refresher = asyncio.get_running_loop().create_task(self._refresh_loop(consumer))

    async def _refresh_loop(self, consumer: Any) -> None:
        while not self.closed:
            self._refresh_wanted = False
            backlog = await kafka_backlog(consumer)
            if backlog is not None and not self.closed:
                self.lag.inc(backlog - self.backlog)
                self.backlog = backlog
            for _ in range(int(LAG_REFRESH_S / 0.05)):
                if self._refresh_wanted or self.closed:
                    break
                await asyncio.sleep(0.05)


async def kafka_backlog(consumer: Any) -> int | None:
    """Highwater minus position over the partitions an AIOKafkaConsumer holds; None when not known now."""
    total = 0
    try:
        for tp in consumer.assignment():
            highwater = consumer.highwater(tp)
            if highwater is None:
                continue  # not fetched from yet
            async with asyncio.timeout(POSITION_TIMEOUT_S):
                position = await consumer.position(tp)
            total += max(0, highwater - position)
    except Exception as exc:  # a rebalance under way: partitions come and go; the metric must not raise
        log.debug("consumer lag not readable now: %r", exc)
        return None
    return total
