"""Text evidence for merging: MinHash of word pairs, and the names and series a text mentions.

A few lines of our own instead of datasketch, which drags in scipy for one min() per hash.
"""

from __future__ import annotations

import hashlib
import random
import re
import unicodedata
from itertools import pairwise

NUM_PERM = 64
SEED = 20190227
MAX_WORDS = 250  # the lead says what a report is about; the rest only costs time
_PRIME = (1 << 61) - 1
_MASK = 0xFFFFFFFF
_rng = random.Random(SEED)
_PERMUTATIONS = tuple(
    (_rng.randrange(1, _PRIME), _rng.randrange(0, _PRIME)) for _ in range(NUM_PERM)
)
_WORD = re.compile(r"[^\W_]+")
_POSSESSIVE = re.compile(r"['’]s?$")
_NAME = re.compile(r"\b[A-Z][\w'’-]*[A-Za-z0-9]|\b[A-Z]\b")
# Summit series: the same series in the same year is strong evidence, another series against.
_SERIES = {
    "g7": r"\bG-?7\b|\bGroup of Seven\b",
    "g8": r"\bG-?8\b|\bGroup of Eight\b",
    "g20": r"\bG-?20\b|\bGroup of 20\b|\bGroup of Twenty\b",
    "nato": r"\bNATO\b",
    "asean": r"\bASEAN\b|\bEast Asia Summit\b",
    "apec": r"\bAPEC\b|\bAsia-Pacific Economic Cooperation\b",
    "eu": r"\bEuropean Council\b|\bEU (?:leaders'? )?summit\b|\bEU27\b|\bEU leaders\b",
    "unga": r"\bGeneral Assembly\b|\bUNGA\b",
    "brics": r"\bBRICS\b",
    "sco": r"\bShanghai Cooperation Organi[sz]ation\b|\bSCO\b",
    "quad": r"\bQuad\b",
    "americas": r"\bSummit of the Americas\b",
    "chogm": r"\bCHOGM\b|\bCommonwealth Heads of Government\b",
    "au": r"\bAfrican Union\b",
    "arab": r"\bArab League\b",
}
_SERIES_RE = {name: re.compile(pattern) for name, pattern in _SERIES.items()}
# Capitalised words that name no place, person or series.
_COMMON_WORDS = (
    "the a an and but in on at of for to by with from as is it this that he she they we i "
    "his her their its our us mr mrs ms dr president prime minister king queen chancellor "
    "leader leaders summit live updates update news breaking watch video read more says said "
    "monday tuesday wednesday thursday friday saturday sunday january february march april "
    "may june july august september october november december what why how who when where "
    "after before will not no new here there"
)
_COMMON = frozenset(_COMMON_WORDS.split())


def fold(text: str) -> str:
    """Case- and accent-insensitive text."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in folded if not unicodedata.combining(char))


def lead(text: str, limit: int = MAX_WORDS) -> str:
    """The first ``limit`` words of ``text``."""
    return " ".join(text.split()[:limit])


def shingles(text: str) -> set[bytes]:
    """Word pairs of the folded text (single words when it has only one)."""
    words = _WORD.findall(unicodedata.normalize("NFKC", text.casefold()))
    if len(words) < 2:
        return {word.encode() for word in words}
    return {f"{a} {b}".encode() for a, b in pairwise(words)}


def _hash(token: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(token, digest_size=4).digest(), "little")


def signature(text: str) -> bytes:
    """A compact MinHash of the lead of ``text`` to store beside a report (b"" for no text)."""
    hashes = [_hash(token) for token in shingles(lead(text))]
    if not hashes:
        return b""
    values = (min(((a * h + b) % _PRIME) & _MASK for h in hashes) for a, b in _PERMUTATIONS)
    return b"".join(value.to_bytes(4, "little") for value in values)


def similarity(left: bytes, right: bytes) -> float:
    """Estimated Jaccard similarity of two signatures' texts; 0.0 when either is empty."""
    if not left or not right or len(left) != len(right):
        return 0.0
    count = len(left) // 4
    same = sum(left[i * 4 : i * 4 + 4] == right[i * 4 : i * 4 + 4] for i in range(count))
    return same / count


def names(text: str) -> frozenset[str]:
    """Capitalised words of the text, folded ("Biarritz", "Kim", "Hanoi"): who and where."""
    found = (_POSSESSIVE.sub("", fold(raw)) for raw in _NAME.findall(text))
    return frozenset(word for word in found if len(word) > 1 and word not in _COMMON)


def series(text: str) -> frozenset[str]:
    """The summit series the text names ("g7", "nato", "asean"…)."""
    return frozenset(name for name, pattern in _SERIES_RE.items() if pattern.search(text))


def jaccard(left: frozenset[str], right: frozenset[str]) -> float:
    """Size of the intersection over the union; 0.0 when both are empty."""
    union = len(left | right)
    return len(left & right) / union if union else 0.0
