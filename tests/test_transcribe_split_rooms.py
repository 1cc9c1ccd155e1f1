"""A live room whose fragments are split between keyframes (`[ingest] split_s`): its VAD closes
a sentence as soon as the fragment holding the silence after it is in, not at the next keyframe.
Real fragments of the Mandarin sample and the real VAD; Whisper is not needed to see the chunk close."""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path

import av
import pytest
from support import services_without_whisper

from livecut.config import load_config
from livecut.contracts import EndOfStream, Fragment
from livecut.runtime.stages.transcribe import TranscribeStage
from stream.media_store import LocalMediaStore
from stream.recorder import FragmentRecorder

# zh_live's first sentence ends at 4.15 s (tests/fixtures: utterances of `livecut clip`).
FIRST_SENTENCE_END_S = 4.15


class NoClassifiers:
    def for_brand(self, brand: str | None) -> None:
        return None


def stage_with(tmp_path: Path, media: LocalMediaStore, split_s: float) -> TranscribeStage:
    config = copy.deepcopy(load_config())
    config["ingest"]["split_s"] = split_s
    # Whisper is never asked: only the VAD runs here.
    return TranscribeStage(services_without_whisper(config, tmp_path / f"split-{split_s}.db", media, NoClassifiers()))


@pytest.fixture(scope="module")
def split_fragments(tmp_path_factory, fixtures):
    folder = tmp_path_factory.mktemp("split-room")
    flv = folder / "room.flv"
    command = ["ffmpeg", "-v", "error", "-t", "10", "-i", str(fixtures / "zh_live.mp4"), "-c", "copy", str(flv)]
    subprocess.run(command, check=True)
    media = LocalMediaStore(folder / "media")
    with av.open(str(flv)) as container:
        streams = [container.streams.video[0], container.streams.audio[0]]
        recorder = FragmentRecorder("room", media, streams, split_s=0.5)
        fragments = [f for packet in container.demux(streams) for f in recorder.add(packet)] + recorder.close()
    return media, fragments


def audio_end(media: LocalMediaStore, fragment) -> float:
    with av.open(str(media.local_path(fragment.uri))) as container:
        ends = [float((p.pts + p.duration) * p.time_base) for p in container.demux(audio=0) if p.pts is not None]
    return max(ends, default=fragment.t0)


def closings(stage: TranscribeStage, media: LocalMediaStore, fragments: list) -> list[tuple[float, float]]:
    """Per sentence the VAD gave out: the end of its chunk, and the audio end of the fragment it came after."""
    closed = []
    for fragment in fragments:
        for chunk in stage._listen("room", [fragment]).chunks:
            closed.append((chunk.t1, audio_end(media, fragment)))
    return closed


# The VAD confirms a sentence's end once it has heard min_silence + speech_pad (0.55 s) past its padded end.
CONFIRM_S = 0.55


@pytest.mark.parametrize("split_s", [0.5, 0.0], ids=["split room", "unsplit config"])
def test_a_split_rooms_vad_closes_each_sentence_at_the_first_fragment_that_confirms_it(
    tmp_path, split_fragments, split_s
):
    media, fragments = split_fragments
    ends = [audio_end(media, f) for f in fragments]
    closed = closings(stage_with(tmp_path, media, split_s), media, fragments)
    assert len(closed) >= 2 and closed[0][0] == pytest.approx(FIRST_SENTENCE_END_S, abs=0.5)
    prompt = [
        heard_to == pytest.approx(min(e for e in ends if e >= end + CONFIRM_S - 0.01), abs=1e-3)
        for end, heard_to in closed
    ]
    # Without split_s the stage holds audio back to whole seconds and runs the VAD every second:
    # on these fragments the second sentence then waits a fragment longer (measured 9.17 s, not 8.66 s).
    assert all(prompt) if split_s else not all(prompt)


def test_a_batch_is_full_at_batch_media_s_of_media_whatever_the_fragments_length(tmp_path):
    stage = stage_with(tmp_path, LocalMediaStore(tmp_path / "media"), split_s=0.5)
    assert stage.batch_media_s == 128.0

    def fragments(length: float, count: int) -> list:
        return [("r", Fragment("r", n, n * length, (n + 1) * length, f"{n}.ts")) for n in range(count)]

    # 64 whole fragments or 256 split ones are 128 s of media; an end of stream weighs nothing.
    assert not stage.batch_full(fragments(2.0, 63)) and stage.batch_full(fragments(2.0, 64))
    assert not stage.batch_full(fragments(0.5, 255)) and stage.batch_full(fragments(0.5, 256))
    assert not stage.batch_full([*fragments(2.0, 63), ("r", EndOfStream("r", 126.0))])
