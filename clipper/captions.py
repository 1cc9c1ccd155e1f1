"""Caption cues for a clip: group timed words into lines and write them as SRT and WebVTT.

Words carry times on the SOURCE timeline; cues are on the CLIP timeline (the clip's `t0`
subtracted, clamped to `[0, duration]`). CJK words are joined without spaces, Latin words
with spaces. A cue ends at a sentence end, at a pause between words, or when the line is full.
A line is full when its CJK characters and its other characters together fill the budget:
`cjk / max_chars_cjk + other / max_chars_latin <= 1`, so mixed lines get a fair share of both.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from livecut.contracts import Word

SENTENCE_ENDS = frozenset("。！？!?.…")

_CJK = re.compile(
    "[\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u3190-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
    "\U00020000-\U0003134f]"
)
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class CaptionSettings:
    """How words are grouped into caption lines."""

    max_chars_cjk: int = 16
    max_chars_latin: int = 42
    pause: float = 0.6


@dataclass(frozen=True)
class Cue:
    """One caption line, in seconds on the clip timeline."""

    t0: float
    t1: float
    text: str


@dataclass(frozen=True)
class _Token:
    t0: float
    t1: float
    text: str


def is_cjk(char: str) -> bool:
    """True for Chinese, Japanese and Korean characters and full-width punctuation."""
    return bool(_CJK.match(char))


def join_words(texts: Iterable[str]) -> str:
    """Join word texts: no space next to a CJK character, one space between Latin words."""
    line = ""
    for raw in texts:
        text = _SPACES.sub(" ", raw).strip()
        if not text:
            continue
        if line and not is_cjk(line[-1]) and not is_cjk(text[0]):
            line += " "
        line += text
    return line


def line_fill(text: str, settings: CaptionSettings) -> float:
    """Fraction of the line budget `text` uses; above 1.0 the line is too long."""
    cjk = sum(1 for char in text if is_cjk(char))
    return cjk / settings.max_chars_cjk + (len(text) - cjk) / settings.max_chars_latin


def build_cues(
    words: Sequence[Word], clip_t0: float, clip_t1: float, settings: CaptionSettings | None = None
) -> list[Cue]:
    """Group the words that fall inside `[clip_t0, clip_t1]` into cues on the clip timeline."""
    settings = settings or CaptionSettings()
    tokens = _clip_tokens(words, clip_t0, clip_t1)
    tokens = [piece for token in tokens for piece in _split_long(token, settings)]
    cues = [_cue(group) for group in _group(tokens, settings)]
    return _without_overlap(cues)


def _clip_tokens(words: Sequence[Word], clip_t0: float, clip_t1: float) -> list[_Token]:
    duration = max(0.0, clip_t1 - clip_t0)
    tokens = []
    for word in sorted(words, key=lambda w: (w.t0, w.t1)):
        text = _SPACES.sub(" ", word.text).strip()
        if not text or word.t1 <= clip_t0 or word.t0 >= clip_t1:
            continue
        t0 = min(max(word.t0 - clip_t0, 0.0), duration)
        t1 = min(max(word.t1 - clip_t0, t0), duration)
        tokens.append(_Token(t0, t1, text))
    return tokens


def _split_long(token: _Token, settings: CaptionSettings) -> list[_Token]:
    """Cut a single word that alone overflows a line into pieces, sharing its time evenly."""
    pieces: list[str] = []
    for char in token.text:
        if pieces and line_fill(pieces[-1] + char, settings) <= 1.0:
            pieces[-1] += char
        else:
            pieces.append(char)
    if len(pieces) == 1:
        return [token]
    step = (token.t1 - token.t0) / len(token.text)
    out, start = [], 0
    for piece in pieces:
        end = start + len(piece)
        out.append(_Token(token.t0 + start * step, token.t0 + end * step, piece))
        start = end
    return out


def _group(tokens: list[_Token], settings: CaptionSettings) -> list[list[_Token]]:
    groups: list[list[_Token]] = []
    current: list[_Token] = []
    for token in tokens:
        if current and _breaks_before(current, token, settings):
            groups.append(current)
            current = []
        current.append(token)
    if current:
        groups.append(current)
    return groups


def _breaks_before(current: list[_Token], token: _Token, settings: CaptionSettings) -> bool:
    last = current[-1]
    if last.text[-1] in SENTENCE_ENDS or token.t0 - last.t1 > settings.pause:
        return True
    candidate = join_words([t.text for t in current] + [token.text])
    return line_fill(candidate, settings) > 1.0


def _cue(group: list[_Token]) -> Cue:
    return Cue(group[0].t0, max(t.t1 for t in group), join_words(t.text for t in group))


def _without_overlap(cues: list[Cue]) -> list[Cue]:
    out: list[Cue] = []
    for cue in cues:
        start = max(cue.t0, out[-1].t1) if out else cue.t0
        out.append(Cue(start, max(cue.t1, start), cue.text))
    return out


def _timestamp(seconds: float, separator: str) -> str:
    millis = max(0, round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def to_srt(cues: Sequence[Cue]) -> str:
    """SubRip text: numbered blocks, `HH:MM:SS,mmm --> HH:MM:SS,mmm`."""
    blocks = [
        f"{index}\n{_timestamp(cue.t0, ',')} --> {_timestamp(cue.t1, ',')}\n{cue.text}\n"
        for index, cue in enumerate(cues, start=1)
    ]
    return "\n".join(blocks)


def _vtt_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(cues: Sequence[Cue]) -> str:
    """WebVTT text: `WEBVTT` header, `HH:MM:SS.mmm --> HH:MM:SS.mmm`, markup characters escaped."""
    blocks = [f"{_timestamp(cue.t0, '.')} --> {_timestamp(cue.t1, '.')}\n{_vtt_text(cue.text)}\n" for cue in cues]
    return "\n".join(["WEBVTT\n", *blocks])
