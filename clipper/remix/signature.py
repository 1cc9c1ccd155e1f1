"""Visual signature: one PDQ hash per second of video, and the share of seconds two signatures have in common.

This is the near-duplicate measure distribution uses to refuse posting the same content twice: a
second of A is *shared* with B when some second of B is within `MATCH_DISTANCE` bits of it (PDQ's
usual match threshold is 31 of 256 bits). The share is the larger of A's share in B and B's share
in A, so it is symmetric and a short variant wholly contained in a long one is a full duplicate.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pdqhash

MATCH_DISTANCE = 31
HASH_BITS = 256
_THUMB = 256  # PDQ reduces to 64x64 internally; a 256-pixel-wide input keeps hashing cheap


def frame_hash(rgb: np.ndarray) -> str:
    """PDQ hash (64 hex digits) of an RGB uint8 frame of any size."""
    bits, _quality = pdqhash.compute(np.ascontiguousarray(rgb, dtype=np.uint8))
    return np.packbits(bits.astype(np.uint8)).tobytes().hex()


def _bits(hashes: Sequence[str]) -> np.ndarray:
    if not hashes:
        return np.zeros((0, HASH_BITS), dtype=bool)
    raw = np.frombuffer(bytes.fromhex("".join(hashes)), dtype=np.uint8).reshape(len(hashes), HASH_BITS // 8)
    return np.unpackbits(raw, axis=1).astype(bool)


def distances(a: Sequence[str], b: Sequence[str]) -> np.ndarray:
    """Hamming distance of every hash of `a` to every hash of `b` (len(a) x len(b))."""
    bits_a, bits_b = _bits(a), _bits(b)
    return (bits_a[:, None, :] != bits_b[None, :, :]).sum(axis=2)


def shared_fraction(a: Sequence[str], b: Sequence[str], match_distance: int = MATCH_DISTANCE) -> float:
    """Share (0..1) of seconds with a match in the other signature, the larger of the two directions."""
    if not a or not b:
        return 0.0
    close = distances(a, b) <= match_distance
    return float(max(close.any(axis=1).mean(), close.any(axis=0).mean()))
