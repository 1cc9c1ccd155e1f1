import numpy as np
import pytest

from livecut.contracts import SAMPLE_RATE, AudioChunk
from segmenter.speech_chunker import SpeechChunker, VadSettings
from stream.file_source import FileSource

SETTINGS = VadSettings(min_silence_ms=400, speech_pad_ms=150, max_chunk_s=20.0, step_s=1.0)


@pytest.fixture(scope="module")
def zh_audio(fixtures) -> list[AudioChunk]:
    return [e for e in FileSource(fixtures / "zh_live.mp4", room="r").events() if isinstance(e, AudioChunk)]


def test_one_chunk_per_sentence_emitted_as_soon_as_its_silence_is_confirmed(zh_audio, zh_script):
    chunker = SpeechChunker(SETTINGS)
    emitted: list[tuple[float, float, float]] = []  # (t0, t1, media time when emitted)
    for audio in zh_audio:
        emitted += [(c.t0, c.t1, audio.t1) for c in chunker.feed(audio)]
    emitted += [(c.t0, c.t1, zh_audio[-1].t1) for c in chunker.flush()]
    sentences = zh_script["sentences"]
    assert len(emitted) == len(sentences)
    for (t0, t1, at), sentence in zip(emitted, sentences, strict=True):
        assert t0 == pytest.approx(sentence["t0"], abs=0.3) and t1 == pytest.approx(sentence["t1"], abs=0.3)
        assert at - t1 < 2.5, "a chunk must not wait for the end of the stream"


def test_buffer_stays_bounded_on_a_long_broadcast(zh_audio):
    chunker = SpeechChunker(SETTINGS)
    longest = 0.0
    emitted = 0
    for loop in range(4):  # about five minutes of continuous broadcast
        offset = loop * (zh_audio[-1].t1 + 1.0)
        for audio in zh_audio:
            emitted += len(chunker.feed(AudioChunk("r", audio.t0 + offset, audio.samples)))
            longest = max(longest, chunker.buffered_s)
    assert emitted >= 4 * 19
    assert longest <= SETTINGS.max_chunk_s + SETTINGS.step_s + 1.0


def test_speech_without_pauses_is_cut_at_max_chunk_length(zh_audio, zh_script):
    audio = np.concatenate([c.samples for c in zh_audio])
    spliced = np.concatenate(
        [audio[int(s["t0"] * SAMPLE_RATE) : int(s["t1"] * SAMPLE_RATE)] for s in zh_script["sentences"]]
    )
    chunker = SpeechChunker(VadSettings(min_silence_ms=400, max_chunk_s=10.0))
    chunks = []
    for start in range(0, len(spliced), SAMPLE_RATE):
        piece = spliced[start : start + SAMPLE_RATE]
        chunks += chunker.feed(AudioChunk("r", start / SAMPLE_RATE, piece))
        assert chunker.buffered_s <= 10.0 + 1.0 + 1.0
    chunks += chunker.flush()
    assert sum(c.t1 - c.t0 for c in chunks) > 0.8 * len(spliced) / SAMPLE_RATE
    assert len(chunks) >= 5
    assert all(c.t1 - c.t0 <= 10.0 + 0.5 for c in chunks)
