"""Pieces: speech sliced from the source's decoded audio in step with ffmpeg's own cut; the piece cache; jobs."""

from __future__ import annotations

import subprocess
import wave
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from remix_helpers import MUSIC, PRODUCT, SHOTS_VIDEO

import clipper.remix.pieces as pieces_module
from clipper.remix import AssembleOptions, PlanOptions, RemixError, assemble, plan
from clipper.remix.footage import Segment
from clipper.remix.pieces import AUDIO_RATE, encode_piece

TINY = AssembleOptions(width=144, fps=10, preset="ultrafast", captions=False, cover=False)


def _wav(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (2, 2, AUDIO_RATE)
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").reshape(-1, 2).astype(np.float64)


def _ffmpeg_span(source: Path, t0: float, samples: int) -> np.ndarray:
    """The same span from ffmpeg's own decode of the file from its start (48 kHz stereo s16)."""
    start = round(t0 * AUDIO_RATE)
    until = (start + samples) / AUDIO_RATE + 0.1
    cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(source), "-map", "0:a:0", "-t", f"{until:.6f}",
           "-ar", str(AUDIO_RATE), "-ac", "2", "-f", "s16le", "-"]  # fmt: skip
    raw = subprocess.run(cmd, capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype="<i2").reshape(-1, 2)[start : start + samples].astype(np.float64)


def _speech(t0: float, t1: float) -> Segment:
    return Segment(source=str(SHOTS_VIDEO), t0=t0, t1=t1, kind="speech", label="selling_point")


def test_piece_speech_is_the_source_span_in_step_with_the_video(tmp_path):
    segment = _speech(10.0, 13.45)
    piece = encode_piece(segment, TINY, tmp_path)
    ours = _wav(piece.audio)
    assert len(ours) == round(piece.duration * AUDIO_RATE)  # exactly as long as the video
    theirs = _ffmpeg_span(SHOTS_VIDEO, segment.t0, len(ours))
    assert np.sqrt(np.mean(theirs**2)) > 100, "the span should hold speech"
    # The very samples ffmpeg decodes there: no offset against the video, no resampling difference.
    assert np.max(np.abs(ours - theirs)) <= 1


def test_fade_transition_fades_the_speech_in_and_out(tmp_path):
    options = replace(TINY, transition="fade")
    piece = encode_piece(_speech(10.0, 13.45), options, tmp_path)
    speech = _wav(piece.audio)
    plain = _wav(encode_piece(_speech(10.0, 13.45), TINY, tmp_path / "plain").audio)
    fade = round(options.fade * AUDIO_RATE)
    assert np.all(speech[0] == 0) and np.all(np.abs(speech[-1]) <= 1)
    assert np.abs(speech[:fade]).sum() < 0.75 * np.abs(plain[:fade]).sum()
    assert np.array_equal(speech[fade:-fade], plain[fade:-fade])


def test_each_distinct_piece_is_encoded_once_and_reused_by_a_second_run(footage, image_footage, tmp_path, monkeypatch):
    encoded: list[str] = []
    run_ffmpeg = pieces_module.run_ffmpeg

    def counting(args: list[str], what: str, *rest: object, **named: object) -> str:
        encoded.append(what)
        return run_ffmpeg(args, what, *rest, **named)  # type: ignore[arg-type]

    monkeypatch.setattr(pieces_module, "run_ffmpeg", counting)
    result = plan([footage, image_footage], PlanOptions(variants=3, duration=(12.0, 20.0), seed=3, product=PRODUCT))
    options = replace(TINY, music=str(MUSIC), jobs=3)
    first, _ = assemble(result, tmp_path, options)
    distinct = {(s["source"], s["t0"]) for v in first for s in v.segments}
    assert len(encoded) == len(distinct) < sum(len(v.segments) for v in first)
    encoded.clear()
    again, _ = assemble(result, tmp_path, replace(options, jobs=1))
    assert encoded == []
    assert [v.to_record() for v in again] == [v.to_record() for v in first], "jobs must not change the result"


def test_jobs_below_zero_is_a_clear_error():
    with pytest.raises(RemixError, match="jobs must be 0"):
        AssembleOptions(jobs=-1)
