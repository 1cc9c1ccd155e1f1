import asyncio

from livecut.bus import MemoryBus


def test_each_subscriber_gets_every_event_in_order_and_drain_waits_for_cascades():
    async def scenario() -> list[tuple[str, int]]:
        bus = MemoryBus()
        first, second = bus.subscribe("a"), bus.subscribe("a")
        derived = bus.subscribe("b")
        seen: list[tuple[str, int]] = []

        async def relay() -> None:
            while True:
                key, value = await first.get()
                await asyncio.sleep(0.01)
                await bus.publish("b", key, value * 10)
                await bus.publish("nobody-listens", key, value)
                first.task_done()

        async def collect(queue: asyncio.Queue, name: str) -> None:
            while True:
                _, value = await queue.get()
                await asyncio.sleep(0.02)
                seen.append((name, value))
                queue.task_done()

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
