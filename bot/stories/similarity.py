"""Near-duplicate text: MinHash signatures of word pairs (datasketch lives only here)."""

from __future__ import annotations

import re
import unicodedata
from itertools import pairwise

import numpy as np
from datasketch import MinHash  # type: ignore[import-untyped]

NUM_PERM = 64
SEED = 20190227
SCHEME = "affine32"
_WORD = re.compile(r"[^\W_]+")


def shingles(text: str) -> set[bytes]:
    """Word pairs of the folded text (single words when it has only one)."""
    folded = unicodedata.normalize("NFKC", text.casefold())
    words = _WORD.findall(folded)
    if len(words) < 2:
        return {word.encode() for word in words}
    return {f"{a} {b}".encode() for a, b in pairwise(words)}


def signature(text: str) -> bytes:
    """A compact MinHash of ``text`` to store beside a report (empty text gives b"")."""
    tokens = shingles(text)
    if not tokens:
        return b""
    sketch = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME)
    sketch.update_batch(sorted(tokens))
    return bytes(sketch.hashvalues.astype("<u4").tobytes())


def similarity(left: bytes, right: bytes) -> float:
    """Estimated Jaccard similarity of two signatures' texts; 0.0 when either is empty."""
    if not left or not right or len(left) != len(right):
        return 0.0
    a = MinHash(seed=SEED, scheme=SCHEME, hashvalues=np.frombuffer(left, dtype="<u4"))
    b = MinHash(seed=SEED, scheme=SCHEME, hashvalues=np.frombuffer(right, dtype="<u4"))
    return float(a.jaccard(b))
