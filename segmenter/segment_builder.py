"""Segment builder: runs of one topic become clip requests.

Consecutive utterances with the same label and sublabel merge into one run. A run
closes when the topic changes, after `close_after_silence_s` without speech, or
before it would exceed `max_s`; then it becomes a ClipRequest whose bounds sit on
utterance boundaries (no word cut in half), padded by `margin_s`. Runs shorter than
`min_s` and runs of skipped labels (chitchat) make no clip.
"""

from __future__ import annotations

from dataclasses import dataclass

from livecut.contracts import ClipRequest, Utterance, clip_id_for
from segmenter.utterances import is_cjk


@dataclass(frozen=True)
class SegmentSettings:
    margin_s: float = 0.3
    min_s: float = 6.0
    max_s: float = 60.0
    skip_labels: tuple[str, ...] = ("chitchat",)
    close_after_silence_s: float = 8.0


class SegmentBuilder:
    """One per room and source; `feed` labeled utterances in order, `flush` at the end."""

    def __init__(self, settings: SegmentSettings, room: str, source: str) -> None:
        self.settings = settings
        self.room = room
        self.source = source
        self.run: list[Utterance] = []
        self.media_start = 0.0

    def feed(self, utterance: Utterance) -> list[ClipRequest]:
        if self.run and self._closes_run(utterance):
            done = self._close()
            self.run = [utterance]
            return done
        self.run.append(utterance)
        return []

    def idle(self, now: float) -> list[ClipRequest]:
        """Live rooms: close the open run once the media clock passes it by the silence limit."""
        if self.run and now - self.run[-1].t1 >= self.settings.close_after_silence_s:
            done = self._close()
            self.run = []
            return done
        return []

    def flush(self, media_end: float | None = None) -> list[ClipRequest]:
        done = self._close(media_end) if self.run else []
        self.run = []
        return done

    def _closes_run(self, utterance: Utterance) -> bool:
        first, last = self.run[0], self.run[-1]
        return (
            (utterance.label, utterance.sublabel) != (first.label, first.sublabel)
            or utterance.t0 - last.t1 >= self.settings.close_after_silence_s
            or utterance.t1 - first.t0 + 2 * self.settings.margin_s > self.settings.max_s
        )

    def _close(self, media_end: float | None = None) -> list[ClipRequest]:
        first, last = self.run[0], self.run[-1]
        if first.label is None or first.label in self.settings.skip_labels:
            return []
        t0 = max(self.media_start, first.t0 - self.settings.margin_s)
        t1 = last.t1 + self.settings.margin_s
        if media_end is not None:
            t1 = min(t1, media_end)
        if t1 - t0 < self.settings.min_s:
            return []
        return [self._request(t0, t1)]

    def _request(self, t0: float, t1: float) -> ClipRequest:
        first = self.run[0]
        t0, t1 = round(t0, 3), round(t1, 3)
        separator = "" if is_cjk(first.text) else " "
        return ClipRequest(
            clip_id=clip_id_for(self.room, t0, t1, first.label or "", first.sublabel),
            room=self.room,
            source=self.source,
            t0=t0,
            t1=t1,
            label=first.label or "",
            sublabel=first.sublabel,
            text=separator.join(u.text for u in self.run),
            words=[w for u in self.run for w in u.words],
            confidence=min(u.confidence for u in self.run),
            received_at=max(u.received_at for u in self.run),
            needs_review=any(u.needs_review for u in self.run),
            time_bound=any(u.time_bound for u in self.run),
            banned_claims=list(dict.fromkeys(c for u in self.run for c in u.banned_claims)),
        )
