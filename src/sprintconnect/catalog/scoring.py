"""Fuzzy scoring in the application, for databases without pg_trgm (the embedded one).

It follows the SQL's rules: exact 1.0, substring 0.9, otherwise the best similarity of the
term to a word of the name; a description containing the term counts 0.6.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

_WORDS = re.compile(r"[a-z0-9]+")


def _best_word(term: str, text: str) -> float:
    words = _WORDS.findall(text)
    return max((SequenceMatcher(None, term, w).ratio() for w in words), default=0.0)


def score(term: str, name: str, description: str | None) -> float:
    lowered = name.lower()
    if lowered == term:
        return 1.0
    if term in lowered:
        return 0.9
    best = _best_word(term, lowered)
    if description and term in description.lower():
        best = max(best, 0.6)
    return best
