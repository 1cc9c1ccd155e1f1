"""The bus contract: MemoryBus and KafkaBus (on a real tansu broker) pass the same tests.

Every Kafka test uses its own topic prefix, so topics and groups never meet across tests.
Group joins take about 5 s on tansu; subscriptions join together in bus.start().
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition

from livecut.bus import Bus, MemoryBus, Subscription, SubscriptionClosed
from livecut.bus.kafka import KafkaBus
from livecut.contracts import ClipReady, ClipRequest, EndOfStream, Fragment, PostDue, Utterance, Word
from livecut.contracts import codec as event_codec
from livecut.contracts.codec import EVENT_TYPES, CodecError

pytest_plugins = ["servers.tansu"]

SCENARIO_TIMEOUT_S = 45.0
QUIET_S = 1.0
_prefixes = itertools.count()


@pytest.fixture(params=["memory", "kafka"])
def make_bus(request: pytest.FixtureRequest) -> Callable[[], Bus]:
    if request.param == "memory":
        return MemoryBus
    broker = request.getfixturevalue("tansu")
    prefix = f"contract{next(_prefixes)}."
    return lambda: KafkaBus(broker.bootstrap_servers, topic_prefix=prefix, partitions=4, client_id="contract")


def run(make_bus: Callable[[], Bus], scenario: Callable[[Bus], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        bus = make_bus()
        try:
            return await asyncio.wait_for(scenario(bus), SCENARIO_TIMEOUT_S)
        finally:
            await bus.close()

    return asyncio.run(main())


def fragment(room: str, seq: int) -> Fragment:
    return Fragment(room=room, seq=seq, t0=2.0 * seq, t1=2.0 * seq + 2, uri=f"rooms/{room}/{seq:06d}.ts")


async def take(subscription: Subscription) -> tuple[str, Any]:
    """get() and acknowledge, as a handler with no outputs does."""
    key, event = await subscription.get()
    subscription.task_done()
    return key, event


async def nothing_more(subscription: Subscription) -> bool:
    try:
        await asyncio.wait_for(subscription.get(), QUIET_S)
    except TimeoutError:
        return True
    return False


def test_one_rooms_events_arrive_in_publish_order(make_bus):
    async def scenario(bus: Bus) -> list[tuple[str, Any]]:
        subscription = bus.subscribe("fragments", "transcribe")
        await bus.start()
        for seq in range(30):
            room = f"room-{seq % 3}"
            await bus.publish("fragments", room, fragment(room, seq))
        return [await take(subscription) for _ in range(30)]

    got = run(make_bus, scenario)
    for room in ("room-0", "room-1", "room-2"):
        assert [e.seq for key, e in got if key == room] == list(range(int(room[-1]), 30, 3))
    assert all(key == event.room for key, event in got)


def test_every_group_gets_every_event(make_bus):
    async def scenario(bus: Bus) -> tuple[list, list]:
        transcribe, archive = bus.subscribe("fragments", "transcribe"), bus.subscribe("fragments", "archive")
        await bus.start()
        for seq in range(10):
            await bus.publish("fragments", "room-1", fragment("room-1", seq))
        return [await take(transcribe) for _ in range(10)], [await take(archive) for _ in range(10)]

    first, second = run(make_bus, scenario)
    assert [e.seq for _, e in first] == [e.seq for _, e in second] == list(range(10))


def test_members_of_one_group_share_its_events_each_once(make_bus):
    events = [fragment(f"room-{n % 20}", n) for n in range(40)]

    async def scenario(bus: Bus) -> list[list[int]]:
        members = [bus.subscribe("fragments", "render"), bus.subscribe("fragments", "render")]
        await bus.start()
        seen: list[list[int]] = [[], []]

        async def handle(index: int) -> None:
            while True:
                _, event = await members[index].get()
                await asyncio.sleep(0.002)  # handling takes a moment, so the other member gets to run
                seen[index].append(event.seq)
                members[index].task_done()

        tasks = [asyncio.create_task(handle(i)) for i in range(2)]
        for event in events:
            await bus.publish("fragments", event.room, event)
        while len(seen[0]) + len(seen[1]) < len(events):
            await asyncio.sleep(0.01)
        await asyncio.sleep(QUIET_S)  # a duplicate would arrive now
        for task in tasks:
            task.cancel()
        return seen

    seen = run(make_bus, scenario)
    assert sorted(seen[0] + seen[1]) == list(range(40))
    assert seen[0] and seen[1]


def test_unacknowledged_event_goes_to_the_next_member_and_acknowledged_ones_do_not(make_bus):
    async def scenario(bus: Bus) -> tuple[list[int], bool]:
        first = bus.subscribe("clip_requests", "render")
        await bus.start()
        for seq in range(5):
            await bus.publish("clip_requests", "room-1", fragment("room-1", seq))
        for _ in range(3):
            await take(first)
        await first.get()  # seq 3: the member dies while handling it
        await first.close()
        with pytest.raises(SubscriptionClosed):
            await first.get()
        second = bus.subscribe("clip_requests", "render")
        again = [(await take(second))[1].seq for _ in range(2)]
        return again, await nothing_more(second)

    again, quiet = run(make_bus, scenario)
    assert again == [3, 4]
    assert quiet


def test_publish_from_a_worker_thread(make_bus):
    async def scenario(bus: Bus) -> list[tuple[str, Any]]:
        subscription = bus.subscribe("fragments", "transcribe")
        await bus.start()
        loop = asyncio.get_running_loop()

        def produce() -> None:
            for seq in range(5):
                bus.publish_threadsafe(loop, "fragments", "room-7", fragment("room-7", seq))
            bus.publish_threadsafe(loop, "fragments", "room-7", EndOfStream("room-7", 10.0))

        await loop.run_in_executor(None, produce)
        return [await take(subscription) for _ in range(6)]

    got = run(make_bus, scenario)
    assert [e.seq for _, e in got[:5]] == list(range(5))
    assert got[5] == ("room-7", EndOfStream("room-7", 10.0))


def test_drain_waits_until_events_and_the_events_they_caused_are_handled(make_bus):
    async def scenario(bus: Bus) -> list[int]:
        fragments = bus.subscribe("fragments", "transcribe")
        requests = bus.subscribe("clip_requests", "render")
        await bus.start()
        rendered: list[int] = []

        async def transcribe() -> None:
            while True:
                key, event = await fragments.get()
                await asyncio.sleep(0.05)
                await bus.publish("clip_requests", key, fragment(key, event.seq * 10))
                await bus.publish("utterances", key, fragment(key, event.seq))  # nobody subscribes
                fragments.task_done()

        async def render() -> None:
            while True:
                _, event = await requests.get()
                await asyncio.sleep(0.05)
                rendered.append(event.seq)
                requests.task_done()

        tasks = [asyncio.create_task(transcribe()), asyncio.create_task(render())]
        for seq in range(3):
            await bus.publish("fragments", "room-1", fragment("room-1", seq))
        await bus.drain()
        done = list(rendered)
        for task in tasks:
            task.cancel()
        return done

    assert run(make_bus, scenario) == [0, 10, 20]


def test_undecodable_event_is_logged_skipped_and_committed(make_bus, caplog):
    bus = make_bus()
    if not isinstance(bus, KafkaBus):
        pytest.skip("the memory bus passes objects: nothing to decode")

    async def scenario(bus: KafkaBus) -> tuple[Any, int | None]:
        subscription = bus.subscribe("fragments", "transcribe")
        await bus.start()
        producer = AIOKafkaProducer(bootstrap_servers=bus.bootstrap_servers)
        await producer.start()
        try:
            for value in (b"\xffnot json", b'{"v": 99, "type": "Fragment", "data": {}}', b'{"v": 1, "type": "X"}'):
                await producer.send_and_wait(bus.topic_name("fragments"), value, key=b"room-1")
        finally:
            await producer.stop()
        await bus.publish("fragments", "room-1", fragment("room-1", 0))
        key, event = await subscription.get()
        tp = TopicPartition(bus.topic_name("fragments"), next(iter(bus.published)).partition)
        skipped_committed = await _committed_soon(subscription, tp, expected=3)
        subscription.task_done()
        await bus.drain()
        return event, skipped_committed

    with caplog.at_level(logging.ERROR, logger="livecut.bus.kafka"):
        event, committed = run(lambda: bus, scenario)
    assert event == fragment("room-1", 0)
    assert committed == 3  # the three bad values are committed; the unacknowledged good one is not
    assert [r.getMessage() for r in caplog.records if "skipping undecodable" in r.getMessage()][2].endswith(
        f"unknown event type 'X' (known: {', '.join(EVENT_TYPES)})"
    )
    assert sum("skipping undecodable" in r.getMessage() for r in caplog.records) == 3


async def _committed_soon(subscription: Any, tp: TopicPartition, expected: int) -> int | None:
    """Offsets are committed in the background right after the acknowledgement."""
    committed = None
    for _ in range(100):
        committed = await subscription.consumer.committed(tp)
        if committed == expected:
            break
        await asyncio.sleep(0.02)
    return committed


WORDS = [Word(0.0, 0.4, "这件", 0.91), Word(0.4, 0.9, "真丝", 0.88)]
EVENTS = [
    Fragment("room-1", 7, 14.0, 16.02, "rooms/room-1/000007.ts", received_at=1700000000.25),
    EndOfStream("room-1", 123.456),
    Utterance(
        "room-1", 1.5, 3.25, "这件真丝", "zh", WORDS, "selling_point", "fabric", 0.93, 1700000001.5, True, True, ["最"]
    ),
    ClipRequest("abc123", "room-1", "room:room-1", 1.5, 9.0, "selling_point", None, "这件真丝 tonight only", WORDS),
    ClipReady(
        "abc123",
        "room-1",
        "room:room-1",
        1.5,
        9.0,
        "price_promo",
        "coupon",
        "text",
        "v.mp4",
        "c.srt",
        "c.vtt",
        "t.jpg",
        7.5,
        vertical=None,
        confidence=0.5,
        banned_claims=["第一"],
    ),
    PostDue("brand-a", "p0123456789abcdef012"),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_codec_round_trip_gives_an_equal_event(event):
    value = event_codec.encode(event)
    assert event_codec.decode(value) == event
    assert event_codec.decode(value).__class__ is event.__class__


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"\x00\xff", "not UTF-8 JSON"),
        (b"[1, 2]", "JSON list, not an object"),
        (b'{"v": 2, "type": "Fragment", "data": {}}', "unsupported event schema version 2"),
        (b'{"type": "Fragment", "data": {}}', "unsupported event schema version None"),
        (b'{"v": 1, "type": "Clip", "data": {}}', "unknown event type 'Clip'"),
        (b'{"v": 1, "type": "EndOfStream", "data": {"room": "r", "t": 1, "x": 2}}', "EndOfStream has no field"),
        (b'{"v": 1, "type": "EndOfStream", "data": {"room": "r"}}', "malformed EndOfStream"),
        (b'{"v": 1, "type": "EndOfStream"}', "no 'data' object"),
    ],
)
def test_codec_refuses_what_it_cannot_read_with_the_reason(value, reason):
    with pytest.raises(CodecError, match=reason):
        event_codec.decode(value)


def test_codec_refuses_to_encode_what_is_not_an_event():
    with pytest.raises(CodecError, match="dict is not a bus event"):
        event_codec.encode({"room": "r"})
