"""The scale-out bus: Kafka (any Kafka-protocol broker, tansu in the tests) through aiokafka.

Topic `prefix + kind`, key = room id, so one room's events stay in order in one
partition. Values are versioned JSON (livecut.contracts.codec). A consumer group per worker
role; each subscription is one AIOKafkaConsumer member of it.

At least once: publish() returns once the broker acknowledged the event, and an event's
offset is committed only after the handler called task_done() (which it does after
publishing its own outputs). A member that dies without acknowledging leaves its offsets
uncommitted, so the next member of the group gets those events again; deterministic ids
make the replay harmless. An event that cannot be decoded is logged and skipped, and its
offset committed, so it never blocks its partition.

Broker facts (tansu): every group join takes about 5 s, so start all subscriptions at
once with start(); ListOffsets(LATEST) is wrong, so consumers never ask for it: a new
group starts at the earliest offset and afterwards resumes from its committed offsets.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import ConsumerStoppedError, KafkaError

from livecut.bus import SubscriptionClosed
from livecut.contracts.codec import CodecError, decode, encode
from livecut.contracts.topics import TOPICS

log = logging.getLogger(__name__)

TOPIC_ALREADY_EXISTS = 36
# A rebalance is noticed at the next heartbeat: 1 s instead of aiokafka's 3 s.
HEARTBEAT_MS = 1000
# tansu holds every fetch for its full max wait even when data arrives meanwhile, so this bounds
# the latency of each hop (bench/bus.py, 200 events/s: p50 128 ms at aiokafka's 500 ms, 28 ms at
# 100 ms, 8 ms at 20 ms, where the idle fetches start to cost publish throughput).
FETCH_MAX_WAIT_MS = 50
DRAIN_POLL_S = 0.02
COMMIT_RETRY_S = 0.5


class KafkaBusError(RuntimeError):
    """The broker refused what the bus needs (creating a topic), or the bus is not running."""


@dataclass
class _Delivery:
    tp: TopicPartition
    offset: int
    acked: bool = False


class KafkaBus:
    """Bus on a Kafka-protocol broker. `await start()` before use (it waits for the group joins)."""

    def __init__(
        self, bootstrap_servers: str, topic_prefix: str = "livecut.", partitions: int = 8, client_id: str = "livecut"
    ) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.topic_prefix = topic_prefix
        self.partitions = partitions
        self.client_id = client_id
        self.subscriptions: list[KafkaSubscription] = []
        # Next offset after the last event this process published, per partition: drain() waits past it.
        self.published: dict[TopicPartition, int] = {}
        # Bumped on every publish, delivery and acknowledgement: a drain pass that saw it change is redone.
        self.activity = 0
        self._producer: AIOKafkaProducer | None = None
        self._producer_lock = asyncio.Lock()
        self._topics: set[str] = set()
        self._topics_lock = asyncio.Lock()
        self._closed = False

    def topic_name(self, topic: str) -> str:
        return self.topic_prefix + topic

    def subscribe(self, topic: str, group: str) -> KafkaSubscription:
        """A member of `group` on `topic`; it joins the group in start() (or at its first get())."""
        subscription = KafkaSubscription(self, topic, group)
        self.subscriptions.append(subscription)
        return subscription

    async def start(self) -> None:
        """Create missing topics, connect the producer, and join every subscription's group at once."""
        await self.ensure_topics([*TOPICS, *(s.topic for s in self.subscriptions)])
        await self._ensure_producer()
        await asyncio.gather(*(s.start() for s in self.subscriptions if not s.closed))

    async def publish(self, topic: str, key: str, event: Any) -> None:
        """Returns once the broker has stored the event (acks=all)."""
        value = encode(event)
        await self.ensure_topics([topic])
        producer = await self._ensure_producer()
        metadata = await producer.send_and_wait(self.topic_name(topic), value, key=key.encode("utf-8"))
        tp = metadata.topic_partition
        self.published[tp] = max(self.published.get(tp, 0), metadata.offset + 1)
        self.activity += 1

    def publish_threadsafe(self, loop: asyncio.AbstractEventLoop, topic: str, key: str, event: Any) -> None:
        asyncio.run_coroutine_threadsafe(self.publish(topic, key, event), loop).result()

    async def close(self) -> None:
        """Commit what was acknowledged, leave the groups, and disconnect."""
        self._closed = True
        await asyncio.gather(*(s.close() for s in self.subscriptions))
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def drain(self) -> None:
        """Wait until every open subscription of this process has acknowledged, committed and caught up.

        Caught up means: on every partition the member holds, its position has reached both the
        highwater of its last fetch and every event this process published there. Partitions held
        by members in other processes are theirs to drain.
        """
        await asyncio.gather(*(s.start() for s in self.subscriptions if not s.closed))
        while True:
            before = self.activity
            done = [await s.caught_up() for s in self.subscriptions if not s.closed]
            if all(done) and self.activity == before:
                return
            await asyncio.sleep(DRAIN_POLL_S)

    async def ensure_topics(self, topics: list[str]) -> None:
        """Create the topics this broker does not have yet, with `partitions` partitions each."""
        names = {self.topic_name(t) for t in topics} - self._topics
        if not names:
            return
        async with self._topics_lock:
            admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap_servers, client_id=self.client_id)
            await admin.start()
            try:
                missing = names - set(await admin.list_topics())
                if missing:
                    response = await admin.create_topics([NewTopic(n, self.partitions, 1) for n in sorted(missing)])
                    _check_created(response)
            finally:
                await admin.close()
            self._topics |= names

    async def _ensure_producer(self) -> AIOKafkaProducer:
        if self._closed:
            raise KafkaBusError("the bus is closed")
        async with self._producer_lock:
            if self._producer is None:
                producer = AIOKafkaProducer(
                    bootstrap_servers=self.bootstrap_servers, client_id=self.client_id, acks="all"
                )
                await producer.start()
                self._producer = producer
        return self._producer


def _check_created(response: Any) -> None:
    for topic, code, message in response.topic_errors:
        if code not in (0, TOPIC_ALREADY_EXISTS):
            raise KafkaBusError(f"the broker did not create topic {topic}: error {code} {message or ''}".strip())


class KafkaSubscription(ConsumerRebalanceListener):
    """One member of a consumer group: get() events, task_done() each, offsets committed in the background."""

    def __init__(self, bus: KafkaBus, topic: str, group: str) -> None:
        self.bus = bus
        self.topic = topic
        self.group = group
        self.closed = False
        self.consumer: AIOKafkaConsumer | None = None
        # Partitions held since the last rebalance; None while a rebalance is under way.
        self.assigned: frozenset[TopicPartition] | None = None
        self._starting: asyncio.Future[None] | None = None
        self._unacked: deque[_Delivery] = deque()
        self._to_commit: dict[TopicPartition, int] = {}
        self._commit_wanted = asyncio.Event()
        self._commit_lock = asyncio.Lock()
        self._committer: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Join the group; returns once partitions are assigned (about 5 s on tansu). Safe to call again."""
        if self._starting is None:
            self._starting = asyncio.ensure_future(self._start())
        await asyncio.shield(self._starting)

    async def _start(self) -> None:
        await self.bus.ensure_topics([self.topic])
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bus.bootstrap_servers,
            client_id=f"{self.bus.client_id}-{self.group}",
            group_id=self.bus.topic_prefix + self.group,
            enable_auto_commit=False,
            # Never "latest": tansu answers ListOffsets(LATEST) wrongly. A new group reads from the start.
            auto_offset_reset="earliest",
            heartbeat_interval_ms=HEARTBEAT_MS,
            fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
        )
        consumer.subscribe([self.bus.topic_name(self.topic)], listener=self)
        self.consumer = consumer
        await consumer.start()
        _leave_generation_zero_on_stop(consumer)
        self._committer = asyncio.create_task(self._commit_loop())

    async def get(self) -> tuple[str, Any]:
        await self.start()
        while True:
            record = await self._next_record()
            delivery = _Delivery(TopicPartition(record.topic, record.partition), record.offset)
            self._unacked.append(delivery)
            self.bus.activity += 1
            try:
                event = decode(record.value)
            except CodecError as exc:
                log.error(
                    "skipping undecodable event on %s partition %d offset %d: %s",
                    record.topic,
                    record.partition,
                    record.offset,
                    exc,
                )
                delivery.acked = True
                self._settle()
                continue
            return (record.key or b"").decode("utf-8", "replace"), event

    async def _next_record(self) -> Any:
        if self.closed or self.consumer is None:
            raise SubscriptionClosed(f"get() on a closed subscription ({self.topic}, {self.group})")
        try:
            return await self.consumer.getone()
        except ConsumerStoppedError as exc:
            raise SubscriptionClosed(f"subscription ({self.topic}, {self.group}) was closed") from exc

    def task_done(self) -> None:
        if self.closed:
            return  # its offset stays uncommitted: the group's next member gets the event again
        delivery = next((d for d in self._unacked if not d.acked), None)
        if delivery is None:
            raise ValueError("task_done() called more times than get() returned events")
        delivery.acked = True
        self._settle()

    def _settle(self) -> None:
        """Queue for commit the offsets every earlier delivery of whose is acknowledged too."""
        while self._unacked and self._unacked[0].acked:
            delivery = self._unacked.popleft()
            self._to_commit[delivery.tp] = delivery.offset + 1
        if self._to_commit:
            self._commit_wanted.set()
        self.bus.activity += 1

    async def _commit_loop(self) -> None:
        while True:
            await self._commit_wanted.wait()
            self._commit_wanted.clear()
            if not await self._commit():
                await asyncio.sleep(COMMIT_RETRY_S)

    async def _commit(self) -> bool:
        """Commit the queued offsets of the partitions still held; False when it should be retried."""
        async with self._commit_lock:
            if self.consumer is None or not self._to_commit:
                return True
            held = self.consumer.assignment()
            offsets = {tp: offset for tp, offset in self._to_commit.items() if tp in held}
            self._to_commit.clear()
            if not offsets:
                return True
            try:
                await self.consumer.commit(offsets)
            except KafkaError as exc:
                if not exc.retriable:
                    # Membership changed: the partition's new holder gets these events again.
                    log.warning("commit of %s for group %s failed: %s", offsets, self.group, exc)
                    return True
                for tp, offset in offsets.items():
                    self._to_commit[tp] = max(offset, self._to_commit.get(tp, 0))
                self._commit_wanted.set()
                return False
            return True

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        # Before another member takes the partitions over: what was acknowledged must not be redone.
        self.assigned = None
        await self._commit()

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        self.assigned = frozenset(assigned)

    async def caught_up(self) -> bool:
        """Nothing unacknowledged or uncommitted, and every held partition consumed to its end."""
        consumer = self.consumer
        if consumer is None or self.assigned is None or self._unacked or self._to_commit:
            return False
        if self._commit_lock.locked():
            return False
        for tp in self.assigned:
            if tp not in consumer.assignment():
                return False  # a rebalance began since the listener last ran
            highwater = consumer.highwater(tp)
            if highwater is None:
                return False
            target = max(highwater, self.bus.published.get(tp, 0))
            try:
                position = await consumer.position(tp)
            except KafkaError:
                return False
            if position < target:
                return False
        return True

    async def close(self) -> None:
        """Commit what was acknowledged and leave the group; the rest goes to the group's next member."""
        if self.closed:
            return
        self.closed = True
        if self._starting is not None:
            with contextlib.suppress(Exception):
                await self._starting
        # Waits for a commit under way, then commits the rest, before the committer is stopped.
        await self._commit()
        if self._committer is not None:
            self._committer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._committer
        if self.consumer is not None:
            await self.consumer.stop()


def _leave_generation_zero_on_stop(consumer: AIOKafkaConsumer) -> None:
    """Make stop() leave the group even in generation 0.

    tansu numbers a group's first generation 0; aiokafka 0.14 sends LeaveGroup only when the
    generation is above 0, so without this the group's next member waits a whole session
    timeout for the departed one (measured: 18 s instead of 5 s). LeaveGroup carries no
    generation; the override runs only after the heartbeat has stopped.
    """
    coordinator = consumer._coordinator
    leave = coordinator._maybe_leave_group

    async def leave_even_in_generation_zero() -> None:
        if coordinator.generation == 0 and coordinator.member_id:
            coordinator.generation = 1
        await leave()

    coordinator._maybe_leave_group = leave_even_in_generation_zero
