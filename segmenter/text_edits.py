"""Apply text edits to an utterance: its text, its timed words (captions come from them) and
its record of corrections, so an operator can see each change and undo it."""

from __future__ import annotations

from dataclasses import replace

from livecut.contracts import Correction, Utterance, Word
from segmenter.numbers import Edit, apply_to_text


def apply_edits(utterance: Utterance, edits: list[Edit], kind: str) -> None:
    """Apply `edits` (positions in `utterance.text`, not overlapping) in place and record them."""
    if not edits:
        return
    edits = sorted(edits, key=lambda e: e.start)
    to_raw = _text_to_raw(utterance.words, utterance.text)
    if to_raw is not None:
        raw_edits = [Edit(to_raw[e.start], to_raw[e.end - 1] + 1, e.replacement) for e in edits]
        utterance.words = _edited_words(utterance.words, raw_edits)
    shift = 0
    for e in edits:
        start = e.start + shift
        utterance.corrections.append(
            Correction(start, start + len(e.replacement), utterance.text[e.start : e.end], e.replacement, kind)
        )
        shift += len(e.replacement) - (e.end - e.start)
    utterance.text = apply_to_text(utterance.text, edits)


def _text_to_raw(words: list[Word], expected: str) -> list[int] | None:
    """For each character of the utterance text (the words joined, stripped, spaces collapsed),
    its index in the plain concatenation of the word texts; None when the words do not make the text."""
    raw = "".join(w.text for w in words)
    mapping: list[int] = []
    previous_space = True
    for i, ch in enumerate(raw):
        if ch.isspace():
            if previous_space:
                continue
            previous_space = True
        else:
            previous_space = False
        mapping.append(i)
    while mapping and raw[mapping[-1]].isspace():
        mapping.pop()
    text = "".join(" " if raw[i].isspace() else raw[i] for i in mapping)
    return mapping if mapping and text == expected else None


def _edited_words(words: list[Word], edits: list[Edit]) -> list[Word]:
    """Each word keeps its characters outside the edits; an edit's replacement goes to the word it starts in."""
    out: list[Word] = []
    position = 0
    for word in words:
        start, end = position, position + len(word.text)
        position = end
        pieces: list[str] = []
        i = start
        while i < end:
            edit = next((e for e in edits if e.start <= i < e.end), None)
            if edit is None:
                pieces.append(word.text[i - start])
                i += 1
                continue
            if edit.start == i:
                pieces.append(edit.replacement)
            i = min(end, edit.end)
        out.append(replace(word, text="".join(pieces)))
    return [w for w in out if w.text]
