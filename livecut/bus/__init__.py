"""The bus that stages pass events on: the interface, the in-process memory bus, and the factory.

Topic = event kind, key = room id. A subscription belongs to a consumer group, one per
worker role ("transcribe", "render"): every group gets every event published after it
was created, and within a group each event goes to one member. One room's events reach
a group in the order they were published. A consumer acknowledges each event with
`task_done()` once its effects (including the events it published) are done; an event a
member received but never acknowledged goes to another member when it closes, so an
event is handled at least once.

`MemoryBus` is the embedded default; `livecut.bus.kafka.KafkaBus` is the scale-out one.
Both pass tests/test_bus_contract.py.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any, Protocol

from livecut.config import ConfigError


class SubscriptionClosed(RuntimeError):
    """get() on a subscription that was closed."""


class Subscription(Protocol):
    async def get(self) -> tuple[str, Any]:
        """The next (key, event) for this member of the group; waits for one."""
        ...

    def task_done(self) -> None:
        """Acknowledge the oldest event get() returned that is not yet acknowledged."""
        ...

    async def close(self) -> None:
        """Leave the group; events received but not acknowledged go to another member."""
        ...


class Bus(Protocol):
    def subscribe(self, topic: str, group: str) -> Subscription: ...

    async def publish(self, topic: str, key: str, event: Any) -> None:
        """Returns once the event is stored (Kafka: acknowledged by the broker; the event must be one
        livecut.contracts.codec can encode, while the memory bus passes any object as it is)."""
        ...

    def publish_threadsafe(self, loop: asyncio.AbstractEventLoop, topic: str, key: str, event: Any) -> None: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def drain(self) -> None:
        """Wait until this process's subscriptions have handled every event, cascades included."""
        ...


class _Changes:
    """Wakes every waiter on each change; unlike asyncio.Condition, notify() works outside a coroutine."""

    def __init__(self) -> None:
        self._waiters: list[asyncio.Future[None]] = []

    def notify(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    async def wait(self) -> None:
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        await waiter


class _Group:
    """One consumer group on one topic: events not yet delivered, and the members holding the others."""

    def __init__(self, changes: _Changes) -> None:
        self.pending: deque[tuple[str, Any]] = deque()
        self.members: list[MemorySubscription] = []
        self.changes = changes

    def idle(self) -> bool:
        """Nothing left to deliver or to acknowledge; a group nobody consumes any more is not waited for."""
        return not self.members or (not self.pending and not any(m.unacked for m in self.members))

    def take(self, member: MemorySubscription) -> tuple[str, Any] | None:
        """The oldest pending event whose room no other member is still handling (keeps per-key order)."""
        busy = {key for other in self.members if other is not member for key, _ in other.unacked}
        for index, (key, event) in enumerate(self.pending):
            if key not in busy:
                del self.pending[index]
                return key, event
        return None


class MemorySubscription:
    """A member of a consumer group on the memory bus."""

    def __init__(self, group: _Group) -> None:
        self.group = group
        self.unacked: deque[tuple[str, Any]] = deque()
        self.closed = False
        group.members.append(self)

    async def get(self) -> tuple[str, Any]:
        while True:
            if self.closed:
                raise SubscriptionClosed("get() on a closed subscription")
            item = self.group.take(self)
            if item is not None:
                self.unacked.append(item)
                return item
            await self.group.changes.wait()

    def task_done(self) -> None:
        if self.closed:
            return  # close() already handed the event to another member
        if not self.unacked:
            raise ValueError("task_done() called more times than get() returned events")
        self.unacked.popleft()
        self.group.changes.notify()

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.group.members.remove(self)
        # Unacknowledged events are older than anything pending of their room: they go first.
        self.group.pending.extendleft(reversed(self.unacked))
        self.unacked.clear()
        self.group.changes.notify()


class MemoryBus:
    """In-process bus: events are passed as objects, nothing survives the process."""

    def __init__(self) -> None:
        self.groups: dict[tuple[str, str], _Group] = {}
        self.changes = _Changes()

    def subscribe(self, topic: str, group: str) -> MemorySubscription:
        """A member of `group` on `topic`; the group gets every event published from its creation on."""
        if (topic, group) not in self.groups:
            self.groups[(topic, group)] = _Group(self.changes)
        return MemorySubscription(self.groups[(topic, group)])

    async def publish(self, topic: str, key: str, event: Any) -> None:
        for (group_topic, _), group in self.groups.items():
            if group_topic == topic:
                group.pending.append((key, event))
        self.changes.notify()

    def publish_threadsafe(self, loop: asyncio.AbstractEventLoop, topic: str, key: str, event: Any) -> None:
        asyncio.run_coroutine_threadsafe(self.publish(topic, key, event), loop).result()

    async def start(self) -> None:
        """Nothing to connect; here so both buses are used the same way."""

    async def close(self) -> None:
        for group in self.groups.values():
            for member in list(group.members):
                await member.close()

    async def drain(self) -> None:
        # A handler publishes before it acknowledges, so once all is acknowledged no cascade is under way.
        while not all(group.idle() for group in self.groups.values()):
            await self.changes.wait()


def build_bus(config: dict[str, Any]) -> Bus:
    """The bus the `[bus]` section of the configuration asks for (not started)."""
    section = config["bus"]
    kind = section["kind"]
    if kind == "memory":
        return MemoryBus()
    if kind == "kafka":
        from livecut.bus.kafka import KafkaBus  # aiokafka is only imported when it is used

        return KafkaBus(section["bootstrap_servers"], section["topic_prefix"], section["partitions"])
    raise ConfigError(f'bus.kind must be "memory" or "kafka", not {kind!r}')
