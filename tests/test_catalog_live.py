"""Clip ↔ product in the live path: the transcribe stage links a room's utterances to its lineup.

The stage runs as in `livecut serve` (real SegmentBuilder, real SQLite metadata store, real
catalog.ProductLinker) on a scripted broadcast: the products of tests/fixtures/catalog/products.json
on a lineup, the host's lines of tests/fixtures/zh_live.json about the dress and of products.json
about the cardigan, with their recorded labels. Whisper and the audio are left out: each fragment
"hears" the scripted utterances that end within it, labeled as recorded.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog import load_products
from livecut.bus import MemoryBus
from livecut.config import load_config
from livecut.contracts import ClipReady, ClipRequest, EndOfStream, Fragment, Utterance, clip_id_for, topics
from livecut.runtime.services import LiveServices
from livecut.runtime.settings import transcriber_settings
from livecut.runtime.stages.render import RenderStage
from livecut.runtime.stages.transcribe import TranscribeStage
from livecut.store import MetadataStore
from stream.media_store import LocalMediaStore

FIXTURES = Path(__file__).parent / "fixtures"
FRAGMENT_S = 2.0
PAUSE_S = 0.7


def broadcast() -> list[tuple[str, str, str | None]]:
    """(text, label, sublabel) in the order said: a welcome, link 1 (the cardigan), then the next one (the dress)."""
    cardigan = json.loads((FIXTURES / "catalog" / "products.json").read_text(encoding="utf-8"))[0]
    dress = json.loads((FIXTURES / "zh_live.json").read_text(encoding="utf-8"))["sentences"]
    lines = [("哈喽宝宝们，欢迎来到我的直播间", "chitchat", None), ("我们先看1号链接", "call_to_action", None)]
    for said in cardigan["speech"]:
        lines.append((said["text"], "selling_point", "fabric"))
    lines += [("这个面料也很亲肤，是精选的羊毛混纺", "selling_point", "fabric")]
    lines += [("好，下一款，红裙子", "call_to_action", None)]
    lines += [(s["text"], s["label"], s["sublabel"]) for s in dress[2:11]]
    return lines


def timed(lines: list[tuple[str, str, str | None]], room: str) -> list[tuple[Utterance, str, str | None]]:
    """Each line lasts a syllable's 0.25 s per character, with a pause between lines."""
    out, t = [], 1.0
    for text, label, sublabel in lines:
        t1 = t + max(1.5, 0.25 * len(text))
        out.append((Utterance(room, round(t, 2), round(t1, 2), text, "zh"), label, sublabel))
        t = t1 + PAUSE_S
    return out


class RecordedLabels:
    """The classifier's part, as recorded in the script: label, sublabel and full confidence."""

    def __init__(self, labels: dict[str, tuple[str, str | None]]) -> None:
        self.labels = labels

    def for_brand(self, brand: str | None) -> RecordedLabels:
        return self

    def label(self, utterances: list[Utterance]) -> None:
        for utterance in utterances:
            utterance.label, utterance.sublabel = self.labels[utterance.text]
            utterance.confidence = 1.0


class ScriptedTranscribe(TranscribeStage):
    """The transcribe stage with the fragment's audio replaced by the scripted utterances ending in it."""

    def __init__(self, services: LiveServices, script: list[Utterance]) -> None:
        super().__init__(services)
        self.script = script

    def _speech_chunks(self, state, fragment: Fragment, start: float) -> list[Fragment]:
        return [fragment]

    def _listen_to_end(self, state, end) -> list:
        return []

    def _recognize(self, listened: list) -> list[list[Utterance]]:
        return [[_copy(u, f.room) for f in one.chunks for u in self.script if f.t0 <= u.t1 < f.t1] for one in listened]


def _copy(utterance: Utterance, room: str) -> Utterance:
    return Utterance(room, utterance.t0, utterance.t1, utterance.text, utterance.lang)


@pytest.fixture
def live(tmp_path):
    config = load_config()
    store = MetadataStore(tmp_path / "livecut.db")
    room = store.create_room("live", "push", tenant="brand-a", brand="Lumi")
    products = load_products(FIXTURES / "catalog" / "products.json")
    store.import_products("brand-a", [p.to_dict() for p in products])
    cardigan, dress = (store.product_by_sku("brand-a", sku) for sku in ("CARD-001", "DRESS-002"))
    store.set_lineup(room.id, [(1, cardigan["id"]), (2, dress["id"])])
    lines = broadcast()
    script = timed(lines, room.id)
    services = LiveServices(
        config,
        store,
        LocalMediaStore(tmp_path / "media"),
        MemoryBus(),
        transcriber_settings=transcriber_settings(config),
        recognizer=object(),  # never asked: the script is the transcript
        classifiers=RecordedLabels({text: (label, sublabel) for text, label, sublabel in lines}),
    )
    yield store, room.id, services, [u for u, _, _ in script]
    store.close()


def fragments_of(room: str, script: list[Utterance]) -> list[Fragment]:
    end = script[-1].t1 + 10.0
    count = int(end / FRAGMENT_S) + 1
    key = f"rooms/{room}/fragments/{{:06d}}.ts"
    return [Fragment(room, i, i * FRAGMENT_S, (i + 1) * FRAGMENT_S, key.format(i)) for i in range(count)]


def run(stage: TranscribeStage, room: str, fragments: list[Fragment], end: float | None = None):
    emitted = []
    for fragment in fragments:
        stage.services.store.add_fragment(fragment)
        emitted += stage.handle(room, fragment)
    if end is not None:
        emitted += stage.handle(room, EndOfStream(room, end))
    utterances = [e for topic, _, e in emitted if topic == topics.UTTERANCES]
    requests = [e for topic, _, e in emitted if topic == topics.CLIP_REQUESTS]
    return utterances, requests


def product_said(utterances: list[Utterance]) -> list[tuple[str, str | None]]:
    return [(u.text, u.product) for u in utterances]


def test_a_rooms_utterances_and_clips_carry_the_product_of_its_lineup(live):
    store, room, services, script = live
    fragments = fragments_of(room, script)
    utterances, requests = run(ScriptedTranscribe(services, script), room, fragments, end=fragments[-1].t1)

    said = product_said(utterances)
    assert said[0] == ("哈喽宝宝们，欢迎来到我的直播间", None), "nothing is presented before the first cue"
    assert said[1] == ("我们先看1号链接", "CARD-001")
    next_one = [text for text, _ in said].index("好，下一款，红裙子")
    assert {p for _, p in said[1:next_one]} == {"CARD-001"}, "the cardigan is carried until the next cue"
    assert {p for _, p in said[next_one:]} == {"DRESS-002"}
    assert [u["product"] for u in store.utterances(room)] == [p for _, p in said]

    assert requests, "the selling points make clips"
    for request in requests:
        spoken = {u.product for u in utterances if u.t0 >= request.t0 - 1 and u.t1 <= request.t1 + 1}
        assert spoken == {request.product}, (request.text, request.product, spoken)
        assert store.clip(request.clip_id)["product"] == request.product
    assert {r.product for r in requests} == {"CARD-001", "DRESS-002"}
    dress_clips = store.clips(product="DRESS-002", tenant="brand-a")
    assert {c["clip_id"] for c in dress_clips} == {r.clip_id for r in requests if r.product == "DRESS-002"}


def test_a_worker_taking_the_room_over_carries_the_product_presented_before_its_resume_point(live):
    store, room, services, script = live
    fragments = fragments_of(room, script)
    # The first worker hears up to a point during the dress's drape talk, well after its cue...
    cue = next(u for u in script if u.text == "好，下一款，红裙子")
    cut = next(i for i, f in enumerate(fragments) if f.t0 > cue.t1 + 20.0)
    first, _ = run(ScriptedTranscribe(services, script), room, fragments[:cut])
    assert store.room(room).resume_from > cue.t1, "the open run starts after the cue: the replay does not hear it"
    # ...then dies; another takes over from the stored resume point and must still know the dress is on air.
    later, requests = run(ScriptedTranscribe(services, script), room, fragments[cut:], end=fragments[-1].t1)
    assert later and {u.product for u in later} == {"DRESS-002"}
    assert requests and {r.product for r in requests if r.t0 > cue.t1} == {"DRESS-002"}


def test_without_a_lineup_nothing_gets_a_product(live):
    store, room, services, script = live
    store.set_lineup(room, [])
    utterances, requests = run(ScriptedTranscribe(services, script), room, fragments_of(room, script)[:30])
    assert utterances and all(u.product is None for u in utterances)
    assert all(r.product is None for r in requests)


def test_a_lineup_set_during_the_broadcast_is_picked_up(live):
    store, room, services, script = live
    lineup = [(e["link"], e["product"]["id"]) for e in store.lineup(room)]
    store.set_lineup(room, [])
    stage = ScriptedTranscribe(services, script)
    fragments = fragments_of(room, script)
    before, _ = run(stage, room, fragments[:1])
    store.set_lineup(room, lineup)
    after, _ = run(stage, room, fragments[1:20])
    assert all(u.product is None for u in before)
    assert "CARD-001" in {u.product for u in after}


class UnrenderedClips(RenderStage):
    """The render stage with the cutting left out (tests/clipper covers it): the clip names files it did not make."""

    def _render(self, request: ClipRequest) -> ClipReady:
        files = f"rooms/{request.room}/clips/{request.clip_id}"
        return ClipReady(
            request.clip_id,
            request.room,
            request.source,
            request.t0,
            request.t1,
            request.label,
            request.sublabel,
            request.text,
            f"{files}.mp4",
            f"{files}.srt",
            f"{files}.vtt",
            f"{files}.jpg",
            request.duration,
        )


def test_a_trim_or_range_clip_gets_the_product_its_utterances_were_about(live):
    store, room, services, script = live
    run(ScriptedTranscribe(services, script), room, fragments_of(room, script), end=script[-1].t1 + 10)
    cue = next(u for u in script if u.text == "好，下一款，红裙子")
    t0, t1 = cue.t1 + 1.0, cue.t1 + 9.0
    request = ClipRequest(
        clip_id_for(room, t0, t1, "selling_point", None),
        room,
        f"room:{room}",
        t0,
        t1,
        "selling_point",
        None,
        "operator's range",
    )
    assert request.product is None and store.request_clip(request)
    clip = UnrenderedClips(services).render(request)
    assert clip.product == "DRESS-002" and store.clip(request.clip_id)["product"] == "DRESS-002"


def test_the_lineup_joins_the_rooms_whisper_vocabulary(live):
    """Issue 12 x 13: the host's product words are hotwords and correction targets of the room."""
    store, room, services, script = live
    stage = ScriptedTranscribe(services, script)
    state = stage._new_state(room, store.room(room))
    terms = state.products.terms()
    assert {"1号链接", "2号链接"} <= set(terms)
    hotwords = state.speech.transcriber.vocabulary.hotwords["zh"]
    assert "1号链接" in hotwords
    title_words = [w for w in terms if w not in ("1号链接", "2号链接")]
    assert title_words and all(w in hotwords for w in title_words[:3])


def test_fragments_of_several_rooms_handled_in_batches_give_what_one_at_a_time_gives(live):
    """The stage batches the fragments that wait (livecut serve behind, or a recorded file): two
    rooms' fragments interleaved in batches of 7, ends included, make each room's utterances,
    products and clips exactly as the same fragments one at a time."""
    store, room, services, script = live
    fragments = fragments_of(room, script)
    alone, alone_requests = run(ScriptedTranscribe(services, script), room, fragments, end=fragments[-1].t1)

    lineup = [(e["link"], e["product"]["id"]) for e in store.lineup(room)]
    others = [store.create_room(f"batched {i}", "push", tenant="brand-a", brand="Lumi").id for i in range(2)]
    events: list[tuple[str, Fragment | EndOfStream]] = []
    for other in others:
        store.set_lineup(other, lineup)
    for fragment in fragments:
        for other in others:
            copy = Fragment(other, fragment.seq, fragment.t0, fragment.t1, fragment.uri.replace(room, other))
            store.add_fragment(copy)
            events.append((other, copy))
    events += [(other, EndOfStream(other, fragments[-1].t1)) for other in others]
    stage = ScriptedTranscribe(services, script)
    emitted = [e for start in range(0, len(events), 7) for e in stage.handle_batch(events[start : start + 7])]

    def spans(requests: list[ClipRequest]) -> list[tuple]:
        return [(r.t0, r.t1, r.label, r.sublabel, r.product) for r in requests]

    for other in others:
        utterances = [e for topic, key, e in emitted if topic == topics.UTTERANCES and key == other]
        requests = [e for topic, key, e in emitted if topic == topics.CLIP_REQUESTS and key == other]
        assert product_said(utterances) == product_said(alone)
        assert spans(requests) == spans(alone_requests)
        assert store.room(other).processed_to == store.room(room).processed_to
    assert not stage.rooms, "every room's state is dropped at its end"
