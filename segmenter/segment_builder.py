"""Segment builder: runs of one topic become clip requests, and no selling point is lost.

Consecutive utterances with the same label, sublabel and product merge into one run. A run
closes when the topic changes, after `close_after_silence_s` without speech, or before it
would exceed `max_s`. Its bounds sit on utterance boundaries (no word cut in half), padded
by `margin_s`. Runs of skipped labels (chitchat) make no clip.

A run shorter than `min_s` is dropped, except for the labels in `keep_short_labels`
(selling points: a host's selling point that never becomes a clip is lost revenue):

- it joins the neighbouring runs of the same label and product that follow it (a skin-feel
  run of 4.7 s and a fit run of 5.3 s of one dress make one clip of both), short runs while
  the next one is joinable, a long one as the last;
- a group still shorter than `min_s` is extended with the surrounding speech: the utterances
  before it first (already heard, so no wait), then those after it, up to `min_s`;
- when the room falls silent or the stream ends first, the clip's end is padded with the
  media after it (at the very end, its start with the media before it) up to `min_s`.

A short run is never extended back into an earlier clip of its own label: such a clip would
mostly repeat that one, and the live store drops a request that mostly overlaps a clip of the
same label as a replay.

A clip lists every sublabel it covers in `sublabels`, longest speech first (those of the
runs it was made for before those of the speech added around them); `sublabel` is the first.
Long runs are emitted when they close, as before, so live latency does not grow; only short
runs wait for their neighbours.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from livecut.contracts import ClipRequest, Utterance, clip_id_for
from segmenter.utterances import is_cjk

# Utterances remembered for extending a short run with the speech around it.
_RECENT_UTTERANCES = 256


@dataclass(frozen=True)
class SegmentSettings:
    margin_s: float = 0.3
    min_s: float = 6.0
    max_s: float = 60.0
    skip_labels: tuple[str, ...] = ("chitchat",)
    close_after_silence_s: float = 8.0
    # Labels whose runs shorter than min_s are joined or extended, never dropped.
    keep_short_labels: tuple[str, ...] = ("selling_point",)
    # Short kept runs join the following runs of the same label and product into one clip.
    join_short_runs: bool = True

    def __post_init__(self) -> None:
        for name in ("margin_s", "min_s", "close_after_silence_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"segments.{name} must be >= 0, got {getattr(self, name)}")
        if self.max_s <= self.min_s:
            raise ValueError(f"segments.max_s ({self.max_s}) must be greater than segments.min_s ({self.min_s})")
        both = sorted(set(self.keep_short_labels) & set(self.skip_labels))
        if both:
            raise ValueError(f"segments.keep_short_labels and segments.skip_labels both list {', '.join(both)}")


class SegmentBuilder:
    """One per room and source; `feed` labeled utterances in order, `flush` at the end."""

    def __init__(self, settings: SegmentSettings, room: str, source: str) -> None:
        self.settings = settings
        self.room = room
        self.source = source
        self.run: list[Utterance] = []
        # Short kept runs waiting for a neighbour (collecting) or for surrounding speech.
        self.group: list[Utterance] = []
        self.collecting = False
        self.recent: deque[Utterance] = deque(maxlen=_RECENT_UTTERANCES)
        # (label, t0, t1) of recent clips: a short run is not extended back into a clip of its own
        # label, so its clip never mostly repeats that one (a store deduplicates such overlaps).
        self.emitted: deque[tuple[str, float, float]] = deque(maxlen=_RECENT_UTTERANCES)
        self.media_start = 0.0

    def feed(self, utterance: Utterance) -> list[ClipRequest]:
        self.recent.append(utterance)
        done: list[ClipRequest] = []
        if self.run and self._closes_run(utterance):
            done += self._close_run(next_utterance=utterance)
            self.run = [utterance]
        else:
            self.run.append(utterance)
        if self.group and not self.collecting:
            done += self._emit_group()
        return done

    def idle(self, now: float) -> list[ClipRequest]:
        """Live rooms: close what is open once the media clock passes the last speech by the silence limit."""
        if not self.recent or now - self.recent[-1].t1 < self.settings.close_after_silence_s:
            return []
        done: list[ClipRequest] = []
        if self.run:
            done += self._close_run(next_utterance=None)
            self.run = []
        if self.group:
            done += self._emit_group(force=True)
        return done

    def flush(self, media_end: float | None = None) -> list[ClipRequest]:
        done = self._close_run(next_utterance=None) if self.run else []
        self.run = []
        if self.group:
            done += self._emit_group(force=True, media_end=media_end)
        return [self._clamped(request, media_end) for request in done]

    def depends_from(self) -> float | None:
        """The earliest media time this builder's state still depends on (None: nothing open): the
        open run and a waiting short group, with the min_s of speech before a kept run it may be
        extended with. A worker taking the room over replays from there."""
        held = [u.t0 for u in self.run[:1] + self.group[:1]]
        held += [u.t0 - self.settings.min_s for u in self.run[:1] + self.group[:1] if self._kept(u)]
        return max(self.media_start, min(held)) if held else None

    def _kept(self, utterance: Utterance) -> bool:
        return utterance.label in self.settings.keep_short_labels

    def _closes_run(self, utterance: Utterance) -> bool:
        first, last = self.run[0], self.run[-1]
        return (
            _topic(utterance) != _topic(first)
            or utterance.t0 - last.t1 >= self.settings.close_after_silence_s
            or utterance.t1 - first.t0 + 2 * self.settings.margin_s > self.settings.max_s
        )

    def _close_run(self, next_utterance: Utterance | None) -> list[ClipRequest]:
        run = self.run
        if not self._kept(run[0]):
            return self._plain(run)
        done: list[ClipRequest] = []
        if self.group and not self.collecting:
            done += self._emit_group(force=True)
        if self.collecting and self._span(self.group + run) > self.settings.max_s:
            self.collecting = False
            done += self._emit_group(force=True)
        core = self.group + run if self.collecting else run
        short = self._span(run) < self.settings.min_s
        self.group = core
        self.collecting = short and next_utterance is not None and self._joinable(core, next_utterance)
        if not self.collecting:
            done += self._emit_group()
        return done

    def _joinable(self, core: list[Utterance], utterance: Utterance) -> bool:
        first, last = core[0], core[-1]
        return (
            self.settings.join_short_runs
            and utterance.label == first.label
            and utterance.product == first.product
            and utterance.t0 - last.t1 < self.settings.close_after_silence_s
            and utterance.t1 - first.t0 + 2 * self.settings.margin_s <= self.settings.max_s
        )

    def _plain(self, run: list[Utterance]) -> list[ClipRequest]:
        first = run[0]
        if first.label is None or first.label in self.settings.skip_labels:
            return []
        t0, t1 = self._bounds(run)
        if t1 - t0 < self.settings.min_s:
            return []
        return [self._request(run, run, t0, t1)]

    def _emit_group(self, force: bool = False, media_end: float | None = None) -> list[ClipRequest]:
        """The waiting group as one clip once it (with the speech around it) reaches min_s, or now if forced."""
        core = self.group
        clip = self._with_context(core)
        t0, t1 = self._bounds(clip)
        if t1 - t0 < self.settings.min_s:
            if not force:
                return []
            t0, t1 = self._padded(t0, t1, media_end)
        self.group, self.collecting = [], False
        return [self._request(clip, core, t0, t1)]

    def _with_context(self, core: list[Utterance]) -> list[Utterance]:
        """`core` plus the nearest surrounding utterances, earlier ones first, until the span reaches min_s."""
        ids = {id(u) for u in core}
        before = [u for u in self.recent if u.t1 <= core[0].t0 and id(u) not in ids]
        after = [u for u in self.recent if u.t0 >= core[-1].t1 and id(u) not in ids]
        clip = list(core)
        for u in reversed(before):
            if not self._extends(clip, u, before=True):
                break
            clip.insert(0, u)
        for u in after:
            if not self._extends(clip, u, before=False):
                break
            clip.append(u)
        return clip

    def _extends(self, clip: list[Utterance], u: Utterance, before: bool) -> bool:
        gap = clip[0].t0 - u.t1 if before else u.t0 - clip[-1].t1
        span = (clip[-1].t1 - u.t0) if before else (u.t1 - clip[0].t0)
        return (
            self._span(clip) < self.settings.min_s
            and gap < self.settings.close_after_silence_s
            and span + 2 * self.settings.margin_s <= self.settings.max_s
            and not (before and self._in_emitted(u, clip[0].label))
        )

    def _in_emitted(self, u: Utterance, label: str | None) -> bool:
        return any(lab == label and t0 <= u.t0 and u.t1 <= t1 for lab, t0, t1 in self.emitted)

    def _padded(self, t0: float, t1: float, media_end: float | None) -> tuple[float, float]:
        """Widen [t0, t1] to min_s with the media after it (before it too at the media's end)."""
        t1 = t0 + self.settings.min_s
        if media_end is not None and t1 > media_end:
            t1 = media_end
            t0 = max(self.media_start, t1 - self.settings.min_s)
        return t0, t1

    def _bounds(self, utterances: list[Utterance]) -> tuple[float, float]:
        t0 = max(self.media_start, utterances[0].t0 - self.settings.margin_s)
        return t0, utterances[-1].t1 + self.settings.margin_s

    def _span(self, utterances: list[Utterance]) -> float:
        t0, t1 = self._bounds(utterances)
        return t1 - t0

    def _clamped(self, request: ClipRequest, media_end: float | None) -> ClipRequest:
        if media_end is None or request.t1 <= media_end:
            return request
        t1 = round(media_end, 3)
        request.clip_id = clip_id_for(self.room, request.t0, t1, request.label, request.sublabel)
        request.t1 = t1
        return request

    def _request(self, clip: list[Utterance], core: list[Utterance], t0: float, t1: float) -> ClipRequest:
        first = core[0]
        label = first.label or ""
        sublabels = _sublabels(clip, core)
        sublabel = sublabels[0] if sublabels else first.sublabel
        t0, t1 = round(t0, 3), round(t1, 3)
        self.emitted.append((label, t0, t1))
        separator = "" if is_cjk(first.text) else " "
        return ClipRequest(
            clip_id=clip_id_for(self.room, t0, t1, label, sublabel),
            room=self.room,
            source=self.source,
            t0=t0,
            t1=t1,
            label=label,
            sublabel=sublabel,
            text=separator.join(u.text for u in clip),
            words=[w for u in clip for w in u.words],
            confidence=min(u.confidence for u in core),
            received_at=max(u.received_at for u in clip),
            needs_review=any(u.needs_review for u in core),
            time_bound=any(u.time_bound for u in clip),
            banned_claims=list(dict.fromkeys(c for u in clip for c in u.banned_claims)),
            sublabels=sublabels,
            product=first.product,
        )


def _topic(utterance: Utterance) -> tuple[str | None, str | None, str | None]:
    return utterance.label, utterance.sublabel, utterance.product


def _sublabels(clip: list[Utterance], core: list[Utterance]) -> list[str]:
    """Sublabels of the clip on its label and product, longest speech first; the core's (the runs
    the clip was made for) before those of the speech added around them."""
    own = _by_length(core, core[0])
    return own + [s for s in _by_length(clip, core[0]) if s not in own]


def _by_length(utterances: list[Utterance], first: Utterance) -> list[str]:
    seconds: dict[str, float] = {}
    for u in utterances:
        if u.sublabel and u.label == first.label and u.product == first.product:
            seconds[u.sublabel] = seconds.get(u.sublabel, 0.0) + (u.t1 - u.t0)
    return sorted(seconds, key=lambda s: -seconds[s])
