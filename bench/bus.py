"""Bus throughput and latency: the memory bus, and KafkaBus on a tansu broker this script starts.

One consumer group with one member reads a topic while this process publishes Fragment
events for a few rooms (keys). Three runs per bus:

- sequential: one publish after another, each awaited (what a pipeline worker does);
- concurrent: up to --window publishes in flight at once (several rooms publishing);
- paced: --rate events per second, for the end-to-end latency of a bus that is not saturated.

Latency is from the publish call to the consumer's get() returning the event.

    .venv/bin/python bench/bus.py --events 3000 --rate 200
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from servers.tansu import start_tansu  # noqa: E402

from livecut.bus import Bus, MemoryBus  # noqa: E402
from livecut.bus.kafka import KafkaBus  # noqa: E402
from livecut.contracts import Fragment  # noqa: E402

TOPIC = "fragments"
ROOMS = 8


class Run:
    """Publish times by sequence number and the latencies the consumer measured."""

    def __init__(self, events: int) -> None:
        self.events = events
        self.sent: dict[int, float] = {}
        self.latencies: list[float] = []
        self.all_received = asyncio.Event()

    def received(self, seq: int) -> None:
        self.latencies.append(time.perf_counter() - self.sent[seq])
        if len(self.latencies) == self.events:
            self.all_received.set()


async def consume(bus: Bus, run_for: Callable[[], Run | None], subscription) -> None:
    while True:
        _, event = await subscription.get()
        run = run_for()
        if run is not None:
            run.received(event.seq)
        subscription.task_done()


async def publish_one(bus: Bus, run: Run, seq: int) -> None:
    room = f"room-{seq % ROOMS}"
    run.sent[seq] = time.perf_counter()
    await bus.publish(TOPIC, room, Fragment(room, seq, 2.0 * seq, 2.0 * seq + 2, f"rooms/{room}/{seq:06d}.ts"))


async def publish_sequential(bus: Bus, run: Run, window: int, rate: float) -> None:
    for seq in range(run.events):
        await publish_one(bus, run, seq)


async def publish_concurrent(bus: Bus, run: Run, window: int, rate: float) -> None:
    slots = asyncio.Semaphore(window)

    async def one(seq: int) -> None:
        async with slots:
            await publish_one(bus, run, seq)

    await asyncio.gather(*(one(seq) for seq in range(run.events)))


async def publish_paced(bus: Bus, run: Run, window: int, rate: float) -> None:
    start = time.perf_counter()
    for seq in range(run.events):
        await asyncio.sleep(max(0.0, start + seq / rate - time.perf_counter()))
        await publish_one(bus, run, seq)


MODES = {"sequential": publish_sequential, "concurrent": publish_concurrent, "paced": publish_paced}


async def bench_bus(bus: Bus, events: int, window: int, rate: float) -> list[dict]:
    current: list[Run | None] = [None]
    subscription = bus.subscribe(TOPIC, "bench")
    await bus.start()
    consumer = asyncio.create_task(consume(bus, lambda: current[0], subscription))
    results = []
    try:
        for mode, publish in MODES.items():
            count = min(events, int(rate * 10)) if mode == "paced" else events
            run = current[0] = Run(count)
            start = time.perf_counter()
            await publish(bus, run, window, rate)
            await asyncio.wait_for(run.all_received.wait(), 300)
            results.append(summary(mode, run, time.perf_counter() - start))
            await bus.drain()
    finally:
        consumer.cancel()
        await bus.close()
    return results


def summary(mode: str, run: Run, wall: float) -> dict:
    latencies = sorted(run.latencies)
    return {
        "mode": mode,
        "events": run.events,
        "per_s": run.events / wall,
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * latencies[max(0, round(0.95 * len(latencies)) - 1)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=3000, help="events per sequential and concurrent run")
    parser.add_argument("--window", type=int, default=64, help="publishes in flight in the concurrent run")
    parser.add_argument("--rate", type=float, default=200.0, help="events per second in the paced run (10 s)")
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--skip-kafka", action="store_true")
    args = parser.parse_args()
    print(f"{'bus':<7} {'mode':<11} {'events':>6} {'events/s':>9} {'p50 ms':>8} {'p95 ms':>8}")
    report("memory", asyncio.run(bench_bus(MemoryBus(), args.events, args.window, args.rate)))
    if args.skip_kafka:
        return
    with tempfile.TemporaryDirectory(prefix="livecut-bench-bus-") as scratch:
        broker = start_tansu(Path(scratch))
        try:
            bus = KafkaBus(broker.bootstrap_servers, "bench.", args.partitions, client_id="bench")
            report("kafka", asyncio.run(bench_bus(bus, args.events, args.window, args.rate)))
        finally:
            broker.stop()


def report(name: str, results: list[dict]) -> None:
    for r in results:
        print(f"{name:<7} {r['mode']:<11} {r['events']:6d} {r['per_s']:9.0f} {r['p50_ms']:8.2f} {r['p95_ms']:8.2f}")


if __name__ == "__main__":
    main()
