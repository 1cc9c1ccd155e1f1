"""Issue 11, finding 9: the transcribe stage holds the speech state of rooms it is hearing, not of every room
it ever heard. A room whose end never reaches this worker (its partition moved to another) is dropped after
`idle_s` without an event; heard again, it resumes from its stored resume point and loses no clip.

The stage runs as in `livecut serve` (real SegmentBuilder, real SQLite metadata store) on zh_live's script:
Whisper and the audio are left out, each fragment "hears" the script's sentences that end within it (and
start at or after the media time the stage asked it to decode from), labeled as recorded.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import services_without_whisper

from livecut.config import load_config
from livecut.contracts import EndOfStream, Fragment, Utterance, topics
from livecut.runtime.stages.transcribe import TranscribeStage

SCRIPT = json.loads((Path(__file__).parent / "fixtures" / "zh_live.json").read_text(encoding="utf-8"))
FRAGMENT_S = 2.0
IDLE_S = 60.0


class RecordedLabels:
    """The classifier's part: each sentence's label as recorded in the script."""

    def for_brand(self, brand: str | None) -> RecordedLabels:
        return self

    def label(self, utterances: list[Utterance]) -> None:
        by_text = {s["text"]: s for s in SCRIPT["sentences"]}
        for utterance in utterances:
            sentence = by_text[utterance.text]
            utterance.label, utterance.sublabel, utterance.confidence = sentence["label"], sentence["sublabel"], 1.0


class ScriptedTranscribe(TranscribeStage):
    """The transcribe stage with a fragment's audio replaced by the script's sentences ending in it."""

    def _speech_chunks(self, state, fragment: Fragment, start: float) -> list[tuple[Fragment, float]]:
        return [(fragment, start)]

    def _listen_to_end(self, state, end) -> list:
        return []

    def _recognize(self, listened: list) -> list[list[Utterance]]:
        return [
            [
                Utterance(fragment.room, s["t0"], s["t1"], s["text"], "zh")
                for fragment, start in one.chunks
                for s in SCRIPT["sentences"]
                if fragment.t0 <= s["t1"] < fragment.t1 and s["t0"] >= start
            ]
            for one in listened
        ]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def stage_on(tmp_path: Path, name: str, clock: Clock) -> ScriptedTranscribe:
    # Whisper is never asked: the script is the transcript.
    services = services_without_whisper(load_config(), tmp_path / f"{name}.db", None, RecordedLabels())
    return ScriptedTranscribe(services, idle_s=IDLE_S, clock=clock)


def fragments(room: str) -> list[Fragment]:
    count = int(SCRIPT["sentences"][-1]["t1"] / FRAGMENT_S) + 2
    return [Fragment(room, i, i * FRAGMENT_S, (i + 1) * FRAGMENT_S, f"rooms/{room}/{i:06d}.ts") for i in range(count)]


def clips_of(emitted: list) -> list[tuple]:
    return sorted((e.label, e.sublabel, e.t0, e.t1) for topic, _, e in emitted if topic == topics.CLIP_REQUESTS)


def handle(stage: TranscribeStage, room: str, fragment: Fragment | EndOfStream) -> list:
    if isinstance(fragment, Fragment):
        stage.services.store.add_fragment(fragment)
    return stage.handle(room, fragment)


def broadcast(stage: TranscribeStage, room: str, pause_after: int | None = None, clock: Clock | None = None) -> list:
    """The room's fragments and end; after fragment `pause_after`, another room's fragment comes
    `IDLE_S` later (this room's partition went to another worker and came back)."""
    emitted: list = []
    parts = fragments(room)
    for fragment in parts:
        emitted += handle(stage, room, fragment)
        if fragment.seq == pause_after and clock is not None:
            clock.now += IDLE_S + 1
            other = stage.services.store.create_room("other", "push").id
            handle(stage, other, fragments(other)[0])
            assert set(stage.rooms) == {other}, "the idle room's state is dropped"
    return emitted + handle(stage, room, EndOfStream(room, parts[-1].t1))


def test_an_idle_rooms_state_is_dropped_and_its_clips_are_kept(tmp_path):
    steady_clock, paused_clock = Clock(), Clock()
    steady, paused = stage_on(tmp_path, "steady", steady_clock), stage_on(tmp_path, "paused", paused_clock)
    steady_room = steady.services.store.create_room("steady", "push").id
    paused_room = paused.services.store.create_room("paused", "push").id
    expected = clips_of(broadcast(steady, steady_room))
    # Fragment 12 ends at 26 s: inside the drape run (20.4-30.9 s), so the dropped state held an open run.
    got = clips_of(broadcast(paused, paused_room, pause_after=12, clock=paused_clock))
    assert ("selling_point", "drape") in [c[:2] for c in expected]
    assert len(got) == len(expected), (got, expected)
    for label, sublabel, t0, t1 in expected:
        # The resumed state re-hears from its stored resume point, up to min_s before the open run: a replayed
        # earlier sentence can join the run's clip (as after any takeover), so a clip may start earlier.
        assert any((lab, sub) == (label, sublabel) and r0 <= t0 and t1 <= r1 for lab, sub, r0, r1 in got), (
            f"{label}/{sublabel} {t0}-{t1} lost: {got}"
        )
    assert paused_room not in paused.rooms and steady_room not in steady.rooms, "an ended room is dropped at its end"


def test_rooms_heard_within_the_idle_time_keep_their_state(tmp_path):
    clock = Clock()
    stage = stage_on(tmp_path, "two", clock)
    rooms = [stage.services.store.create_room(f"r{i}", "push").id for i in range(2)]
    for i, (a, b) in enumerate(zip(fragments(rooms[0])[:5], fragments(rooms[1])[:5], strict=True)):
        clock.now += IDLE_S / 2
        handle(stage, rooms[0], a)
        handle(stage, rooms[1], b)
        assert set(stage.rooms) == set(rooms), i


@pytest.mark.parametrize("idle_for", [IDLE_S - 1, IDLE_S + 1])
def test_the_idle_time_is_the_bound(tmp_path, idle_for):
    clock = Clock()
    stage = stage_on(tmp_path, "bound", clock)
    quiet, busy = (stage.services.store.create_room(name, "push").id for name in ("quiet", "busy"))
    handle(stage, quiet, fragments(quiet)[0])
    clock.now += idle_for
    handle(stage, busy, fragments(busy)[0])
    assert (quiet in stage.rooms) == (idle_for < IDLE_S)
