"""Near-duplicate videos across a tenant's accounts: per-second PDQ frame hashes compared as a bag.

PDQ (Meta's 256-bit perceptual image hash; Hamming distance ≤ 31 is a match) per second of video,
compared like vPDQ: the share of one video's seconds that have a match anywhere in the other, so
reordering the same shots still matches. Posting more means really different content, never
mirror, speed or noise tricks; this check refuses the same content on a second account unless
an operator overrides it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import pdqhash

from distribution.errors import ErrorKind, PostError

PDQ_MATCH_DISTANCE = 31
HASH_SIDE = 256  # frames are hashed at this size; PDQ downsamples to 64x64 internally anyway
MIN_QUALITY = 50  # PDQ's own quality score; flat frames (black, one colour) say nothing and are skipped


@dataclass(frozen=True)
class Fingerprint:
    hashes: np.ndarray  # (n, 32) uint8: one packed 256-bit PDQ hash per second

    def to_bytes(self) -> bytes:
        return self.hashes.tobytes()

    @staticmethod
    def from_bytes(data: bytes) -> Fingerprint:
        return Fingerprint(np.frombuffer(data, dtype=np.uint8).reshape(-1, 32))


@dataclass(frozen=True)
class PostedVideo:
    """A tenant's earlier post, as the store keeps it for this check."""

    post_id: str
    account_id: str
    posted_at: float
    fingerprint: Fingerprint


@dataclass(frozen=True)
class DuplicateMatch:
    post_id: str
    account_id: str
    similarity: float  # share of the candidate's seconds matched in the earlier post


def fingerprint(video: Path, step_s: float = 1.0) -> Fingerprint:
    """One PDQ hash per `step_s` of video (the first frame at or after each step)."""
    rows: list[np.ndarray] = []
    next_t = 0.0
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            if frame.time is None or frame.time < next_t:
                continue
            next_t = frame.time + step_s
            image = frame.to_ndarray(format="rgb24", width=HASH_SIDE, height=HASH_SIDE)
            bits, quality = pdqhash.compute(image)
            if quality >= MIN_QUALITY:
                rows.append(np.packbits(bits.astype(np.uint8)))
    return Fingerprint(np.array(rows, dtype=np.uint8).reshape(-1, 32))


_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def similarity(a: Fingerprint, b: Fingerprint, max_distance: int = PDQ_MATCH_DISTANCE) -> float:
    """Share of a's seconds with a hash in b within `max_distance` bits (0 when either is empty)."""
    if not len(a.hashes) or not len(b.hashes):
        return 0.0
    distances = _POPCOUNT[a.hashes[:, None, :] ^ b.hashes[None, :, :]].sum(axis=2, dtype=np.int32)
    return float((distances.min(axis=1) <= max_distance).mean())


def find_duplicates(
    candidate: Fingerprint,
    history: Iterable[PostedVideo],
    *,
    now: float,
    days: float = 30.0,
    threshold: float = 0.5,
) -> list[DuplicateMatch]:
    """Earlier posts of the last `days` that share at least `threshold` of the candidate's seconds."""
    since = now - days * 86400
    matches = []
    for posted in history:
        if posted.posted_at < since:
            continue
        share = similarity(candidate, posted.fingerprint)
        if share >= threshold:
            matches.append(DuplicateMatch(posted.post_id, posted.account_id, share))
    return sorted(matches, key=lambda m: -m.similarity)


def refuse_duplicates(
    candidate: Fingerprint,
    history: Iterable[PostedVideo],
    *,
    now: float,
    days: float = 30.0,
    threshold: float = 0.5,
    override: bool = False,
) -> list[DuplicateMatch]:
    """The matches (for the post's record); PostError PERMANENT naming the earlier post unless an operator
    overrode the check for this post."""
    matches = find_duplicates(candidate, history, now=now, days=days, threshold=threshold)
    if matches and not override:
        best = matches[0]
        raise PostError(
            ErrorKind.PERMANENT,
            f"near-duplicate of post {best.post_id} on account {best.account_id} "
            f"({best.similarity:.0%} of seconds match); post different content or override",
            platform_code="duplicate",
        )
    return matches
