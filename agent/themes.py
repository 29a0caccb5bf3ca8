"""Grouping a week's papers into themes a reader can compare, and naming each theme.

Themes come from average-linkage agglomerative clustering on the cosine similarity of the
papers' embeddings: clusters merge while the most similar pair is at least `min_similarity`
alike and the merged theme stays within `max_size` papers (a theme is something one paragraph
can compare: a 42-paper "theme" of everything about language models is not). Papers that
join no theme (their nearest neighbour is not similar enough, or the week has more than
`max_themes` themes) are left as "other papers this week", which the briefing lists and counts.
Every paper lands in exactly one theme or in the other papers.

A theme's name is a key phrase of its members, as a reader would write it ("Diffusion
language models and parallel decoding"): the word runs of their titles and abstracts that most
of the members use and the rest of the week does not, cased as the abstracts write them
(so "LLMs" and "KV cache" keep their capitals and Title Case is undone).
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from agent.text import GENERIC_WORDS, STOPWORDS, split_sentences
from store.models import Paper
from store.tokens import stem


@dataclass(frozen=True)
class Cluster:
    """Indices into the clustered papers, most central first, and how central each is."""

    members: list[int]
    centrality: list[float]


def _agglomerate(
    rows: np.ndarray, min_similarity: float, max_size: int | None
) -> tuple[dict[int, list[int]], np.ndarray, np.ndarray]:
    """Phase 1: merge the most similar pair while it is similar enough and, with `max_size`,
    the merged cluster stays within it. Returns members by cluster key, the running cluster
    similarity matrix and the cluster sizes (for a phase 2)."""
    n = int(rows.shape[0])
    sim = rows @ rows.T
    np.fill_diagonal(sim, -np.inf)
    sizes = np.ones(n, dtype=np.int64)
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    while len(members) > 1:
        i, j = divmod(int(np.argmax(sim)), n)
        if float(sim[i, j]) < min_similarity:
            break
        if max_size is not None and sizes[i] + sizes[j] > max_size:
            # Clusters only grow, so this pair stays too big; with average linkage a -inf
            # also stays -inf in every merge it takes part in, which is exactly right.
            sim[i, j] = sim[j, i] = -np.inf
            continue
        _merge(sim, sizes, members, i, j)
    return members, sim, sizes


def _merge(
    sim: np.ndarray, sizes: np.ndarray, members: dict[int, list[int]], i: int, j: int
) -> None:
    if i > j:
        i, j = j, i
    # Lance-Williams update for average linkage: the similarity of the merged cluster to
    # any other is the size-weighted mean of its parts' similarities.
    merged = (sizes[i] * sim[i] + sizes[j] * sim[j]) / (sizes[i] + sizes[j])
    sim[i, :] = merged
    sim[:, i] = merged
    sim[i, i] = -np.inf
    sim[j, :] = -np.inf
    sim[:, j] = -np.inf
    sizes[i] += sizes[j]
    members[i].extend(members.pop(j))


def cluster_vectors(
    vectors: np.ndarray, min_similarity: float, max_themes: int, max_size: int | None = None
) -> list[Cluster]:
    """Average-linkage clusters of L2-normalised rows covering every row; largest first.

    Over `max_themes`, the smallest cluster joins the one it is most like (within `max_size`
    when one has room). `plan_themes` is what the briefing uses: it leaves such papers out
    instead. Deterministic for a given row order: ties go to the lowest index.
    """
    n = int(vectors.shape[0])
    if n == 0:
        return []
    if max_themes < 1:
        raise ValueError("max_themes must be at least 1")
    rows = np.asarray(vectors, dtype=np.float64)
    members, sim, sizes = _agglomerate(rows, min_similarity, max_size)
    # Phase 2, over the cap: the smallest theme joins the theme it is most like. Merging the
    # most similar pair here instead would chain the leftovers into one incoherent giant theme.
    while len(members) > max_themes:
        smallest = min(members, key=lambda c: (sizes[c], c))
        others = [c for c in members if c != smallest]
        target = max(
            others,
            key=lambda c: (float(rows[members[smallest]].mean(0) @ rows[members[c]].mean(0)), -c),
        )
        _merge(sim, sizes, members, smallest, target)
    return _clusters(rows, members)


def _clusters(rows: np.ndarray, members: dict[int, list[int]]) -> list[Cluster]:
    clusters = []
    for indices in members.values():
        centroid = rows[indices].mean(axis=0)
        norm = float(np.linalg.norm(centroid)) or 1.0
        scores = rows[indices] @ (centroid / norm)
        order = sorted(range(len(indices)), key=lambda k: (-scores[k], indices[k]))
        clusters.append(
            Cluster(
                members=[indices[k] for k in order],
                centrality=[round(float(scores[k]), 6) for k in order],
            )
        )
    clusters.sort(key=lambda c: (-len(c.members), c.members[0]))
    return clusters


def cohesion(vectors: np.ndarray) -> float:
    """Mean pairwise cosine similarity of L2-normalised rows (1.0 for a single row)."""
    n = int(vectors.shape[0])
    if n < 2:
        return 1.0
    rows = np.asarray(vectors, dtype=np.float64)
    total = rows.sum(axis=0)
    return float((total @ total - n) / (n * (n - 1)))


@dataclass(frozen=True)
class ThemePlan:
    """Themes of a week (indices into its papers, most central first) and the papers left as
    "other papers this week", in their original order."""

    themes: list[Cluster]
    other: list[int] = field(default_factory=list)


def plan_themes(
    vectors: np.ndarray, min_similarity: float, max_themes: int, max_size: int
) -> ThemePlan:
    """The week's themes: clusters of two to `max_size` papers whose average pairwise
    similarity is at least `min_similarity`, at most `max_themes` of them (largest, then most
    cohesive, first); every other paper is in `other`."""
    n = int(vectors.shape[0])
    if n == 0:
        return ThemePlan(themes=[])
    if max_themes < 1 or max_size < 2:
        raise ValueError("max_themes must be at least 1 and max_size at least 2")
    rows = np.asarray(vectors, dtype=np.float64)
    members, _, _ = _agglomerate(rows, min_similarity, max_size)
    clusters = _clusters(rows, members)
    groups = [c for c in clusters if len(c.members) > 1]
    groups.sort(key=lambda c: (-len(c.members), -cohesion(rows[c.members]), c.members[0]))
    kept = groups[:max_themes]
    placed = {i for c in kept for i in c.members}
    return ThemePlan(themes=kept, other=[i for i in range(n) if i not in placed])


# ---------------------------------------------------------------------------------------------
# Names

# Words that cannot open or close a key phrase: verbs and qualifiers of research prose. Nouns
# among the generic words ("models", "data") may close one ("diffusion language models").
_NOUNS_ALLOWED_AT_END = frozenset(
    {"model", "models", "data", "framework", "frameworks", "task", "tasks", "code", "performance"}
)
_NOUNS_ALLOWED_AT_START = frozenset({"large", "data", "code", "state", "performance"})
_RUN_BREAK = re.compile(r"[,;:()\[\]{}\"“”?!]|\s[-–—]\s|\.(?:\s|$)")
_TOKEN = re.compile(r"[A-Za-z][\w'’+-]*[\w+]|[A-Za-z]")
_MAX_PHRASE = 4


@dataclass
class _Phrase:
    key: tuple[str, ...]
    papers: set[int] = field(default_factory=set)
    in_titles: set[int] = field(default_factory=set)
    surfaces: Counter[str] = field(default_factory=Counter)
    natural: Counter[str] = field(default_factory=Counter)  # mid-sentence, in abstracts


def _is_content(word: str) -> bool:
    lower = word.casefold()
    return lower not in STOPWORDS and not lower.isdigit() and len(lower) > 1


def _runs(text: str) -> list[list[tuple[str, bool]]]:
    """Maximal runs of content words (word, opens its sentence) in `text`, split at
    punctuation and stopwords."""
    runs: list[list[tuple[str, bool]]] = []
    for sentence in split_sentences(text) or [text]:
        for piece in _RUN_BREAK.split(sentence):
            run: list[tuple[str, bool]] = []
            for match in _TOKEN.finditer(piece):
                word = match.group(0)
                opens = match.start() == 0 and piece is not None and sentence.startswith(piece)
                if _is_content(word):
                    run.append((word, opens))
                elif run:
                    runs.append(run)
                    run = []
            if run:
                runs.append(run)
    return runs


def _edge_ok(words: Sequence[str]) -> bool:
    first, last = words[0].casefold(), words[-1].casefold()
    if first in GENERIC_WORDS and not (first in _NOUNS_ALLOWED_AT_START and len(words) >= 3):
        return False
    if last in GENERIC_WORDS and not (last in _NOUNS_ALLOWED_AT_END and len(words) >= 2):
        return False
    # A phrase of generic words only says nothing about the theme.
    return any(w.casefold() not in GENERIC_WORDS for w in words)


def _key(words: Sequence[str]) -> tuple[str, ...]:
    return tuple(stem(w.casefold()) for w in words)


@dataclass
class WeekPhrases:
    """Every key phrase (1-4 content words) of a week's papers: which papers use it, in
    their title or abstract, and how the abstracts write it."""

    phrases: dict[tuple[str, ...], _Phrase]
    size: int

    def document_frequency(self, key: tuple[str, ...]) -> int:
        phrase = self.phrases.get(key)
        return len(phrase.papers) if phrase else 0


_LAST_WEEK: list[tuple[tuple[tuple[str, str, str], ...], WeekPhrases]] = []
_LAST_WEEK_LOCK = threading.Lock()


def week_terms(week: Sequence[Paper]) -> WeekPhrases:
    """The key phrases of a week's papers, computed once and shared by all its theme names.

    A briefing names each of its themes from the same week (each writer call passes the week),
    so the last week's phrases are kept: a 500-paper week with 80 themes counts them once.
    The key is the papers' text, so an updated abstract is counted afresh."""
    key = tuple((p.id, p.title, p.abstract) for p in week)
    with _LAST_WEEK_LOCK:
        if _LAST_WEEK and _LAST_WEEK[0][0] == key:
            return _LAST_WEEK[0][1]
    stats = _count_week_terms(week)
    with _LAST_WEEK_LOCK:
        _LAST_WEEK[:] = [(key, stats)]
    return stats


def _count_week_terms(week: Sequence[Paper]) -> WeekPhrases:
    phrases: dict[tuple[str, ...], _Phrase] = {}
    for index, paper in enumerate(week):
        for text, is_title in ((paper.title, True), (paper.abstract, False)):
            for run in _runs(text):
                words = [w for w, _ in run]
                for size in range(1, _MAX_PHRASE + 1):
                    for start in range(len(words) - size + 1):
                        chunk = words[start : start + size]
                        if not _edge_ok(chunk):
                            continue
                        key = _key(chunk)
                        phrase = phrases.get(key)
                        if phrase is None:
                            phrase = phrases[key] = _Phrase(key)
                        phrase.papers.add(index)
                        if is_title:
                            phrase.in_titles.add(index)
                        # Title Case and sentence-initial capitals are not how a word is
                        # written; mid-sentence abstract text is.
                        surface = " ".join(chunk)
                        phrase.surfaces[surface] += 1
                        if not is_title and not run[start][1]:
                            phrase.natural[surface] += 1
    return WeekPhrases(phrases=phrases, size=len(week))


def phrase_surface(phrase: _Phrase) -> str:
    """How the phrase is written: its most common form in the middle of abstract sentences;
    else its title form with Title Case undone ("Graph Transformers" -> "graph transformers";
    "LLMs", "dKV-Cache" and "MPNN" keep their capitals)."""
    if phrase.natural:
        return max(phrase.natural.items(), key=lambda item: (item[1], item[0]))[0]
    text = max(phrase.surfaces.items(), key=lambda item: (item[1], item[0]))[0]
    return " ".join(
        word.lower() if word[:1].isupper() and word[1:] == word[1:].lower() else word
        for word in text.split()
    )


def key_phrases(
    group: Sequence[Paper], week: Sequence[Paper], k: int = 2, stats: WeekPhrases | None = None
) -> list[str]:
    """The `k` key phrases that best name `group` within `week`, best first, as written.

    A phrase scores by the share of the group's papers that use it (in a group of several,
    at least two must), how rare it is in the rest of the week (idf), whether the members'
    titles use it, and its length (a two- or three-word phrase names a topic better than one
    word). A phrase sharing a word with a better one is skipped, and so is a one-word phrase
    when the week has a longer phrase containing it that scores as well.
    """
    stats = stats if stats is not None else week_terms(week)
    position = {paper.id: i for i, paper in enumerate(week)}
    members = {position[p.id] for p in group}
    need = 2 if len(members) > 1 else 1
    scored: list[tuple[float, tuple[str, ...]]] = []
    for key, phrase in stats.phrases.items():
        inside = phrase.papers & members
        if len(inside) < need:
            continue
        share = len(inside) / len(members)
        outside = len(phrase.papers - members)
        idf = math.log((stats.size + 1) / (outside + 1)) + 0.2
        titles = len(phrase.in_titles & members) / len(members)
        length = {1: 1.0, 2: 1.9, 3: 2.2}.get(len(key), 2.0)
        score = share * idf * (1 + 2 * titles) * length
        if len(key) > 1 and _GERUND.search(phrase_words(phrase)[0]):
            score *= 0.6  # "accelerating diffusion" is a verb phrase; a name is a noun phrase
        scored.append((-score, key))
    scored.sort()
    best = {key: -score for score, key in scored}
    chosen: list[tuple[str, ...]] = []
    for score, key in scored:
        if any(set(key) & set(other) for other in chosen):
            continue
        if chosen and -score < 0.5 * best[chosen[0]]:
            break
        if chosen and (_abbreviates(key, chosen[0]) or len(key) < 2):
            continue
        chosen.append(key)
        if len(chosen) == k:
            break
    return [phrase_surface(stats.phrases[key]) for key in chosen]


_GERUND = re.compile(r"..ing$", re.I)


def phrase_words(phrase: _Phrase) -> list[str]:
    return max(phrase.surfaces.items(), key=lambda item: (item[1], item[0]))[0].split()


def _abbreviates(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Whether one phrase is the other's acronym ("llms" and "large language models")."""
    for short, long in ((a, b), (b, a)):
        if len(short) == 1 and len(long) > 1:
            letters = short[0].rstrip("s")
            if letters == "".join(w[0] for w in long):
                return True
    return False


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def theme_name(
    group: Sequence[Paper], week: Sequence[Paper], k: int = 2, stats: WeekPhrases | None = None
) -> str:
    """A name a reader would give the theme, e.g. "Diffusion language models: KV cache": its
    best key phrase, then the second when it scores at least half as well (a distinct aspect
    of the same papers)."""
    phrases = key_phrases(group, week, k, stats)
    if not phrases:
        return group[0].title if group else "Other papers"
    if len(phrases) == 1:
        return _capitalised(phrases[0])
    return _capitalised(f"{phrases[0]}: {phrases[1]}")


def unique_phrase(
    paper: Paper,
    week: Sequence[Paper],
    stats: WeekPhrases | None = None,
    also: Sequence[str] = (),
) -> str | None:
    """A noun phrase of `paper`'s title (or of the texts `also`, e.g. its mechanism) that no
    other paper of `week` uses: what is new about it this week ("parallel decoding"); None
    if it has none. Candidates are whole runs of two to four content words, so a phrase is
    never a fragment of a longer name."""
    stats = stats if stats is not None else week_terms(week)
    position = {p.id: i for i, p in enumerate(week)}
    index = position.get(paper.id)
    if index is None:
        return None
    for rank, text in enumerate([paper.title, *also]):
        best: tuple[int, tuple[str, ...]] | None = None
        for run in _runs(text):
            words = [w for w, _ in run]
            if not 2 <= len(words) <= _MAX_PHRASE or not _edge_ok(words):
                continue
            key = _key(words)
            phrase = stats.phrases.get(key)
            if phrase is None or phrase.papers != {index}:
                continue
            if _GERUND.search(words[0]) and rank == 0:
                continue
            if best is None or (len(key), key) > best:
                best = (len(key), key)
        if best is not None:
            return phrase_surface(stats.phrases[best[1]])
    return None


_MAX_NAME_WORDS = 8


def theme_name_problems(name: str, group: Sequence[Paper]) -> list[str]:
    """Why a written theme name (e.g. an LLM's) cannot stand for `group`; empty when it can:
    at most eight words, no number, and most of its content words used by the members'
    titles or abstracts (a name may combine their words, not bring its own)."""
    problems = []
    words = _TOKEN.findall(name)
    if not words or len(name.split()) > _MAX_NAME_WORDS:
        problems.append(f"a name is one to {_MAX_NAME_WORDS} words")
    if re.search(r"\d", name) and not all(
        re.sub(r"\W", "", token).casefold() in _member_tokens(group)
        for token in name.split()
        if re.search(r"\d", token)
    ):
        problems.append("states a number (or a name with digits) no member uses")
    content = [w for w in words if _is_content(w) and w.casefold() not in GENERIC_WORDS]
    known = {stem(w.casefold()) for p in group for w in _TOKEN.findall(f"{p.title} {p.abstract}")}
    unknown = [w for w in content if stem(w.casefold()) not in known]
    if content and len(unknown) * 2 > len(content):
        problems.append(f"uses words no member uses: {', '.join(unknown)}")
    return problems


def _member_tokens(group: Sequence[Paper]) -> set[str]:
    return {
        re.sub(r"\W", "", token).casefold()
        for p in group
        for token in f"{p.title} {p.abstract}".split()
    }
