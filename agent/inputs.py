"""What the Python API accepts: documented bounds on questions, queries, interests and counts.

Every entry point (Python API, CLI, chat, MCP, web) reaches these checks through `PaperBrief`,
so a bad value gets the same one-line `InvalidInputError` (a `ValueError`) everywhere; the CLI
also uses them as argparse types, so `-k 0` is a usage error before anything is opened. The
bounds keep the work of one request small: a question is embedded, tokenised and matched
against every candidate sentence, so its length multiplies the cost of everything after it.

| input | bound |
| --- | --- |
| a question, search query, comparison topic or interest | 1 to `MAX_TEXT_CHARS` characters |
| interests in one request | at most `MAX_INTERESTS` |
| `k` (search hits, recommendations) | 1 to `MAX_K` |
| paper ids (`compare(paper_ids=...)`, `liked`) | at most `MAX_PAPER_IDS` |
| `min_upvotes` | 0 or more |
| a chat `thread_id` | at most `MAX_THREAD_ID_CHARS` characters |
"""

from __future__ import annotations

from collections.abc import Sequence

from agent.errors import InvalidInputError

MAX_TEXT_CHARS = 2_000
MAX_INTERESTS = 20
MAX_K = 100
MAX_PAPER_IDS = 50
MAX_THREAD_ID_CHARS = 200


def check_text(value: str, name: str) -> str:
    """`value` stripped; `InvalidInputError` when it is empty or over `MAX_TEXT_CHARS`."""
    if not isinstance(value, str):
        raise InvalidInputError(f"{name} must be text, not {type(value).__name__}")
    text = value.strip()
    if not text:
        raise InvalidInputError(f"{name} is empty")
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidInputError(
            f"{name} is {len(text):,} characters; the limit is {MAX_TEXT_CHARS:,}"
        )
    return text


def check_k(k: int, name: str = "k") -> int:
    """A result count from 1 to `MAX_K`."""
    if isinstance(k, bool) or not isinstance(k, int):
        raise InvalidInputError(f"{name} must be a whole number, not {k!r}")
    if not 1 <= k <= MAX_K:
        raise InvalidInputError(f"{name} must be from 1 to {MAX_K}, got {k}")
    return k


def check_min_upvotes(value: int | None) -> int | None:
    """None, or a count of 0 or more."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(f"min_upvotes must be a whole number, not {value!r}")
    if value < 0:
        raise InvalidInputError(f"min_upvotes must be 0 or more, got {value}")
    return value


def check_interests(interests: Sequence[str] | str) -> list[str]:
    """One interest or a list of them (blank ones dropped), each checked as text; at most
    `MAX_INTERESTS`. May be empty: recommending from liked papers alone needs none."""
    items = [interests] if isinstance(interests, str) else list(interests)
    items = [item for item in items if not isinstance(item, str) or item.strip()]
    if len(items) > MAX_INTERESTS:
        raise InvalidInputError(f"{len(items)} interests; the limit is {MAX_INTERESTS}")
    return [check_text(item, "an interest") for item in items]


def check_paper_ids(ids: Sequence[str] | None, name: str) -> list[str] | None:
    """None, or at most `MAX_PAPER_IDS` ids, each non-empty text of at most 200 characters."""
    if ids is None:
        return None
    if isinstance(ids, str):
        ids = [ids]
    items = list(ids)
    if len(items) > MAX_PAPER_IDS:
        raise InvalidInputError(f"{len(items)} {name}; the limit is {MAX_PAPER_IDS}")
    for item in items:
        if not isinstance(item, str) or not item.strip() or len(item) > 200:
            raise InvalidInputError(f"{name}: {str(item)[:80]!r} is not a paper id")
    return [item.strip() for item in items]


def check_thread_id(thread_id: str | None) -> str | None:
    if thread_id is None:
        return None
    if not isinstance(thread_id, str) or not thread_id.strip():
        raise InvalidInputError("thread_id must be non-empty text")
    if len(thread_id) > MAX_THREAD_ID_CHARS:
        raise InvalidInputError(
            f"thread_id is {len(thread_id):,} characters; the limit is {MAX_THREAD_ID_CHARS}"
        )
    return thread_id
