"""HLS playlist over a room's fragments, for replay in the web page and for ffmpeg.

The fragments already are HLS segments (MPEG-TS; those a live room splits between keyframes
continue the segment before, so the playlist does not claim EXT-X-INDEPENDENT-SEGMENTS), so
a replay needs only a playlist. It is an EVENT playlist: segments are only ever appended, and
the whole recording stays available. The caller owns the room's fragment list across
publisher reconnects and passes the seqs where a new publisher began, which get an
EXT-X-DISCONTINUITY (codec parameters and timestamp continuity may change there).
The file is replaced atomically, so a polling player never reads half a playlist.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from livecut.contracts import Fragment
from stream.media_store import MediaStore, playlist_key, room_prefix


def write_playlist(
    store: MediaStore, room: str, fragments: list[Fragment], ended: bool, discontinuities: set[int]
) -> str:
    """Write `rooms/<room>/index.m3u8` for `fragments` (in seq order); returns the playlist's key.

    `ended` adds EXT-X-ENDLIST (the broadcast is over). A fragment whose seq is in
    `discontinuities`, or that follows a missing seq, is preceded by EXT-X-DISCONTINUITY.
    """
    _check_fragments(room, fragments)
    key = playlist_key(room)
    store.put_bytes(key, render_playlist(room, fragments, ended, discontinuities).encode("utf-8"))
    return key


def render_playlist(room: str, fragments: list[Fragment], ended: bool, discontinuities: set[int]) -> str:
    """The playlist text (see write_playlist)."""
    breaks = _breaks(fragments, discontinuities)
    durations = _durations(fragments, breaks)
    header = [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        "#EXT-X-PLAYLIST-TYPE:EVENT",
        f"#EXT-X-TARGETDURATION:{max(1, math.ceil(max(durations, default=1)))}",
        f"#EXT-X-MEDIA-SEQUENCE:{fragments[0].seq if fragments else 0}",
    ]
    body = list(_segment_lines(room, fragments, durations, breaks))
    footer = ["#EXT-X-ENDLIST"] if ended else []
    return "\n".join(header + body + footer) + "\n"


def _breaks(fragments: list[Fragment], discontinuities: set[int]) -> list[bool]:
    """Per fragment: does a discontinuity precede it (a reconnect, or a missing seq before it)?"""
    breaks = [False] * len(fragments)
    for i in range(1, len(fragments)):
        seq = fragments[i].seq
        breaks[i] = seq in discontinuities or seq != fragments[i - 1].seq + 1
    return breaks


def _durations(fragments: list[Fragment], breaks: list[bool]) -> list[float]:
    """EXTINF values: start to next start inside a continuous run, so they add up to the timeline.

    A fragment's own t1 - t0 can exceed that by part of an audio frame (its last audio
    packet ends just after the next keyframe); summing those would drift a player's clock.
    """
    durations = []
    for i, fragment in enumerate(fragments):
        continuous = i + 1 < len(fragments) and not breaks[i + 1]
        end = fragments[i + 1].t0 if continuous else fragment.t1
        durations.append(round(max(end - fragment.t0, 0.001), 3))
    return durations


def _segment_lines(room: str, fragments: list[Fragment], durations: list[float], breaks: list[bool]) -> Iterable[str]:
    for fragment, duration, discontinuity in zip(fragments, durations, breaks, strict=True):
        if discontinuity:
            yield "#EXT-X-DISCONTINUITY"
        yield f"#EXTINF:{duration:.3f},"
        yield _relative_uri(room, fragment)


def _relative_uri(room: str, fragment: Fragment) -> str:
    """The fragment's key relative to the playlist's folder (`fragments/000123.ts`)."""
    prefix = room_prefix(room)
    if not fragment.uri.startswith(prefix):
        raise ValueError(f"fragment {fragment.seq} ({fragment.uri}) is not stored under {prefix}")
    return fragment.uri[len(prefix) :]


def _check_fragments(room: str, fragments: list[Fragment]) -> None:
    for fragment in fragments:
        if fragment.room != room:
            raise ValueError(f"fragment {fragment.seq} belongs to room {fragment.room!r}, not {room!r}")
    for before, after in zip(fragments, fragments[1:], strict=False):
        if after.seq <= before.seq:
            raise ValueError(f"fragments must be in increasing seq order ({before.seq} then {after.seq})")
