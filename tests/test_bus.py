import asyncio

import pytest

from livecut.bus import MemoryBus, build_bus
from livecut.config import ConfigError, load_config


def test_each_group_gets_every_event_in_order_and_drain_waits_for_cascades():
    async def scenario() -> list[tuple[str, int]]:
        bus = MemoryBus()
        first, second = bus.subscribe("a", "relay"), bus.subscribe("a", "collect")
        derived = bus.subscribe("b", "collect")
        seen: list[tuple[str, int]] = []

        async def relay() -> None:
            while True:
                key, value = await first.get()
                await asyncio.sleep(0.01)
                await bus.publish("b", key, value * 10)
                await bus.publish("nobody-listens", key, value)
                first.task_done()

        async def collect(subscription, name: str) -> None:
            while True:
                _, value = await subscription.get()
                await asyncio.sleep(0.02)
                seen.append((name, value))
                subscription.task_done()

        tasks = [asyncio.create_task(c) for c in (relay(), collect(second, "a"), collect(derived, "b"))]
        for value in range(3):
            await bus.publish("a", "room-1", value)
        await bus.drain()
        for task in tasks:
            task.cancel()
        return seen

    seen = asyncio.run(scenario())
    assert [v for name, v in seen if name == "a"] == [0, 1, 2]
    assert [v for name, v in seen if name == "b"] == [0, 10, 20]


def test_one_room_waits_while_another_member_handles_it():
    async def scenario() -> list[tuple[str, int]]:
        bus = MemoryBus()
        busy, idle = bus.subscribe("a", "g"), bus.subscribe("a", "g")
        for key, value in (("room-1", 0), ("room-1", 1), ("room-2", 2)):
            await bus.publish("a", key, value)
        held = await busy.get()
        # room-1's next event must wait for the first one: idle gets room-2 instead.
        return [held, await idle.get()]

    assert asyncio.run(scenario()) == [("room-1", 0), ("room-2", 2)]


def test_build_bus_follows_the_bus_section():
    config = load_config()
    assert config["bus"]["kind"] == "memory"
    assert isinstance(build_bus(config), MemoryBus)
    kafka = build_bus({"bus": {**config["bus"], "kind": "kafka", "partitions": 3}})
    assert (kafka.bootstrap_servers, kafka.topic_prefix, kafka.partitions) == ("127.0.0.1:9092", "livecut.", 3)
    with pytest.raises(ConfigError, match='bus.kind must be "memory" or "kafka"'):
        build_bus({"bus": {**config["bus"], "kind": "rabbit"}})
