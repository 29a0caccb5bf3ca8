"""Checks that a text is extractive: made of verbatim pieces of a source, in order."""

from __future__ import annotations

import re


def _match_words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text.casefold())


def extract_pieces(text: str, source: str) -> int | None:
    """How many verbatim pieces of `source`, in order, `text` is made of; None if it is not.

    Matching is on words, ignoring case (a stripped lead-in capitalises the first word) and
    punctuation (shortening ends a cut sentence with a period).
    """
    source_words = _match_words(source)
    text_words = _match_words(text)
    if not text_words:
        return None
    haystack = " " + " ".join(source_words) + " "
    pieces = 0
    position = 0
    start = 0
    while start < len(text_words):
        best_end, best_hit = start, -1
        low, high = start + 1, len(text_words)
        # The longest run of text words that occurs in the source after `position`.
        while low <= high:
            middle = (low + high) // 2
            hit = haystack.find(" " + " ".join(text_words[start:middle]) + " ", position)
            if hit >= 0:
                best_end, best_hit = middle, hit
                low = middle + 1
            else:
                high = middle - 1
        if best_hit < 0:
            return None
        position = best_hit + len(" ".join(text_words[start:best_end])) + 1
        start = best_end
        pieces += 1
    return pieces


def is_extract_of(text: str, source: str, max_pieces: int = 4) -> bool:
    """Whether `text` is copied from `source`: one verbatim slice, or a shortening made of at
    most `max_pieces` verbatim pieces in their original order."""
    pieces = extract_pieces(text, source)
    return pieces is not None and pieces <= max_pieces
