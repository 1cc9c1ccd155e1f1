"""Prometheus metrics of the API and of each worker: bus traffic and lag, stage latency, rooms, clips, errors.

Every metric lives on the `CollectorRegistry` of a `Metrics` object rather than on
prometheus_client's global one, so a test builds a fresh `Metrics()` and reads exact
values. A process uses the module's `METRICS` through the helpers below; the API serves
it with `render_latest()`, a worker process with `serve_metrics()`.

Metrics are per process: Prometheus sums them over the API and the workers it scrapes.
The rooms gauge comes from the shared metadata store, so only one process (the API)
should report it (`METRICS.watch_rooms(...)`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from livecut.store.metadata import ROOM_STATUSES, MetadataStore

log = logging.getLogger(__name__)

# decode: a fragment's audio; vad_asr: VAD and Whisper over one fragment; classify: one batch of
# utterances; render: one clip; end_to_end: a clip's latency_s (request received to clip saved).
STAGES = ("decode", "vad_asr", "classify", "render", "end_to_end")
# From a short classify batch (10 ms) to a long clip's render or end-to-end latency (a minute).
STAGE_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0)

RoomCounts = Callable[[], Mapping[str, int]]


class RoomsCollector:
    """`livecut_rooms{status}`, read from a callable at scrape time so it never goes stale."""

    def __init__(self) -> None:
        self.source: RoomCounts | None = None

    def describe(self) -> list[Metric]:
        # Without describe() the registry would call collect(), i.e. the store, at registration.
        return [self._family()]

    def collect(self) -> Iterator[Metric]:
        if self.source is None:
            return
        try:
            counts = self.source()
        except Exception:  # a store outage must not take the other metrics of the scrape down
            log.warning("rooms gauge: cannot read room statuses", exc_info=True)
            return
        family = self._family()
        for status, count in sorted(counts.items()):
            family.add_metric([status], count)
        yield family

    @staticmethod
    def _family() -> GaugeMetricFamily:
        return GaugeMetricFamily("livecut_rooms", "Rooms by status, read from the metadata store.", labels=["status"])


class Metrics:
    """One process's metrics on their own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.events_in = Counter(
            "livecut_events_in", "Events get() handed to a consumer.", ["topic", "group"], registry=self.registry
        )
        self.events_out = Counter("livecut_events_out", "Events published.", ["topic"], registry=self.registry)
        self.consumer_lag = Gauge(
            "livecut_consumer_lag",
            "Events received but not acknowledged, plus (Kafka) events on the broker not yet received.",
            ["topic", "group"],
            registry=self.registry,
        )
        self.stage_seconds = Histogram(
            "livecut_stage_seconds",
            "Seconds per pipeline stage; end_to_end is a clip's latency_s.",
            ["stage"],
            buckets=STAGE_BUCKETS,
            registry=self.registry,
        )
        self.clips = Counter(
            "livecut_clips", "Clips finished, by outcome.", ["label", "status"], registry=self.registry
        )
        self.errors = Counter("livecut_errors", "Failures, by stage.", ["stage"], registry=self.registry)
        self.dead_letters = Counter(
            "livecut_dead_letters", "Events a stage gave up on after its retries.", ["stage"], registry=self.registry
        )
        self.rooms = RoomsCollector()
        self.registry.register(self.rooms)
        # Series that exist from the start read 0 instead of being absent until the first event.
        for stage in STAGES:
            self.stage_seconds.labels(stage)
            self.errors.labels(stage)

    @contextmanager
    def observe_stage(self, stage: str) -> Iterator[None]:
        """Time the block into stage_seconds; an exception leaving it counts as errors_total{stage} instead."""
        histogram = self._stage(stage)
        start = time.perf_counter()
        try:
            yield
        except Exception:
            self.error(stage)
            raise
        histogram.observe(time.perf_counter() - start)

    def observe_seconds(self, stage: str, seconds: float) -> None:
        """Record a duration measured elsewhere (e.g. across processes)."""
        self._stage(stage).observe(seconds)

    def clip_made(self, label: str, status: str, latency_s: float | None = None) -> None:
        """A clip reached `status` ("ready" or "failed"); its latency_s, when known, goes to end_to_end."""
        self.clips.labels(label, status).inc()
        if latency_s is not None:
            self.observe_seconds("end_to_end", latency_s)

    def error(self, stage: str) -> None:
        self.errors.labels(stage).inc()

    def dead_letter(self, stage: str) -> None:
        self.dead_letters.labels(stage).inc()

    def watch_rooms(self, source: RoomCounts | None) -> None:
        """Report `source()` ({status: count}) as livecut_rooms at each scrape; None stops reporting."""
        self.rooms.source = source

    def _stage(self, stage: str) -> Histogram:
        if stage not in STAGES:
            # A typo would otherwise start a new series that no dashboard shows.
            raise ValueError(f"unknown stage {stage!r}; known: {', '.join(STAGES)}")
        return self.stage_seconds.labels(stage)


METRICS = Metrics()


def observe_stage(stage: str) -> AbstractContextManager[None]:
    """`with observe_stage("render"): ...` on the process's METRICS."""
    return METRICS.observe_stage(stage)


def clip_made(label: str, status: str, latency_s: float | None = None) -> None:
    METRICS.clip_made(label, status, latency_s)


def error(stage: str) -> None:
    METRICS.error(stage)


def room_status_counts(store: MetadataStore) -> dict[str, int]:
    """{status: rooms} for every known status (0 included, so a status that empties reads 0, not absent)."""
    counts: dict[str, int] = {str(status): 0 for status in ROOM_STATUSES}
    for room in store.rooms():
        counts[room.status] = counts.get(room.status, 0) + 1
    return counts


def render_latest(registry: CollectorRegistry | None = None, accept: str | None = None) -> tuple[bytes, str]:
    """The exposition body and its content type; pass the request's Accept header to allow OpenMetrics."""
    encoder, content_type = choose_encoder(accept or "")
    return encoder(registry if registry is not None else METRICS.registry), content_type


def serve_metrics(
    host: str = "127.0.0.1", port: int = 0, registry: CollectorRegistry | None = None
) -> tuple[WSGIServer, threading.Thread]:
    """Serve /metrics from a daemon thread; port 0 takes a free port, which `server.server_port` tells."""
    return start_http_server(port, addr=host, registry=registry if registry is not None else METRICS.registry)


def stop_metrics(server: WSGIServer, thread: threading.Thread) -> None:
    server.shutdown()
    server.server_close()
    thread.join()
