"""FragmentRecorder and HLS playlist on real FLV input (ffmpeg-made), read back with PyAV and ffmpeg."""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import av
import pytest

from livecut.contracts import Fragment
from stream.hls import write_playlist
from stream.media_store import InvalidKeyError, LocalMediaStore
from stream.recorder import FragmentRecorder

FPS = 15
FRAME_S = 1 / FPS
AUDIO_FRAME_S = 1024 / 44100
INPUT_S = 12.0
# PyAV's mpegts muxer adds no offset (the ffmpeg CLI's 1.4 s muxdelay does not apply): measured 0.
MPEGTS_OFFSET_S = 0.0


def make_flv(path: Path, video: bool = True, seconds: float = INPUT_S) -> Path:
    """testsrc2 320x180 15 fps H.264 (keyframe every 2 s, B-frames) + 440 Hz AAC, as FLV."""
    video_in = ["-f", "lavfi", "-i", f"testsrc2=size=320x180:rate={FPS}"] if video else []
    video_out = [
        *("-c:v", "libx264", "-preset", "veryfast", "-bf", "2", "-pix_fmt", "yuv420p"),
        *("-g", "30", "-keyint_min", "30", "-sc_threshold", "0"),
    ]
    command = [
        *("ffmpeg", "-v", "error", "-y", *video_in),
        *("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"),
        *("-t", str(seconds), *(video_out if video else ["-vn"]), "-c:a", "aac", "-b:a", "64k"),
        str(path),
    ]
    subprocess.run(command, check=True)
    return path


def record(
    source: Path, store: LocalMediaStore, room: str = "r1", offset: float = 0.0, first_seq: int = 0, **kw
) -> tuple[list[Fragment], FragmentRecorder]:
    """Feed every packet of `source` (opened as FLV) to a new recorder, then close it."""
    with av.open(str(source), format="flv") as container:
        recorder = FragmentRecorder(
            room, store, list(container.streams), timeline_offset=offset, first_seq=first_seq, **kw
        )
        fragments = [f for packet in container.demux() for f in recorder.add(packet)]
    return fragments + recorder.close(), recorder


def read_fragment(store: LocalMediaStore, fragment: Fragment) -> dict:
    """Decode a fragment file alone: its start time, first video packet, and frame counts."""
    with av.open(str(store.local_path(fragment.uri))) as container:
        info = {"start": container.start_time / av.time_base, "first_video_key": None, "video": 0, "audio": 0}
        for packet in container.demux():
            kind = packet.stream.type
            if kind == "video" and info["first_video_key"] is None and packet.pts is not None:
                info["first_video_key"] = packet.is_keyframe
            info[kind] = info.get(kind, 0) + len(packet.decode())
    return info


def first_video_is_keyframe(store: LocalMediaStore, fragment: Fragment) -> bool:
    with av.open(str(store.local_path(fragment.uri))) as container:
        return next(p for p in container.demux(video=0) if p.pts is not None).is_keyframe


@pytest.fixture(scope="session")
def flv(tmp_path_factory) -> Path:
    return make_flv(tmp_path_factory.mktemp("input") / "live.flv")


@pytest.fixture(scope="session")
def zh_flv(tmp_path_factory, fixtures) -> Path:
    target = tmp_path_factory.mktemp("input") / "zh_live.flv"
    source = fixtures / "zh_live.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(source), "-c", "copy", str(target)], check=True)
    return target


def assert_contiguous(fragments: list[Fragment], tolerance: float) -> None:
    assert [f.seq for f in fragments] == list(range(fragments[0].seq, fragments[0].seq + len(fragments)))
    for before, after in zip(fragments, fragments[1:], strict=False):
        assert abs(after.t0 - before.t1) <= tolerance, (before, after)


def test_fragments_start_at_keyframes_last_2s_and_play_alone(flv, tmp_path):
    store = LocalMediaStore(tmp_path / "store")
    fragments, recorder = record(flv, store, work_dir=tmp_path)
    assert len(fragments) == 6
    assert_contiguous(fragments, tolerance=FRAME_S)
    for fragment in fragments:
        assert abs((fragment.t1 - fragment.t0) - 2.0) <= FRAME_S
        assert fragment.uri == f"rooms/r1/fragments/{fragment.seq:06d}.ts"
        info = read_fragment(store, fragment)
        assert info["first_video_key"] is True
        assert info["video"] == 30  # every frame of a 2 s GOP decodes from the fragment alone
        assert info["audio"] >= 80
        assert info["start"] == pytest.approx(fragment.t0 + MPEGTS_OFFSET_S, abs=1e-3)
    assert fragments[-1].t1 - fragments[0].t0 == pytest.approx(INPUT_S, abs=0.1)
    assert recorder.media_end == pytest.approx(fragments[-1].t1)
    assert recorder.next_seq == 6
    assert not list(tmp_path.glob("*.ts")), "temp fragment files are moved into the store"


def test_split_fragments_cut_between_keyframes_and_join_into_the_same_stream(flv, tmp_path):
    whole, _ = record(flv, LocalMediaStore(tmp_path / "whole"))
    store = LocalMediaStore(tmp_path / "split")
    split, _ = record(flv, store, split_s=0.5)
    # Cut at audio packets; the video that arrived before a cut (FLV sends it ahead of the audio)
    # stays in the fragment before, so a split fragment may end after the next one starts.
    assert [f.seq for f in split] == list(range(len(split)))
    assert all(after.t0 <= before.t1 + AUDIO_FRAME_S for before, after in zip(split, split[1:], strict=False))
    assert all(after.t0 - before.t0 <= 0.5 + AUDIO_FRAME_S for before, after in zip(split, split[1:], strict=False))
    # The keyframe rule is unchanged: the fragments that start at a keyframe are the unsplit ones' starts.
    assert [f.t0 for f in split if f.keyframe] == pytest.approx([f.t0 for f in whole], abs=1e-3)
    assert len(split) == 4 * len(whole)
    for fragment in split:
        assert first_video_is_keyframe(store, fragment) is fragment.keyframe
    joined = tmp_path / "joined.ts"
    joined.write_bytes(b"".join(store.local_path(f.uri).read_bytes() for f in split))
    with av.open(str(joined)) as container:
        assert len(list(container.decode(video=0))) == INPUT_S * FPS  # every frame decodes across the joins
    with pytest.raises(ValueError, match="split_s"):
        FragmentRecorder("r1", store, [], split_s=0)


def test_split_while_refuses_split_cuts_and_fragments_stay_whole_to_the_keyframe(flv, tmp_path):
    whole, _ = record(flv, LocalMediaStore(tmp_path / "whole"))
    never, _ = record(flv, LocalMediaStore(tmp_path / "never"), split_s=0.5, split_while=lambda: False)
    assert [(f.t0, f.t1, f.keyframe) for f in never] == [(f.t0, f.t1, True) for f in whole]
    # Asked only when a split is due: three yeses make exactly three split fragments, then none.
    answers = iter([True] * 3)
    some, _ = record(flv, LocalMediaStore(tmp_path / "some"), split_s=0.5, split_while=lambda: next(answers, False))
    assert sum(not f.keyframe for f in some) == 3
    assert [f.t0 for f in some if f.keyframe] == pytest.approx([f.t0 for f in whole], abs=1e-3)


def describe_input(source: Path) -> tuple[float, float, int]:
    """First pts, last end (pts + duration) in seconds, and the number of video keyframes."""
    start, end, keyframes = math.inf, -math.inf, 0
    with av.open(str(source), format="flv") as container:
        for p in container.demux():
            if p.pts is None:
                continue
            start = min(start, float(p.pts * p.time_base))
            end = max(end, float((p.pts + p.duration) * p.time_base))
            keyframes += p.stream.type == "video" and p.is_keyframe
    return start, end, keyframes


def test_real_sample_with_reordered_frames(zh_flv, tmp_path):
    store = LocalMediaStore(tmp_path)
    fragments, _ = record(zh_flv, store)
    start, end, keyframes = describe_input(zh_flv)
    assert len(fragments) == keyframes  # one fragment per 2 s GOP
    # B-frames: the cutting keyframe's dts precedes its pts, audio still lands on the right side.
    assert_contiguous(fragments, tolerance=AUDIO_FRAME_S)
    assert all(abs((f.t1 - f.t0) - 2.0) <= FRAME_S for f in fragments[:-1])
    assert (fragments[0].t0, fragments[-1].t1) == (pytest.approx(start), pytest.approx(end))
    for fragment in fragments[::13]:
        info = read_fragment(store, fragment)
        assert info["first_video_key"] is True and info["video"] == 30


def test_reconnect_continues_timeline_and_seq(flv, tmp_path):
    store = LocalMediaStore(tmp_path)
    first, recorder = record(flv, store)
    second, _ = record(flv, store, offset=recorder.media_end, first_seq=recorder.next_seq)
    assert recorder.media_end == pytest.approx(first[-1].t1)
    assert second[0].seq == first[-1].seq + 1
    # The new publisher's own first timestamp (0.11 s here) lands right after the old media_end.
    assert second[0].t0 == pytest.approx(recorder.media_end + first[0].t0, abs=1e-3)
    assert {f.uri for f in first}.isdisjoint({f.uri for f in second})
    assert len(store.list("rooms/r1/fragments/")) == len(first) + len(second)
    for fragment in second:
        assert read_fragment(store, fragment)["start"] == pytest.approx(fragment.t0 + MPEGTS_OFFSET_S, abs=1e-3)
    assert second[-1].t1 == pytest.approx(2 * recorder.media_end, abs=0.1)


def test_callers_packet_is_left_intact(flv, tmp_path):
    """The mux() trap: muxing rewrites pts/dts/duration/time_base/stream; the recorder restores them."""
    store = LocalMediaStore(tmp_path)
    decoded = 0
    with av.open(str(flv), format="flv") as container:
        recorder = FragmentRecorder("r1", store, list(container.streams))
        for packet in container.demux():
            before = (packet.pts, packet.dts, packet.duration, packet.time_base, packet.stream, packet.stream_index)
            recorder.add(packet)
            assert (packet.pts, packet.dts, packet.duration, packet.time_base, packet.stream, packet.stream_index) == (
                before
            )
            if packet.stream.type == "audio" and packet.pts is not None:
                frames = packet.decode()
                decoded += len(frames)
                assert all(f.pts == packet.pts and f.time_base == packet.time_base for f in frames)
        recorder.close()
    assert decoded > 400


def test_at_most_two_fragments_are_open_at_a_time(flv, tmp_path):
    """Memory and disk stay bounded: only the open fragment (and the one awaiting late audio) exist."""
    work = tmp_path / "work"
    work.mkdir()
    store = LocalMediaStore(tmp_path / "store")
    most = 0
    with av.open(str(flv), format="flv") as container:
        recorder = FragmentRecorder("r1", store, list(container.streams), work_dir=work)
        for packet in container.demux():
            recorder.add(packet)
            most = max(most, len(list(work.iterdir())))
        recorder.close()
    assert most == 2 and list(work.iterdir()) == []


def test_audio_only_input_is_cut_by_time(tmp_path):
    source = make_flv(tmp_path / "audio.flv", video=False, seconds=7.0)
    store = LocalMediaStore(tmp_path / "store")
    fragments, _ = record(source, store)
    assert len(fragments) == 4
    assert_contiguous(fragments, tolerance=1e-3)
    assert all(abs((f.t1 - f.t0) - 2.0) <= AUDIO_FRAME_S for f in fragments[:-1])
    assert fragments[-1].t1 == pytest.approx(7.0, abs=0.05)
    for fragment in fragments:
        info = read_fragment(store, fragment)
        assert info["video"] == 0 and info["audio"] >= (fragment.t1 - fragment.t0) / AUDIO_FRAME_S - 1


def test_packets_without_timestamps_and_after_close(flv, tmp_path):
    store = LocalMediaStore(tmp_path)
    with av.open(str(flv), format="flv") as container:
        recorder = FragmentRecorder("r1", store, list(container.streams))
        flush = av.Packet()
        flush.stream = container.streams.audio[0]
        assert recorder.add(flush) == []
        assert recorder.close() == [] and recorder.close() == []
        assert recorder.media_end == 0.0 and recorder.next_seq == 0
        with pytest.raises(RuntimeError):
            recorder.add(next(container.demux()))


@pytest.mark.parametrize("room", ["../x", "a/b", "", ".hidden"])
def test_bad_room_id_is_refused(flv, tmp_path, room):
    with av.open(str(flv), format="flv") as container, pytest.raises(InvalidKeyError):
        FragmentRecorder(room, LocalMediaStore(tmp_path), list(container.streams))


def playlist_lines(store: LocalMediaStore, key: str) -> list[str]:
    return store.local_path(key).read_text().splitlines()


def test_playlist_marks_reconnect_and_end_and_plays(flv, tmp_path):
    store = LocalMediaStore(tmp_path / "store")
    first, recorder = record(flv, store)
    second, _ = record(flv, store, offset=recorder.media_end, first_seq=recorder.next_seq)
    fragments = first + second
    key = write_playlist(store, "r1", fragments, ended=False, discontinuities={second[0].seq})
    assert key == "rooms/r1/index.m3u8"
    lines = playlist_lines(store, key)
    assert lines[:5] == [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        "#EXT-X-PLAYLIST-TYPE:EVENT",
        f"#EXT-X-TARGETDURATION:{math.ceil(max(f.t1 - f.t0 for f in fragments))}",
        "#EXT-X-MEDIA-SEQUENCE:0",
    ]
    uris = [line for line in lines if not line.startswith("#")]
    assert uris == [f"fragments/{f.seq:06d}.ts" for f in fragments]
    extinf = [float(line.split(":")[1].rstrip(",")) for line in lines if line.startswith("#EXTINF:")]
    recorded = (first[-1].t1 - first[0].t0) + (second[-1].t1 - second[0].t0)
    assert sum(extinf) == pytest.approx(recorded, abs=1e-2)
    assert lines.count("#EXT-X-DISCONTINUITY") == 1
    assert lines[lines.index("#EXT-X-DISCONTINUITY") + 2] == f"fragments/{second[0].seq:06d}.ts"
    assert "#EXT-X-ENDLIST" not in lines

    write_playlist(store, "r1", fragments, ended=True, discontinuities={second[0].seq})
    assert playlist_lines(store, key)[-1] == "#EXT-X-ENDLIST"
    assert [p.name for p in (tmp_path / "store/rooms/r1").iterdir() if p.is_file()] == ["index.m3u8"]
    played = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(store.local_path(key)), "-f", "null", "-"], capture_output=True
    )
    assert played.returncode == 0, played.stderr.decode()


def test_playlist_rejects_out_of_order_or_foreign_fragments(tmp_path):
    store = LocalMediaStore(tmp_path)
    a = Fragment("r1", 1, 0.0, 2.0, "rooms/r1/fragments/000001.ts")
    b = Fragment("r1", 0, 2.0, 4.0, "rooms/r1/fragments/000000.ts")
    with pytest.raises(ValueError, match="increasing"):
        write_playlist(store, "r1", [a, b], ended=False, discontinuities=set())
    with pytest.raises(ValueError, match="room"):
        write_playlist(store, "r2", [a], ended=False, discontinuities=set())
    assert not store.exists("rooms/r1/index.m3u8")
