"""Split a chunk's timed words into utterances: one sentence or clause each.

A new utterance starts after sentence-ending punctuation or a pause longer than
`pause_s`; one still longer than `max_s` is split at its largest internal pause.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from livecut.contracts import Utterance, Word

SENTENCE_END = re.compile(r"[。！？!?；;…]$|(?<![0-9])\.$")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class UtteranceSettings:
    pause_s: float = 0.45
    max_s: float = 15.0


def split_utterances(words: list[Word], room: str, lang: str, settings: UtteranceSettings) -> list[Utterance]:
    groups: list[list[Word]] = []
    for word in words:
        if not groups or _starts_new(groups[-1], word, settings):
            groups.append([word])
        else:
            groups[-1].append(word)
    bounded = [part for group in groups for part in _limit_length(group, settings.max_s)]
    return [_utterance(group, room, lang) for group in bounded if _has_text(group)]


def _starts_new(current: list[Word], word: Word, settings: UtteranceSettings) -> bool:
    last = current[-1]
    return bool(SENTENCE_END.search(last.text.strip())) or word.t0 - last.t1 > settings.pause_s


def _limit_length(group: list[Word], max_s: float) -> list[list[Word]]:
    if len(group) < 2 or group[-1].t1 - group[0].t0 <= max_s:
        return [group]
    gaps = [group[i + 1].t0 - group[i].t1 for i in range(len(group) - 1)]
    cut = max(range(len(gaps)), key=gaps.__getitem__) + 1
    return _limit_length(group[:cut], max_s) + _limit_length(group[cut:], max_s)


def join_words(words: list[Word]) -> str:
    """Text of consecutive words: Whisper puts the spaces of Latin text inside the words."""
    text = "".join(w.text for w in words).strip()
    return re.sub(r"\s+", " ", text)


def _has_text(group: list[Word]) -> bool:
    return any(ch.isalnum() for ch in join_words(group))


def _utterance(group: list[Word], room: str, lang: str) -> Utterance:
    return Utterance(
        room=room,
        t0=group[0].t0,
        t1=group[-1].t1,
        text=join_words(group),
        lang=lang,
        words=list(group),
    )


def is_cjk(text: str) -> bool:
    return bool(_CJK.search(text))
