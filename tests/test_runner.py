"""The stage runner's error policy: retries with backoff, dead letters, and a stage that never stops."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

import av

from livecut.bus import MemoryBus
from livecut.config import load_config
from livecut.contracts import ClipRequest, clip_id_for, topics
from livecut.observability.metrics import METRICS
from livecut.runtime.runner import Emit, ErrorPolicy, StageRunner
from livecut.runtime.services import LiveServices
from livecut.runtime.stages.render import RenderStage
from livecut.store import MetadataStore
from stream.ingest import IngestSession
from stream.media_store import LocalMediaStore


@dataclass
class Note:
    text: str


class Doubler:
    """Doubles each note; fails `failures[text]` times for a note before it succeeds, always on "poison"."""

    name = "render"  # a stage name the metrics know
    topic = topics.UTTERANCES
    policy = ErrorPolicy(attempts=3, backoff_s=0.01, permanent=(KeyError,))

    def __init__(self, failures: dict[str, int]) -> None:
        self.failures = failures
        self.calls: list[str] = []
        self.given_up: list[tuple[str, str]] = []

    def handle(self, key: str, event: Note) -> list[Emit]:
        self.calls.append(event.text)
        if event.text == "poison":
            raise ValueError("cannot double poison")
        if event.text == "missing":
            raise KeyError("no such thing")
        if self.failures.get(event.text, 0) > 0:
            self.failures[event.text] -= 1
            raise sqlite3.OperationalError("database is locked")
        return [(topics.CLIPS, key, Note(event.text * 2))]

    def give_up(self, key: str, event: Note, reason: str) -> None:
        self.given_up.append((event.text, reason))


async def run_notes(stage: Doubler, store: MetadataStore, texts: list[str]) -> list[str]:
    bus = MemoryBus()
    out = bus.subscribe(topics.CLIPS, "test")
    runner = StageRunner(stage, bus, store)
    task = asyncio.create_task(runner.run())
    for text in texts:
        await bus.publish(topics.UTTERANCES, "room-1", Note(text))
    made = []
    for _ in range(len([t for t in texts if t not in ("poison", "missing")])):
        _, note = await asyncio.wait_for(out.get(), 5)
        out.task_done()
        made.append(note.text)
    await bus.drain()
    task.cancel()
    return made


def dead_letter_count() -> float:
    return METRICS.dead_letters.labels("render")._value.get()


def test_a_poisoned_event_is_dead_lettered_and_the_stage_goes_on():
    store = MetadataStore(":memory:")
    stage = Doubler({})
    before = dead_letter_count()
    made = asyncio.run(run_notes(stage, store, ["a", "poison", "b"]))
    assert made == ["aa", "bb"]
    assert stage.calls == ["a", "poison", "poison", "poison", "b"]  # tried policy.attempts times
    assert stage.given_up == [("poison", "ValueError: cannot double poison")]
    (letter,) = store.dead_letters("render")
    assert (letter["event_key"], letter["event_type"], letter["reason"]) == (
        "room-1",
        "Note",
        "ValueError: cannot double poison",
    )
    assert '"text": "poison"' in letter["event"]
    assert dead_letter_count() == before + 1


def test_a_passing_error_is_retried_and_its_outputs_published_once():
    store = MetadataStore(":memory:")
    stage = Doubler({"a": 2})
    made = asyncio.run(run_notes(stage, store, ["a", "b"]))
    assert made == ["aa", "bb"]
    assert stage.calls == ["a", "a", "a", "b"]
    assert not stage.given_up and not store.dead_letters()


def test_a_permanent_error_is_not_retried():
    store = MetadataStore(":memory:")
    stage = Doubler({})
    asyncio.run(run_notes(stage, store, ["missing", "c"]))
    assert stage.calls == ["missing", "c"]
    assert [text for text, _ in stage.given_up] == ["missing"]


class SavesFail(MetadataStore):
    """A store whose clip writes fail, as a full disk or a lost database would."""

    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.save_attempts = 0

    def save_clip(self, clip, latency_s):  # noqa: ANN001, ANN201 - the parent's signature
        self.save_attempts += 1
        raise sqlite3.OperationalError("disk I/O error")


class StoreOnly:
    """An ingest sink that only stores the fragments (no bus)."""

    def __init__(self, store: MetadataStore, room: str) -> None:
        self.store, self.room = store, room

    def timeline(self) -> tuple[float, int]:
        return 0.0, 0

    def recorded(self) -> tuple[list, set]:
        return [], set()

    def fragment(self, fragment, discontinuity: bool, next_seq: int) -> None:  # noqa: ANN001
        self.store.add_fragment(fragment, discontinuity=discontinuity)
        self.store.advance_timeline(self.room, fragment.t1, next_seq)

    def end(self, end) -> None:  # noqa: ANN001
        """Nothing listens."""

    def skipped(self, count: int, reason: str) -> None:
        """The committed sample has no corrupt packets."""


def test_a_store_error_in_rendering_is_retried_then_the_clip_fails_with_its_reason(tmp_path, fixtures):
    store = SavesFail(str(tmp_path / "livecut.db"))
    media = LocalMediaStore(tmp_path / "media")
    room = store.create_room("r", "push").id
    flv = tmp_path / "sample.flv"  # as a publisher sends it
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-t", "16", "-i", str(fixtures / "zh_live.mp4"), "-c", "copy", str(flv)],
        check=True,
    )
    with av.open(str(flv), format="flv") as container:
        IngestSession(room, media, StoreOnly(store, room)).run(container)
    request = ClipRequest(
        clip_id_for(room, 8.5, 14.0, "selling_point", "fabric"),
        room,
        f"room:{room}",
        1.0,
        6.0,
        "selling_point",
        "fabric",
        "面料",
    )
    assert store.queue_clip(request)
    services = LiveServices(load_config(), store, media, MemoryBus())
    stage = RenderStage(services)
    stage.policy = ErrorPolicy(attempts=3, backoff_s=0.01, permanent=stage.policy.permanent)

    async def render_one() -> None:
        runner = StageRunner(stage, services.bus, store)
        task = asyncio.create_task(runner.run())
        await services.bus.publish(topics.CLIP_REQUESTS, room, request)
        await services.bus.drain()
        task.cancel()

    asyncio.run(render_one())
    assert store.save_attempts == 3
    clip = store.clip(request.clip_id)
    assert clip["status"] == "failed"
    assert "OperationalError: disk I/O error" in clip["error"]
    assert [d["stage"] for d in store.dead_letters()] == ["render"]


def test_dead_letters_survive_on_disk(tmp_path: Path):
    path = str(tmp_path / "livecut.db")
    MetadataStore(path).add_dead_letter("transcribe", "room-9", Note("x"), "RuntimeError: boom")
    (letter,) = MetadataStore(path).dead_letters()
    assert (letter["stage"], letter["event_key"], letter["reason"]) == ("transcribe", "room-9", "RuntimeError: boom")


class BatchDoubler(Doubler):
    """A Doubler that also takes batches: a batch holding "poison" fails as a whole."""

    batch_size = 8

    def __init__(self, failures: dict[str, int]) -> None:
        super().__init__(failures)
        self.batches: list[list[str]] = []

    def handle_batch(self, items: list[tuple[str, Note]]) -> list[Emit]:
        self.batches.append([event.text for _, event in items])
        if any(event.text == "poison" for _, event in items):
            raise ValueError("cannot double poison")
        return [(topics.CLIPS, key, Note(event.text * 2)) for key, event in items]


def test_events_waiting_together_are_handled_as_one_batch_in_order():
    store = MetadataStore(":memory:")
    stage = BatchDoubler({})
    texts = [f"n{i}" for i in range(12)]
    made = asyncio.run(run_notes(stage, store, texts))
    assert made == [t * 2 for t in texts]
    assert [t for batch in stage.batches for t in batch] == texts
    assert max(len(batch) for batch in stage.batches) > 1, stage.batches
    assert all(len(batch) <= stage.batch_size for batch in stage.batches)


class WeighedBatchDoubler(BatchDoubler):
    """A batch is full once its texts hold 6 characters, however many events that is."""

    def batch_full(self, items: list[tuple[str, Note]]) -> bool:
        return sum(len(event.text) for _, event in items) >= 6


def test_a_stage_that_says_its_batch_is_full_gets_no_more_events_in_it():
    stage = WeighedBatchDoubler({})
    texts = ["aaaa", "bb", "c", "dddd", "e", "f", "g", "hhhhhh", "i"]
    made = asyncio.run(run_notes(stage, MetadataStore(":memory:"), texts))
    assert made == [t * 2 for t in texts]
    # (An event alone goes to `handle`, not `handle_batch`.) Full at 6 characters: a batch takes
    # no event after the one that fills it; without batch_full all nine would fit in one batch of 8.
    assert stage.batches and all(len(batch) > 1 for batch in stage.batches), stage.batches
    assert all(sum(map(len, batch[:-1])) < 6 for batch in stage.batches), stage.batches
    assert not any("i" in batch and "hhhhhh" in batch for batch in stage.batches), stage.batches


def test_a_failed_batch_is_handled_event_by_event_so_only_the_bad_one_is_dead_lettered():
    store = MetadataStore(":memory:")
    stage = BatchDoubler({})
    before = dead_letter_count()
    made = asyncio.run(run_notes(stage, store, ["a", "poison", "b"]))
    assert made == ["aa", "bb"]
    assert any("poison" in batch and len(batch) > 1 for batch in stage.batches)
    assert [text for text, _ in stage.given_up] == ["poison"]
    assert dead_letter_count() == before + 1
    assert [d["event_key"] for d in store.dead_letters()] == ["room-1"]
