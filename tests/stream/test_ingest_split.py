"""IngestSession of a live room that splits its fragments between keyframes (`[ingest] split_s`)."""

from __future__ import annotations

import av
from test_recorder import make_flv

from livecut.contracts import EndOfStream, Fragment
from stream.ingest import IngestSession
from stream.media_store import LocalMediaStore, playlist_key


class ListSink:
    def __init__(self) -> None:
        self.fragments: list[Fragment] = []
        self.ended: EndOfStream | None = None

    def timeline(self) -> tuple[float, int]:
        return 0.0, 0

    def recorded(self) -> tuple[list, set]:
        return [], set()

    def fragment(self, fragment: Fragment, discontinuity: bool, next_seq: int) -> None:
        self.fragments.append(fragment)

    def end(self, end: EndOfStream) -> None:
        self.ended = end

    def skipped(self, count: int, reason: str) -> None:
        raise AssertionError(f"nothing is corrupt here: {reason}")


def test_a_split_room_announces_every_fragment_and_its_playlist_ends_with_the_last(tmp_path):
    flv = make_flv(tmp_path / "live.flv", seconds=6.0)
    store = LocalMediaStore(tmp_path / "media")
    sink = ListSink()
    with av.open(str(flv)) as container:
        IngestSession("r1", store, sink, 2.0, tmp_path, split_s=0.5).run(container)
    assert [f.keyframe for f in sink.fragments] == [True, False, False, False] * 3
    playlist = store.local_path(playlist_key("r1")).read_text()
    # The playlist is rewritten at keyframe fragments and once more at the end, for the split ones after the last.
    assert [line for line in playlist.splitlines() if line.endswith(".ts")] == [
        f.uri.removeprefix("rooms/r1/") for f in sink.fragments
    ]
