"""Metrics: bus traffic and lag through InstrumentedBus, stage timings, rooms from the store, /metrics over HTTP.

Values are read back the way Prometheus reads them: from the exposition text.
"""

from __future__ import annotations

import asyncio
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

# The shared bus contract, run again here on a memory bus wrapped by InstrumentedBus (make_bus below).
from test_bus_contract import (  # noqa: F401
    test_drain_waits_until_events_and_the_events_they_caused_are_handled,
    test_every_group_gets_every_event,
    test_members_of_one_group_share_its_events_each_once,
    test_one_rooms_events_arrive_in_publish_order,
    test_publish_from_a_worker_thread,
    test_unacknowledged_event_goes_to_the_next_member_and_acknowledged_ones_do_not,
)

from livecut.bus import Bus, MemoryBus
from livecut.bus.instrumented import InstrumentedBus
from livecut.bus.kafka import KafkaBus
from livecut.contracts import Fragment
from livecut.observability import metrics as metrics_module
from livecut.observability.metrics import METRICS, STAGE_BUCKETS, Metrics, render_latest, serve_metrics, stop_metrics
from livecut.store import MetadataStore

pytest_plugins = ["servers.tansu"]

KAFKA_TIMEOUT_S = 45.0


@pytest.fixture
def make_bus():
    return lambda: InstrumentedBus(MemoryBus(), Metrics())


def samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """{(sample name, sorted labels): value} parsed from the exposition text."""
    body, content_type = render_latest(metrics.registry)
    assert content_type.startswith("text/plain")
    return parse(body.decode())


def parse(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(metrics: Metrics, name: str, **labels: str) -> float | None:
    return samples(metrics).get((name, tuple(sorted(labels.items()))))


def fragment(room: str, seq: int) -> Fragment:
    return Fragment(room=room, seq=seq, t0=2.0 * seq, t1=2.0 * seq + 2, uri=f"rooms/{room}/{seq:06d}.ts")


def test_events_in_out_and_lag_are_counted_on_a_memory_bus():
    metrics = Metrics()
    fragments = {"topic": "fragments", "group": "transcribe"}

    async def scenario() -> list[float | None]:
        bus: Bus = InstrumentedBus(MemoryBus(), metrics)
        subscription = bus.subscribe("fragments", "transcribe")
        await bus.start()
        seen = [value(metrics, "livecut_consumer_lag", **fragments)]
        for seq in range(3):
            await bus.publish("fragments", "room-1", fragment("room-1", seq))
        await bus.publish("utterances", "room-1", fragment("room-1", 9))  # nobody subscribes: out, never in
        for _ in range(2):
            await subscription.get()
            seen.append(value(metrics, "livecut_consumer_lag", **fragments))
        subscription.task_done()
        seen.append(value(metrics, "livecut_consumer_lag", **fragments))
        subscription.task_done()
        await subscription.get()
        subscription.task_done()
        seen.append(value(metrics, "livecut_consumer_lag", **fragments))
        await bus.close()
        return seen

    assert asyncio.run(scenario()) == [0.0, 1.0, 2.0, 1.0, 0.0]
    assert value(metrics, "livecut_events_out_total", topic="fragments") == 3.0
    assert value(metrics, "livecut_events_out_total", topic="utterances") == 1.0
    assert value(metrics, "livecut_events_in_total", **fragments) == 3.0
    assert value(metrics, "livecut_events_in_total", topic="utterances", group="transcribe") is None


def test_closing_a_subscription_takes_its_unacknowledged_events_off_the_lag():
    metrics = Metrics()
    render = {"topic": "clip_requests", "group": "render"}

    async def scenario() -> tuple[float | None, float | None]:
        bus = InstrumentedBus(MemoryBus(), metrics)
        first = bus.subscribe("clip_requests", "render")
        for seq in range(2):
            await bus.publish("clip_requests", "room-1", fragment("room-1", seq))
        await first.get()
        await first.get()
        await first.close()
        first.task_done()  # after close() it changes nothing, as on the inner bus
        after_close = value(metrics, "livecut_consumer_lag", **render)
        second = bus.subscribe("clip_requests", "render")
        await second.get()
        during = value(metrics, "livecut_consumer_lag", **render)
        await bus.close()
        return after_close, during

    assert asyncio.run(scenario()) == (0.0, 1.0)
    assert value(metrics, "livecut_events_in_total", **render) == 3.0  # the handed-over event counts again
    assert value(metrics, "livecut_consumer_lag", **render) == 0.0


def test_kafka_lag_counts_events_on_the_broker_not_yet_received(tansu):
    metrics = Metrics()
    labels = {"topic": "fragments", "group": "transcribe"}

    async def lag_becomes(expected: float) -> float | None:
        for _ in range(100):
            if value(metrics, "livecut_consumer_lag", **labels) == expected:
                break
            await asyncio.sleep(0.02)
        return value(metrics, "livecut_consumer_lag", **labels)

    async def scenario() -> list[float | None]:
        kafka = KafkaBus(tansu.bootstrap_servers, topic_prefix="metrics.", partitions=1, client_id="metrics")
        bus = InstrumentedBus(kafka, metrics)
        subscription = bus.subscribe("fragments", "transcribe")
        try:
            # Published before the consumer starts, so its first fetch sees all five: aiokafka learns a
            # partition's highwater only from fetches, and does not fetch while records are buffered.
            for seq in range(5):
                await bus.publish("fragments", "room-1", fragment("room-1", seq))
            await bus.start()
            await subscription.get()
            seen = [await lag_becomes(5.0)]  # one received and unacknowledged, four still on the broker
            subscription.task_done()
            seen.append(await lag_becomes(4.0))
            for _ in range(4):
                await subscription.get()
                subscription.task_done()
            seen.append(await lag_becomes(0.0))
            return seen
        finally:
            await bus.close()

    assert asyncio.run(asyncio.wait_for(scenario(), KAFKA_TIMEOUT_S)) == [5.0, 4.0, 0.0]
    assert value(metrics, "livecut_events_in_total", **labels) == 5.0
    assert value(metrics, "livecut_events_out_total", topic="fragments") == 5.0


def test_publish_from_a_thread_is_counted_once():
    metrics = Metrics()

    async def scenario() -> None:
        bus = InstrumentedBus(MemoryBus(), metrics)
        subscription = bus.subscribe("fragments", "transcribe")
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, bus.publish_threadsafe, loop, "fragments", "room-1", fragment("room-1", 0))
        await subscription.get()
        subscription.task_done()
        await bus.close()

    asyncio.run(scenario())
    assert value(metrics, "livecut_events_out_total", topic="fragments") == 1.0
    assert value(metrics, "livecut_events_in_total", topic="fragments", group="transcribe") == 1.0


def test_observe_stage_counts_timings_and_errors_instead_of_failed_timings():
    metrics = Metrics()
    for _ in range(3):
        with metrics.observe_stage("decode"):
            pass
    with pytest.raises(RuntimeError), metrics.observe_stage("render"):
        raise RuntimeError("ffmpeg died")
    metrics.observe_seconds("render", 12.0)
    got = samples(metrics)
    assert got[("livecut_stage_seconds_count", (("stage", "decode"),))] == 3.0
    assert 0.0 <= got[("livecut_stage_seconds_sum", (("stage", "decode"),))] < 1.0
    assert got[("livecut_stage_seconds_count", (("stage", "render"),))] == 1.0
    assert got[("livecut_stage_seconds_bucket", (("le", "10.0"), ("stage", "render")))] == 0.0
    assert got[("livecut_stage_seconds_bucket", (("le", "20.0"), ("stage", "render")))] == 1.0
    assert got[("livecut_errors_total", (("stage", "render"),))] == 1.0
    assert got[("livecut_errors_total", (("stage", "decode"),))] == 0.0
    assert len([key for key in got if key[0] == "livecut_stage_seconds_bucket" and ("stage", "vad_asr") in key[1]]) == (
        len(STAGE_BUCKETS) + 1
    )


def test_an_unknown_stage_is_refused():
    with pytest.raises(ValueError, match="unknown stage 'randering'"), Metrics().observe_stage("randering"):
        pass


def test_clips_and_end_to_end_latency():
    metrics = Metrics()
    metrics.clip_made("price_promo", "ready", latency_s=7.5)
    metrics.clip_made("price_promo", "ready", latency_s=9.0)
    metrics.clip_made("selling_point", "failed")
    metrics.error("publish")
    got = samples(metrics)
    assert got[("livecut_clips_total", (("label", "price_promo"), ("status", "ready")))] == 2.0
    assert got[("livecut_clips_total", (("label", "selling_point"), ("status", "failed")))] == 1.0
    assert got[("livecut_stage_seconds_count", (("stage", "end_to_end"),))] == 2.0
    assert got[("livecut_stage_seconds_sum", (("stage", "end_to_end"),))] == 16.5
    assert got[("livecut_errors_total", (("stage", "publish"),))] == 1.0


def test_module_helpers_count_on_the_process_metrics():
    def clips() -> float:
        return value(METRICS, "livecut_clips_total", label="helper_test", status="ready") or 0.0

    def decodes() -> float:
        return value(METRICS, "livecut_stage_seconds_count", stage="decode")

    before_clips, before_decodes = clips(), decodes()
    metrics_module.clip_made("helper_test", "ready")
    with metrics_module.observe_stage("decode"):
        pass
    assert (clips(), decodes()) == (before_clips + 1, before_decodes + 1)


def test_rooms_gauge_reads_the_store_at_each_scrape():
    store = MetadataStore(":memory:")
    metrics = Metrics()
    try:
        assert not [key for key in samples(metrics) if key[0] == "livecut_rooms"]  # nothing registered yet
        metrics.watch_rooms(lambda: metrics_module.room_status_counts(store))
        rooms = [store.create_room(f"room {n}", "push") for n in range(4)]
        store.set_room_status(rooms[0].id, "live")
        store.set_room_status(rooms[1].id, "live")
        store.set_room_status(rooms[2].id, "error", "bad stream")
        first = {labels[0][1]: v for (name, labels), v in samples(metrics).items() if name == "livecut_rooms"}
        store.set_room_status(rooms[0].id, "ended")
        second = value(metrics, "livecut_rooms", status="live"), value(metrics, "livecut_rooms", status="ended")
    finally:
        store.close()
    assert first == {"waiting": 1.0, "live": 2.0, "reconnecting": 0.0, "ended": 0.0, "error": 1.0}
    assert second == (1.0, 1.0)


def test_a_failing_rooms_source_leaves_the_other_metrics_readable(caplog):
    metrics = Metrics()
    metrics.error("decode")

    def broken() -> dict[str, int]:
        raise OSError("database unreachable")

    metrics.watch_rooms(broken)
    got = samples(metrics)
    assert got[("livecut_errors_total", (("stage", "decode"),))] == 1.0
    assert not [key for key in got if key[0] == "livecut_rooms"]
    assert "cannot read room statuses" in caplog.text


def test_serve_metrics_answers_over_http_and_stops():
    metrics = Metrics()
    metrics.clip_made("call_to_action", "ready", latency_s=3.0)
    server, thread = serve_metrics("127.0.0.1", 0, metrics.registry)
    try:
        host, port = server.server_address[:2]
        assert host == "127.0.0.1" and port > 0
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain")
            got = parse(response.read().decode())
    finally:
        stop_metrics(server, thread)
    assert got[("livecut_clips_total", (("label", "call_to_action"), ("status", "ready")))] == 1.0
    assert not thread.is_alive()
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2)


def test_render_latest_speaks_openmetrics_when_asked():
    body, content_type = render_latest(Metrics().registry, accept="application/openmetrics-text; version=1.0.0")
    assert content_type.startswith("application/openmetrics-text")
    assert body.rstrip().endswith(b"# EOF")
