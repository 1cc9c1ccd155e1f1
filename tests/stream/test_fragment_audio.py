import subprocess

import av
import numpy as np
import pytest

from livecut.contracts import SAMPLE_RATE
from stream.fragment_audio import FragmentAudio
from stream.media_store import LocalMediaStore
from stream.recorder import FragmentRecorder


def audio_end(path) -> float:
    with av.open(str(path)) as container:
        return max(float((p.pts + p.duration) * p.time_base) for p in container.demux(audio=0) if p.pts is not None)


@pytest.mark.parametrize(("whole_chunks", "split_s"), [(True, None), (False, 0.5)], ids=["file", "live"])
def test_fragment_by_fragment_audio_is_the_continuous_signal(tmp_path, fixtures, whole_chunks, split_s):
    flv = tmp_path / "room.flv"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-t", "20", "-i", str(fixtures / "zh_live.mp4"), "-c", "copy", str(flv)], check=True
    )
    store = LocalMediaStore(tmp_path / "media")
    with av.open(str(flv)) as container:
        streams = [container.streams.video[0], container.streams.audio[0]]
        recorder = FragmentRecorder("room", store, streams, split_s=split_s)
        fragments = [f for packet in container.demux(streams) for f in recorder.add(packet)] + recorder.close()
    assert len(fragments) >= 8

    audio = FragmentAudio("room", whole_chunks=whole_chunks)
    per_fragment = [audio.decode(f, store.local_path(f.uri)) for f in fragments]
    chunks = [c for out in per_fragment for c in out] + audio.flush(0.0)
    if whole_chunks:
        assert all(len(c.samples) == SAMPLE_RATE for c in chunks[:-1])
    else:
        # A live room's audio comes out to the end of its fragment's audio (less the resampler's few samples).
        heard = [(f, out) for f, out in zip(fragments, per_fragment, strict=True) if out]
        assert len(heard) >= len(fragments) - 1  # -t 20 can leave a last fragment of video alone
        assert all(out[-1].t1 == pytest.approx(audio_end(store.local_path(f.uri)), abs=0.03) for f, out in heard)
    for before, after in zip(chunks, chunks[1:], strict=False):
        assert after.t0 == pytest.approx(before.t1, abs=1e-6)
    live = np.concatenate([c.samples for c in chunks])

    with av.open(str(flv)) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        frames = [out for f in container.decode(audio=0) for out in resampler.resample(f)]
        first_audio = frames[0].time
    whole = np.concatenate([f.to_ndarray().reshape(-1) for f in frames])
    skip = int(round((chunks[0].t0 - first_audio) * SAMPLE_RATE))
    overlap = min(len(live), len(whole) - skip)
    assert overlap > 18 * SAMPLE_RATE
    assert np.abs(live[:overlap] - whole[skip : skip + overlap]).max() < 1e-3
