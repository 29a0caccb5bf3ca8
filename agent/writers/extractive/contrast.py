"""Comparative writing from facets: papers grouped by what they share, each described by name,
mechanism and headline result, the contrast stated; and answer openings that respond to the
aspect a question asks about (which, how much, whether training is needed, code, benchmarks).

Every described fact is a verbatim phrase of the cited paper's abstract (`agent.facets`); the
words around them ("X and Y both concern", "In contrast,", "do not say") are connective text
that states no finding. A sentence cites every paper whose facts it uses.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from agent.facets import Facets, Headline, ends_mid_clause, facets_of
from agent.results import ComparisonRow
from agent.state import DraftSentence
from agent.text import split_sentences
from agent.themes import WeekPhrases, phrase_surface, week_terms
from agent.writers.extractive.matching import parse_question
from agent.writers.extractive.phrasing import listing
from agent.writers.extractive.roles import classify_sentence
from agent.writers.extractive.shorten import shorten
from agent.writers.extractive.takeaway import key_result, main_point
from store.models import Paper
from store.tokens import stem

_COUNT = ("No", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten")


def _count(n: int) -> str:
    return _COUNT[n] if 0 <= n < len(_COUNT) else "Many"


def _capital(text: str) -> str:
    """Upper-cases the first letter, unless the text opens with a name written with a
    lower-case first letter ("dKV-Cache", "pyhgf")."""
    first = text.split(maxsplit=1)[0] if text.strip() else ""
    if first and (any(c.isupper() for c in first[1:]) or any(c.isdigit() for c in first)):
        return text
    return text[:1].upper() + text[1:] if text else text


def display_name(paper: Paper, facets: Facets | None = None) -> str:
    """What a paper is called in prose: its method's name ("Prophet"), its acronym when the
    name is long ("Learn2PD"), the head of a "Name: what it is" title, else its title."""
    facets = facets or facets_of(paper)
    name = facets.name
    if name and facets.acronym and len(name.split()) > 2:
        return facets.acronym
    if name:
        return name
    head, sep, _ = paper.title.partition(":")
    if sep and 0 < len(head.split()) <= 4:
        return head.strip()
    if facets.kind == "survey":
        return "the survey"
    # The title's head before its first joining word: "Taming Masked Diffusion Language
    # Models" for "Taming Masked Diffusion Language Models via Consistency Trajectory ...".
    head = re.split(r"\s+(?:via|with|for|through|using)\s+|:\s*", paper.title)[0]
    if 2 <= len(head.split()) <= 6 and head != paper.title and not ends_mid_clause(head):
        return head
    return f"“{paper.title}”"


# ---------------------------------------------------------------------------------------------
# One paper in a sentence

_DETERMINER = re.compile(r"^(?:a|an|the|one|two|three|our|its)\b", re.I)
_VERB_FIRST = re.compile(r"^(?:[a-z]+(?:es|s))\b(?<!ss)(?<!sis)(?<!ous)(?<!ics)(?<!ness)", re.I)


def _mechanism_clause(name: str, facets: Facets) -> str | None:
    mechanism = facets.mechanism
    if not mechanism:
        return None
    if _DETERMINER.match(mechanism):
        return f"{name} is {mechanism}"
    first = mechanism.split()[0]
    if _VERB_FIRST.match(first) and first[:1].islower():
        return f"{name} {mechanism}"
    if re.match(r"(?:by|via|through)\b", mechanism, re.I):
        return f"{name} works {mechanism}"
    return f"{name} introduces {mechanism}"


def result_text(headline: Headline) -> str:
    """The headline result as a short phrase with its benchmark: "up to 22.58x speedup on
    the LLaDA benchmark"."""
    text = headline.short or headline.phrase
    if headline.benchmark and headline.benchmark not in text:
        text += f" on {headline.benchmark}"
    return text


def describe(
    paper: Paper, facets: Facets | None = None, *, unnamed: str | None = None
) -> list[str]:
    """One or two sentences on a paper, from its facets: what it is or does, then its headline
    result ("Prophet is a training-free fast decoding paradigm that enables early commit
    decoding and reduces the number of decoding steps by up to 3.4x."). A paper whose
    abstract names no method is the subject `unnamed` ("It") when given, else its title."""
    facets = facets or facets_of(paper)
    name = unnamed if unnamed and not facets.name else display_name(paper, facets)
    clause = _mechanism_clause(name, facets)
    # A survey's figures describe the field it reviews, not a result of its own.
    headline = facets.headline if facets.kind != "survey" else None
    if clause is None:
        return []
    if headline is None:
        described = [_sentence(clause), *([_also(facets)] if facets.more else [])]
        if facets.kind in ("benchmark", "dataset", "analysis"):
            # What a benchmark or an analysis found is its result, figures or not.
            finding = key_result(paper, parse_question("", None), {facets.mechanism_sentence or ""})
            if finding:
                described.append(shorten(finding, max_words=35))
        return described
    also = [_also(facets)] if facets.more else []
    if headline.form == "verb" and len(clause.split()) < 30:
        return [_sentence(f"{clause} and {result_text(headline)}"), *also]
    if headline.form == "noun" and len(clause.split()) < 30:
        return [_sentence(f"{clause}, with {result_text(headline)}"), *also]
    return [_sentence(clause), *also, _sentence(headline.phrase)]


def _also(facets: Facets) -> str:
    """The paper's next contribution: "It also introduces Guided Diffusion, a training-free
    method that ..."."""
    name, phrase = facets.more[0]
    what = f"{name}, {phrase}" if name and not phrase.startswith(name) else phrase
    return _sentence(f"It also introduces {what}")


def _sentence(text: str) -> str:
    text = text.strip().rstrip(".;:,")
    return _capital(text) + "."


# ---------------------------------------------------------------------------------------------
# What papers share, and how they group


def _approach_papers(papers: Sequence[Paper]) -> list[Paper]:
    """The papers with their abstracts reduced to what describes the approach (title, name,
    mechanism sentence, headline sentence), so groups form on how papers work rather than on
    their shared background."""
    reduced = []
    for paper in papers:
        facets = facets_of(paper)
        parts = [s for s in (facets.mechanism_sentence, facets.mechanism) if s]
        if facets.headline:
            parts.append(facets.headline.sentence)
        abstract = " ".join(dict.fromkeys(parts)) or paper.abstract
        reduced.append(paper.model_copy(update={"abstract": abstract}))
    return reduced


def _phrase_score(key: tuple[str, ...], count: int, in_titles: int) -> float:
    length = {1: 1.0, 2: 2.2, 3: 3.0}.get(len(key), 2.6)
    return count * length * (1 + 0.5 * in_titles)


_ADJECTIVAL = re.compile(r"(?:ly|ed|al|ive|ous|ic|able|ible|ful|less|ent|ant)$")


def _nominal(index: WeekPhrases, key: tuple[str, ...]) -> bool:
    """A one-word phrase is a topic only if it does not read as an adverb or adjective
    ("efficiently", "distributed"); longer phrases end on their noun."""
    return len(key) > 1 or not _ADJECTIVAL.search(phrase_surface(index.phrases[key]).casefold())


def shared_phrases(papers: Sequence[Paper], k: int = 4) -> list[str]:
    """Readable phrases (as the abstracts write them) that at least half of the papers, and
    at least two, use: "diffusion language models", "parallel decoding"."""
    if len(papers) < 2:
        return []
    index = week_terms(papers)
    need = max(2, math.ceil(len(papers) / 2))
    scored = []
    for key, phrase in index.phrases.items():
        count = len(phrase.papers)
        if count >= need and _nominal(index, key):
            scored.append((-_phrase_score(key, count, len(phrase.in_titles)), key))
    return _distinct(index, sorted(scored), k)


def _distinct(index: WeekPhrases, scored: list[tuple[float, tuple[str, ...]]], k: int) -> list[str]:
    chosen: list[tuple[str, ...]] = []
    for _, key in scored:
        if any(set(key) & set(other) for other in chosen):
            continue
        chosen.append(key)
        if len(chosen) == k:
            break
    return [phrase_surface(index.phrases[key]) for key in chosen]


# Words that name a whole field, too broad to group papers by.
_FIELD_WORDS = frozenset(
    [
        "learning",
        "deep",
        "neural",
        "network",
        "networks",
        "language",
        "languages",
        "large",
        "model",
        "models",
        "data",
        "training",
        "inference",
        "system",
        "systems",
        "machine",
        "intelligence",
        "ai",
    ]
)


@dataclass(frozen=True)
class Group:
    phrase: str  # what the members share, as written: "KV cache"
    members: list[str]  # paper ids, in the order given


def approach_groups(
    papers: Sequence[Paper], exclude: Sequence[str] = (), max_groups: int = 3
) -> list[Group]:
    """Papers grouped by a phrase of their approach that two or more (but not all) of them
    use; each paper in at most one group, the best-covering phrases first. Phrases that
    repeat a word of `exclude` (what all of them share, or what the question already says)
    do not make a group."""
    if len(papers) < 3:
        return []
    index = week_terms(_approach_papers(papers))
    excluded = {w for phrase in exclude for w in _stems(phrase)}
    candidates = []
    for key, phrase in index.phrases.items():
        count = len(phrase.papers)
        if count < 2 or count >= len(papers) or set(key) & excluded:
            continue
        # One word makes a group only when it is in every member's title ("cache") and names
        # more than the field ("learning", "neural").
        if len(key) == 1 and (
            len(key[0]) < 4
            or phrase.in_titles != phrase.papers
            or not _nominal(index, key)
            or phrase_surface(phrase).casefold() in _FIELD_WORDS
        ):
            continue
        candidates.append((-_phrase_score(key, count, len(phrase.in_titles)), key))
    candidates.sort()
    groups: list[Group] = []
    taken: set[int] = set()
    for _, key in candidates:
        members = sorted(index.phrases[key].papers - taken)
        if len(members) < 2:
            continue
        surface = phrase_surface(index.phrases[key])
        if " " not in surface and surface[:1].isupper() and surface[1:].islower():
            surface = surface.lower()  # "Discrete" opens a name in the abstract, not a topic
        groups.append(Group(surface, [papers[i].id for i in members]))
        taken.update(members)
        if len(groups) == max_groups:
            break
    return groups


def _stems(phrase: str) -> set[str]:

    return {stem(w) for w in re.findall(r"[a-z0-9][\w-]*", phrase.casefold())}


# ---------------------------------------------------------------------------------------------
# Comparative prose


def comparison_sentences(papers: Sequence[Paper], query: str | None = None) -> list[DraftSentence]:
    """The written comparison: what all share, then the papers by group ("X and Y both
    concern KV cache"), each described by its mechanism and headline result, then the
    papers that take another route ("In contrast, ..."), then who needs training."""
    if not papers:
        return []
    ids = [p.id for p in papers]
    by_id = {p.id: p for p in papers}
    sentences: list[DraftSentence] = []
    shared = shared_phrases(papers, k=3)
    if len(papers) > 1:
        groups = approach_groups(papers, exclude=[*shared, query or ""])
        # Without a shared phrase there is nothing to say about all of them at once.
        if shared:
            every = (
                "Both papers" if len(papers) == 2 else f"All {_count(len(papers)).lower()} papers"
            )
            opener = f"{every} concern {listing(shared)}"
            if groups:
                opener += "; they differ in approach as follows."
            sentences.append(DraftSentence(text=_sentence(opener), cites=ids))
    else:
        groups = []
    grouped: list[str] = []
    for group in groups:
        names = [display_name(by_id[i]) for i in group.members]
        both = "both" if len(names) == 2 else "all"
        sentences.append(
            DraftSentence(
                text=_sentence(f"{listing(names)} {both} concern {group.phrase}"),
                cites=list(group.members),
            )
        )
        for paper_id in group.members:
            described = describe(by_id[paper_id]) or _extracted(by_id[paper_id], query)
            sentences += [DraftSentence(text=t, cites=[paper_id]) for t in described]
        grouped += group.members
    rest = [p for p in papers if p.id not in grouped]
    for n, paper in enumerate(rest):
        described = describe(paper) or _extracted(paper, query)
        if grouped and n == 0:
            described[0] = "In contrast, " + described[0][:1].lower() + described[0][1:]
            if described[0][len("In contrast, ")].islower() and _starts_with_name(
                paper, described[0][len("In contrast, ") :]
            ):
                name = display_name(paper)
                described[0] = (
                    "In contrast, " + name + described[0][len("In contrast, ") + len(name) :]
                )
        sentences += [DraftSentence(text=t, cites=[paper.id]) for t in described]
    training = training_sentence(papers, say_unknown=False)
    if training is not None:
        sentences.append(training)
    return sentences


def _extracted(paper: Paper, query: str | None) -> list[str]:
    """A paper whose abstract names no mechanism: its main sentence for the query and its
    headline result sentence, shortened at clause boundaries only."""

    out = []
    main = main_point(paper, query or "")
    if main:
        out.append(shorten(main, max_words=35))
    headline = facets_of(paper).headline
    if headline and headline.sentence != main and facets_of(paper).kind != "survey":
        out.append(shorten(headline.sentence, max_words=35))
    return out


def _starts_with_name(paper: Paper, text: str) -> bool:
    return text.casefold().startswith(display_name(paper).casefold())


def differences(papers: Sequence[Paper]) -> list[str]:
    """Where the papers differ, one readable line each: "Prophet: a training-free fast
    decoding paradigm that enables early commit decoding"."""
    lines = []
    for paper in papers:
        facets = facets_of(paper)
        what = facets.mechanism or (facets.task and f"on {facets.task}")
        if what:
            lines.append(f"{display_name(paper, facets)}: {what}")
    return lines


# ---------------------------------------------------------------------------------------------
# Aspects: what a question asks about each paper

Aspect = Literal["training", "magnitude", "code", "benchmark", "difference", "which", "general"]

_ASPECTS: list[tuple[Aspect, re.Pattern[str]]] = [
    (
        "training",
        re.compile(
            # Whether training is needed, not training as a topic ("distributed training").
            r"\b(?:need|needs|needed|require|requires|required|requiring|without|no|avoid\w*"
            r"|free of)\s+(?:any\s+|additional\s+|extra\s+|further\s+|more\s+)?"
            r"(?:re-?)?(?:training|fine-?tuning)\b|\btraining[- ]free\b|\bretrain\w*"
            r"|\bfine-?tun(?:e|ed|es)\b|\bplug-and-play\b|\boff-the-shelf\b"
            r"|\b(?:do|does|must|should)\s+(?:\w+\s+){1,3}?(?:be\s+)?(?:trained|train)\b",
            re.I,
        ),
    ),
    (
        "code",
        re.compile(
            r"\bcode\b(?! generation)|\bopen[- ]sourced?\b|\bgithub\b|\brepositor(?:y|ies)\b"
            r"|\bimplementations? (?:available|released)\b",
            re.I,
        ),
    ),
    (
        "magnitude",
        re.compile(
            r"\bhow (?:much|many|fast|large|big|well|far)\b|\bby how\b|\bwhat (?:speed-?ups?"
            r"|gains?|improvements?|results?|accuracy|performance)\b|\bhow (?:\w+ ){0,3}"
            r"(?:faster|better|cheaper|smaller)\b|\bquantif\w+|\bnumbers?\b",
            re.I,
        ),
    ),
    (
        "benchmark",
        re.compile(
            r"\b(?:which|what) (?:benchmarks?|datasets?|tasks?)\b|\bevaluated? on\b"
            r"|\btested on\b",
            re.I,
        ),
    ),
    (
        "difference",
        re.compile(
            r"\bdiffer\w*|\bcompar\w+|\bcontrast\w*|\bversus\b|\bvs\.?\b|\btrade-?offs?\b"
            r"|\bsimilarit\w+",
            re.I,
        ),
    ),
    (
        "which",
        re.compile(
            r"^\s*(?:so\s+|and\s+)?(?:which|what) (?:\w+ ){0,2}?(?:papers?|methods?|approaches"
            r"|models?|ones|works?|systems?|of (?:them|these|those))\b",
            re.I,
        ),
    ),
]


def question_aspect(question: str) -> Aspect:
    """The aspect of each paper a question asks about, from the question's form: whether
    training is needed, how much (a figure), code, benchmarks, how papers differ, which papers;
    else "general"."""
    for aspect, pattern in _ASPECTS:
        if pattern.search(question):
            return aspect
    return "general"


_ANAPHOR = re.compile(
    r"\b(?:them|these|those|they|their|each|either|both|the (?:above|previous|same))\b"
    r"|\bof (?:the|these) (?:papers|methods)\b",
    re.I,
)


def refers_back(question: str) -> bool:
    """Whether a follow-up points at the papers of the previous answer ("Which of them ...")."""
    return bool(_ANAPHOR.search(question))


def training_sentence(papers: Sequence[Paper], *, say_unknown: bool = True) -> DraftSentence | None:
    """Which papers say they need no training, which train, and (with `say_unknown`) which do
    not say; None when the abstracts do not say for any (or, without `say_unknown`, when the
    set is not mixed)."""
    free = [p for p in papers if facets_of(p).training is False]
    trained = [p for p in papers if facets_of(p).training is True]
    unknown = [p for p in papers if facets_of(p).training is None]
    if not say_unknown and not (free and trained):
        return None
    parts = []
    if free:
        verb = "needs" if len(free) == 1 else "need"
        parts.append(f"{listing([display_name(p) for p in free])} {verb} no training")
    if trained:
        verb = "trains" if len(trained) == 1 else "train"
        parts.append(f"{listing([display_name(p) for p in trained])} {verb} a model")
    if unknown and say_unknown and (free or trained):
        verb = "does" if len(unknown) == 1 else "do"
        parts.append(f"{listing([display_name(p) for p in unknown])} {verb} not say")
    if not parts:
        if not say_unknown:
            return None
        text = (
            "None of these abstracts states whether its method needs training."
            if len(papers) > 1
            else "The abstract does not state whether the method needs training."
        )
        return DraftSentence(text=text, cites=[p.id for p in papers])
    text = "By their abstracts, " + "; ".join(parts) + "."
    return DraftSentence(text=text, cites=[p.id for p in [*free, *trained, *unknown]])


def magnitude_sentence(papers: Sequence[Paper]) -> DraftSentence | None:
    """The headline figures the abstracts report, paper by paper, and which state none."""
    with_figures = [p for p in papers if facets_of(p).headline is not None]
    without = [p for p in papers if facets_of(p).headline is None]
    if not with_figures:
        return None
    items = []
    for paper in with_figures:
        headline = facets_of(paper).headline
        assert headline is not None
        name = display_name(paper)
        if headline.form == "noun":
            items.append(f"{name} reports {result_text(headline)}")
        elif headline.form == "verb":
            items.append(f"{name} {result_text(headline)}")
        else:
            items.append(f"{name}: {headline.phrase}")
    sentence = "; ".join(items)
    if without:
        verb = "states" if len(without) == 1 else "state"
        sentence += f"; {listing([display_name(p) for p in without])} {verb} no figure"
    return DraftSentence(text=_sentence(sentence), cites=[p.id for p in [*with_figures, *without]])


def code_sentence(papers: Sequence[Paper]) -> DraftSentence:
    with_code = [p for p in papers if facets_of(p).code]
    without = [p for p in papers if not facets_of(p).code]
    parts = []
    if with_code:
        verb = "links" if len(with_code) == 1 else "link"
        parts.append(f"{listing([display_name(p) for p in with_code])} {verb} code")
    if without:
        verb = "does" if len(without) == 1 else "do"
        parts.append(f"{listing([display_name(p) for p in without])} {verb} not link code")
    return DraftSentence(
        text=_sentence("; ".join(parts)), cites=[p.id for p in [*with_code, *without]]
    )


def benchmark_sentence(papers: Sequence[Paper]) -> DraftSentence | None:
    named = [(p, facets_of(p).headline) for p in papers]
    with_bench = [(p, h.benchmark) for p, h in named if h is not None and h.benchmark]
    without = [p for p, h in named if h is None or not h.benchmark]
    if not with_bench:
        return None
    parts = [f"{display_name(p)} reports results on {b}" for p, b in with_bench]
    if without:
        verb = "names" if len(without) == 1 else "name"
        parts.append(f"{listing([display_name(p) for p in without])} {verb} no benchmark")
    return DraftSentence(
        text=_sentence("; ".join(parts)),
        cites=[p.id for p, _ in with_bench] + [p.id for p in without],
    )


def answer_opening(question: str, papers: Sequence[Paper]) -> tuple[Aspect, list[DraftSentence]]:
    """The answer's first sentence(s), responding to what the question asks about the
    `papers` that bear on it (most relevant first): which need training, how much they
    report, code, benchmarks, how they differ, or which papers and along which lines."""
    aspect = question_aspect(question)
    if not papers:
        return aspect, []
    if aspect == "training":
        training = training_sentence(papers)
        return aspect, [training] if training else []
    if aspect == "magnitude":
        magnitude = magnitude_sentence(papers)
        if magnitude is not None:
            return aspect, [magnitude]
    if aspect == "code":
        return aspect, [code_sentence(papers)]
    if aspect == "benchmark":
        bench = benchmark_sentence(papers)
        if bench is not None:
            return aspect, [bench]
    return aspect, [_overview(papers)]


def answer_groups(papers: Sequence[Paper]) -> list[Group]:
    """The groups an answer presents the papers in (what the overview names)."""
    return approach_groups(papers, exclude=shared_phrases(papers, k=2))


def grouped_order(papers: Sequence[Paper]) -> list[str]:
    """Paper ids in the order an answer presents them: each group's members together, in the
    order the overview names the groups, then the rest in their given order."""
    order: list[str] = []
    for group in answer_groups(papers):
        order += [i for i in group.members if i not in order]
    return order + [p.id for p in papers if p.id not in order]


def _overview(papers: Sequence[Paper]) -> DraftSentence:
    """ "Five papers address this, along two lines: dKV-Cache and FreeCache on KV cache;
    Prophet, LocalLeap and Learn2PD on parallel decoding." (or the names, without groups)."""
    ids = [p.id for p in papers]
    names = [display_name(p) for p in papers]
    if len(papers) == 1:
        return DraftSentence(text=f"One paper addresses this: {names[0]}.", cites=ids)
    groups = answer_groups(papers)
    head = f"{_count(len(papers))} papers address this"
    if groups and len(groups) >= 1:
        by_id = {p.id: p for p in papers}
        lines = [
            f"{listing([display_name(by_id[i]) for i in g.members])} on {g.phrase}" for g in groups
        ]
        grouped = {i for g in groups for i in g.members}
        rest = [display_name(p) for p in papers if p.id not in grouped]
        if rest:
            verb = "takes another route" if len(rest) == 1 else "take other routes"
            lines.append(f"{listing(rest)} {verb}")
        return DraftSentence(text=f"{head}: " + "; ".join(lines) + ".", cites=ids)
    return DraftSentence(text=f"{head}: {listing(names)}.", cites=ids)


def aspect_sentence(aspect: Aspect, paper: Paper) -> str | None:
    """The abstract sentence that speaks to `aspect` for one paper (verbatim), if any."""
    facets = facets_of(paper)
    if aspect == "training" and facets.training_phrase:
        for sentence in re.split(r"(?<=[.!?])\s+", paper.abstract):
            if facets.training_phrase in sentence:
                return sentence
    if aspect in ("magnitude", "benchmark") and facets.headline:
        return facets.headline.sentence
    return None


# ---------------------------------------------------------------------------------------------
# The comparison table


def comparison_row(paper: Paper, query: str | None = None) -> ComparisonRow:
    """One row of the comparison table, every cell a clean phrase or a whole sentence of the
    abstract: the method's name, the problem (the task phrase, else the problem sentence),
    the approach (the mechanism phrase, else the main sentence) and the headline result."""

    facets = facets_of(paper)
    method = facets.name
    if method and facets.acronym and facets.acronym not in method:
        method = f"{method} ({facets.acronym})"
    main = main_point(paper, query or "")
    problem = _capital(facets.task) if facets.task else _problem_sentence(paper, main)
    if facets.mechanism:
        approach = _capital(facets.mechanism)
    else:
        approach = shorten(main, max_words=30) if main else ""
    # A survey's figures describe the field it reviews, not a result of its own.
    headline = facets.headline if facets.kind != "survey" else None
    if headline is None:
        key_result = ""
    elif headline.form == "clause":
        key_result = shorten(headline.sentence, max_words=30)
    else:
        key_result = _capital(result_text(headline))
    return ComparisonRow(
        paper_id=paper.id,
        title=paper.title,
        problem=problem,
        approach=approach,
        key_result=key_result,
        needs_training=facets.training,
        code=facets.code,
        method=method,
        benchmark=headline.benchmark if headline else None,
    )


def _problem_sentence(paper: Paper, exclude: str | None) -> str:
    """The problem sentence before the contribution (else the opening sentence), shortened
    at clause boundaries only."""

    sentences = [s for s in split_sentences(paper.abstract) if s != exclude]
    if not sentences:
        return ""
    chosen = sentences[0]
    for text in sentences:
        role = classify_sentence(text)
        if role == "problem":
            chosen = text
            break
        if role == "contribution":
            break
    return shorten(chosen, max_words=30)
