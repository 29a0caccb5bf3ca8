"""What an abstract states about its paper, as facets a comparison or an answer can use.

Owns the extraction of one paper's facets from its title and abstract:

- `name` (and `acronym`): what the method, model, benchmark or dataset is called ("Prophet",
  "Learning to Parallel Decode" / "Learn2PD"), from "we propose NAME, a ...", "called NAME",
  "NAME (ACRONYM)" and a title of the form "NAME: what it is";
- `kind`: what the paper contributes (a method, a benchmark or dataset, a survey, an analysis);
- `task`: the problem or task it addresses, as a phrase ("fast decoding of diffusion LLMs");
- `mechanism`: how the method works, as a phrase ("reuses stable KV projections across
  denoising steps"; "a training-free fast decoding paradigm that enables early commit decoding");
- `training`: whether the method needs training (False for "training-free"), with the phrase
  that says so, None when the abstract does not say;
- `headline`: the headline result: its figure with unit, what was measured, what it is
  compared with and on which benchmark, and the clause of the abstract that states it;
- `code`: the code repository.

Every phrase is copied from the abstract (or title), in order, and checked to be an extract of
it (`is_extract`): a facet is left empty rather than guessed. Phrases end at a clause boundary,
so a cell never reads "..., revealing that.". The patterns are general ones of scientific
abstracts, validated on SciTLDR-A abstracts (`bench/bench_facets.py`), not on the sample.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from agent.text import numbers_in, split_sentences
from store.models import Paper

Kind = Literal["method", "benchmark", "dataset", "survey", "analysis"]


@dataclass(frozen=True)
class Headline:
    """A paper's headline result, as its abstract states it."""

    figure: str  # the figure as written: "3.4x", "up to 22.58x", "14.2%"
    phrase: str  # the clause stating it: "reduces the number of decoding steps by up to 3.4x"
    sentence: str  # the abstract sentence it comes from, verbatim
    measure: str | None = None  # what was measured: "speedup", "accuracy"
    compared_with: str | None = None  # "LLaVA-NEXT", "autoregressive baselines"
    benchmark: str | None = None  # "GSM8K", "the LLaDA benchmark"
    # The shortest verbatim span that states the figure, and its grammatical form:
    # "noun" ("up to 22.58x speedup"), "verb" ("reduces the number of decoding steps by up to
    # 3.4x", to follow a subject) or "clause" (a clause of its own).
    short: str = ""
    form: Literal["noun", "verb", "clause"] = "clause"


@dataclass(frozen=True)
class Facets:
    """The facets of one paper; a field is None when its abstract does not state it."""

    paper_id: str
    name: str | None
    acronym: str | None
    kind: Kind
    task: str | None
    mechanism: str | None
    mechanism_sentence: str | None
    training: bool | None
    training_phrase: str | None
    headline: Headline | None
    code: str | None
    # Further contributions after the main one: (its name or None, what it is).
    more: tuple[tuple[str | None, str], ...] = ()

    @property
    def label(self) -> str | None:
        """The shortest name the paper goes by: its acronym, else its name."""
        return self.acronym or self.name


# ---------------------------------------------------------------------------------------------
# Small helpers

_WORD = re.compile(r"[^\W_]+")


def _match_words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def is_extract(phrase: str, source: str, max_pieces: int = 3) -> bool:
    """Whether `phrase` is made of at most `max_pieces` verbatim runs of `source`'s words, in
    order (case and punctuation ignored)."""
    words = _match_words(phrase)
    if not words:
        return False
    haystack = " " + " ".join(_match_words(source)) + " "
    position, start, pieces = 0, 0, 0
    while start < len(words):
        end = start
        hit = -1
        # Greedy longest run from `start` found after `position`.
        for stop in range(len(words), start, -1):
            found = haystack.find(" " + " ".join(words[start:stop]) + " ", position)
            if found >= 0:
                end, hit = stop, found
                break
        if hit < 0:
            return False
        position = hit + len(" ".join(words[start:end])) + 1
        start = end
        pieces += 1
    return pieces <= max_pieces


# Words a clause cannot end on: a phrase ending on one of them was cut mid-clause.
DANGLING = frozenset(
    """a an the of to for in on at by with from into onto over under than as and or but nor
    that which who whom whose where when while whereas because since although though if
    whether via through across between among against per toward towards upon within without
    is are was were be been being has have had do does did can could may might must shall
    should will would its their our his her this these those such both either neither each
    every very more most less least so not no including namely like e.g i.e""".split()  # noqa: SIM905
)


def ends_mid_clause(text: str) -> bool:
    """Whether `text` stops mid-clause: its last word is one a clause cannot end on ("that",
    "the", "of", "and"), or it ends on a colon or a comma."""
    stripped = text.rstrip().rstrip(".!?…").rstrip()
    if not stripped:
        return False
    if stripped[-1] in ",:;-–(":
        return True
    last = _match_words(stripped.rsplit(None, 1)[-1])
    return bool(last) and last[-1] in DANGLING


def _clean_phrase(text: str) -> str:
    """Trims a phrase to a clause boundary: no trailing punctuation or dangling function
    words, no unbalanced parenthesis or quote."""
    text = text.strip().strip(",;:?!").strip()
    if text.count("(") > text.count(")"):
        text = text[: text.rfind("(")].rstrip()
    if text.count('"') % 2:
        text = text.replace('"', "")
    while True:
        text = text.rstrip(" ,;:-–—").rstrip()
        parts = text.rsplit(None, 1)
        if len(parts) == 2 and _match_words(parts[1]) and _match_words(parts[1])[-1] in DANGLING:
            text = parts[0]
            continue
        break
    return text.rstrip(".")


# ---------------------------------------------------------------------------------------------
# Names

_INTRO_VERB_STEMS = (
    r"propose|introduce|present|develop|design|build|release|construct|curate|create|offer"
    r"|contribute|unveil|describe|formulate|devise|establish|put forward"
)
_INTRO_VERBS = rf"(?:{_INTRO_VERB_STEMS})[sd]?"
# A name as written: one to four tokens, the first capitalised or containing a capital or
# digit after its first letter ("Prophet", "dKV-Cache", "LLaDA-8B", "Learn2PD").
_NAME_TOKEN = r"[A-Za-z][\w.+\-]*[\w+]|[A-Z]"
_NAMED = re.compile(
    r"\b(?:called|named|dubbed|termed|coined)\s+(?:as\s+)?(?:the\s+)?[\"“'‘]?"
    r"(?P<name>[^,;:.()\"”’]{2,60}?)[\"”'’]?"
    r"(?=\s*(?:\((?P<acr>[^()]{2,15})\)|,|;|\.|:|\s+(?:which|that|to|for|as|is|and|with|in|on|by)\b|$))",
)
_APPOSITIVE = re.compile(
    rf"\b{_INTRO_VERBS}\s+(?P<name>(?:{_NAME_TOKEN})(?:[\s-](?:{_NAME_TOKEN})){{0,3}})"
    r"(?:\s*\((?P<acr>[^()]{2,15})\))?\s*(?:,|:|—|–| -)\s*(?:an?|the|which|that)\b",
)
_SUBJECT_NAME = re.compile(
    rf"^(?P<name>(?:{_NAME_TOKEN})(?:[\s-](?:{_NAME_TOKEN})){{0,2}})"
    r"(?:\s*\((?P<acr>[^()]{2,15})\))?\s*,?\s+(?:is|are)\s+(?:an?|the)\b"
)
_ACRONYM_DEF = re.compile(r"\(\s*(?P<acr>[A-Za-z][\w.+\-]{1,14}?)\s*\)")


def _is_name_like(token: str) -> bool:
    """A coined name rather than an ordinary word: a capital or digit after the first
    letter ("dKV-Cache", "GPT-4", "Learn2PD") or all capitals ("LASP")."""
    letters = token.replace("-", "")
    return bool(re.search(r"[A-Z0-9]", letters[1:]) or (len(letters) >= 2 and letters.isupper()))


_NOT_NAMES = frozenset(
    """we our this these it they a an the in to for novel new simple first large
    however here specifically experiments results""".split()  # noqa: SIM905
)


def _acceptable_name(name: str, sentence: str, start: int) -> bool:
    tokens = name.split()
    if not tokens or tokens[0].casefold() in _NOT_NAMES:
        return False
    if len(tokens) > 5 or len(name) > 60:
        return False
    # A capitalised word mid-sentence is a proper name; sentence-initial capitals prove
    # nothing, and an all-lower-case phrase ("ligand-target passing block") is a description.
    if any(_is_name_like(t) for t in tokens):
        return True
    return start > 0 and any(t[:1].isupper() for t in tokens)


def _long_form_matches(acronym: str, long_form: str) -> bool:
    letters = [c.casefold() for c in acronym if c.isalpha() and c.isupper()] or [
        c.casefold() for c in acronym if c.isalpha()
    ]
    initials = [w[0].casefold() for w in re.findall(r"[A-Za-z][\w]*", long_form)]
    if not letters or not initials:
        return False
    # The acronym's capitals appear in order among the long form's initials (or inside it).
    joined = "".join(re.findall(r"[A-Za-z]", long_form)).casefold()
    position = 0
    for letter in letters:
        position = joined.find(letter, position)
        if position < 0:
            return False
        position += 1
    return letters[0] == initials[0]


def _name_from_sentence(sentence: str, title: str) -> tuple[str | None, str | None]:
    for pattern in (_APPOSITIVE, _NAMED, _SUBJECT_NAME):
        match = pattern.search(sentence)
        if not match:
            continue
        name = _clean_phrase(match.group("name").strip("`'\"“”‘’ "))
        acronym = match.groupdict().get("acr")
        if acronym and not re.fullmatch(r"[\w.+\-]+", acronym.strip()):
            acronym = None
        if not _acceptable_name(name, sentence, match.start("name")):
            continue
        # "a strategy termed confident decoding" names a part; a name worth reporting is
        # coined (capitals, digits), proper (capitalised), has an acronym or is in the title.
        if pattern is _NAMED and not (
            any(_is_name_like(t) for t in name.split())
            or name[:1].isupper()
            or acronym
            or name.casefold() in title.casefold()
        ):
            continue
        return name, acronym.strip() if acronym else None
    return None, None


def _title_name(title: str) -> str | None:
    """ "dKV-Cache: The Cache for Diffusion Language Models" -> "dKV-Cache"."""
    head, sep, _ = title.partition(":")
    head = head.strip()
    if not sep or not head or len(head.split()) > 4:
        return None
    return head


def _acronym_for(name: str, abstract: str) -> str | None:
    """The acronym the abstract defines for `name`: "Learning to Parallel Decode (Learn2PD)"."""
    index = abstract.find(name)
    if index < 0:
        return None
    rest = abstract[index + len(name) : index + len(name) + 20]
    match = re.match(r"\s*\(\s*([A-Za-z][\w.+\-]{1,14}?)\s*\)", rest)
    if match and match.group(1) != name and _long_form_matches(match.group(1), name):
        return match.group(1)
    return None


def extract_name(title: str, abstract: str) -> tuple[str | None, str | None]:
    """(name, acronym) of what the paper introduces; (None, None) when it names nothing."""
    sentences = split_sentences(abstract)
    title_name = _title_name(title)
    for sentence in sentences:
        if not re.search(_INTRO_VERBS + r"|\bcalled\b|\bnamed\b|\bdubbed\b|\btermed\b", sentence):
            continue
        name, acronym = _name_from_sentence(sentence, title)
        if name is None:
            continue
        if acronym is None:
            acronym = _acronym_for(name, abstract)
        if acronym is not None and not _long_form_matches(acronym, name):
            # "we propose X (Y)" where Y is not X's acronym: an aside, not a name.
            acronym = None
        return name, acronym
    if title_name is not None and (
        any(_is_name_like(t) for t in title_name.split()) or title_name in abstract
    ):
        return title_name, _acronym_for(title_name, abstract)
    return None, None


# ---------------------------------------------------------------------------------------------
# Kind, task, mechanism

_SURVEY = re.compile(
    r"\bsurvey\b|\b(?:systematic|literature|comprehensive) review\b|\bwe review\b"
    r"|\boverview of\b",
    re.I,
)
_BENCHMARK = re.compile(
    r"\b(?:we|this (?:paper|work))\s+(?:\w+\s+){0,2}?"
    rf"{_INTRO_VERBS}\s+(?:\w+\s+){{0,5}}?(?:benchmark|test ?bed|evaluation suite|leaderboard)\b",
    re.I,
)
_DATASET = re.compile(
    r"\b(?:we|this (?:paper|work))\s+(?:\w+\s+){0,2}?"
    rf"{_INTRO_VERBS}\s+(?:\w+\s+){{0,5}}?(?:dataset|corpus|data set)\b",
    re.I,
)
_ANALYSIS = re.compile(
    r"\b(?:we|this (?:paper|work|study))\s+(?:\w+\s+){0,2}?"
    r"(?:investigate|study|analy[sz]e|examine|show|find|characteri[sz]e|revisit|explore)\w*\b",
    re.I,
)
_PROPOSES = re.compile(rf"\b{_INTRO_VERBS}\b", re.I)


def _kind(title: str, sentences: Sequence[str]) -> Kind:
    if _SURVEY.search(title) or (sentences and _SURVEY.search(sentences[0])):
        return "survey"
    text = " ".join(sentences)
    title = title.casefold()
    if _BENCHMARK.search(text) or re.search(r"bench(?:mark)?s?\b", title):
        return "benchmark"
    if _DATASET.search(text) or re.search(r"\b(?:dataset|corpus)\b", title):
        return "dataset"
    if _PROPOSES.search(text):
        return "method"
    if _ANALYSIS.search(text):
        return "analysis"
    return "method"


# "we propose X, a training-free decoding paradigm that enables early commit decoding"
# Between the subject and its verb only adverbs ("we further propose", "this paper also
# introduces"); "we structure the design space" has no contribution verb.
_ADVERBS = (
    r"(?:(?:also|further|then|first|additionally|hence|therefore|thus|here|now|finally|newly"
    r"|novelly|instead|accordingly|subsequently|therefore|formally|thereby|next)\s+){0,2}"
)
_CONTRIBUTION = re.compile(
    r"(?:\b(?:we|this (?:paper|work|report|study)|our (?:paper|work))\s+"
    + _ADVERBS
    + r"|(?<=\w) and\s+)"
    + rf"{_INTRO_VERBS}\s+",
    re.I,
)
# "..., which reuses ...", "by reusing stable KV projections", "that enables early commit"
_HOW = re.compile(r"\b(?:by|via|through)\s+(?P<how>\w+ing\b[^;.]{8,200})", re.I)
# Where a phrase ends: a clause that elaborates or reports a result.
_PHRASE_END = re.compile(
    r",\s+(?:which|while|whereas|thereby|thus|enabling|allowing|making|leading|resulting|yielding"
    r"|achieving|demonstrating|showing|outperforming|surpassing|and\s+(?:we|it|they|show|demonstrate"
    r"|achieve|evaluate|release)|where|so that|as well as|e\.g\.|i\.e\.|to (?:address|tackle"
    r"|solve|overcome|mitigate|alleviate|handle|resolve|remedy|bridge|fill|close))\b"
    r"|;|:\s|\s+—\s|\s+-\s|\.\s*$"
)


_VERB_AFTER_COMMA = re.compile(r",\s+(?:is|are|was|were|can|could|has|have|will|would|leads?)\b")


def _phrase(text: str, max_words: int) -> str | None:
    """`text` up to its first clause boundary, at most `max_words` words (cut only at a
    comma or a preposition that starts a new constituent, never mid-phrase)."""
    end = _PHRASE_END.search(text)
    phrase = text[: end.start()] if end else text
    # "by imitating X, is more desirable": the phrase was a subject, not a whole constituent.
    verb = _VERB_AFTER_COMMA.search(phrase)
    if verb is not None:
        phrase = phrase[: verb.start()]
        if not re.match(r"(?:an?|the)\b", phrase, re.I):
            return None
    words = phrase.split()
    if len(words) > max_words:
        # Cut at the last comma before the limit; else give up (no mid-clause cuts).
        head = " ".join(words[:max_words])
        comma = head.rfind(",")
        if comma < len(head) // 3:
            return None
        phrase = head[:comma]
    phrase = _clean_phrase(phrase)
    return phrase if len(phrase.split()) >= 2 else None


def _further_contributions(
    sentences: Sequence[str], after: str | None, title: str, limit: int = 2
) -> tuple[tuple[str | None, str], ...]:
    """(name, phrase) of the contributions stated after the main one ("Second, we introduce
    Guided Diffusion, a training-free method that uses ... to supervise token unmasking")."""
    if after is None or after not in sentences:
        return ()
    found: list[tuple[str | None, str]] = []
    for sentence in sentences[sentences.index(after) + 1 :]:
        name, _ = _name_from_sentence(sentence, title)
        phrase, _ = _mechanism([sentence], name, "method", fallback=False)
        if phrase:
            found.append((name, phrase))
        if len(found) == limit:
            break
    return tuple(found)


def _mechanism(
    sentences: Sequence[str], name: str | None, kind: Kind, *, fallback: bool = True
) -> tuple[str | None, str | None]:
    """(phrase, sentence): what the contribution is or how it works."""
    for sentence in sentences:
        match = _CONTRIBUTION.search(sentence)
        if (
            match
            and match.group(0).lstrip().casefold().startswith("and")
            and not re.search(r"\bwe\b", sentence[: match.start()], re.I)
        ):
            match = None  # "selection and design of new drugs": not the authors' verb
        if not match and name:
            match = re.search(rf"^{re.escape(name)}\s+(?:{_INTRO_VERB_STEMS})s\s+", sentence)
        if not match:
            continue
        rest = sentence[match.end() :]
        if name and rest.startswith(name):
            rest = rest[len(name) :]
            rest = re.sub(r"^\s*\([^()]{1,20}\)", "", rest)
            rest = re.sub(r"^\s*(?:,|:|—|–|-)\s*", "", rest)
        # "a new method, called X, which ..." -> "a new method which ..."
        rest = re.sub(
            r",?\s+(?:called|named|dubbed|termed)\s+[^,;]{1,60}?(?:\s*\([^()]{1,20}\))?(?=,|\s+(?:which|that|to|for)\b)",
            "",
            rest,
        )
        rest = re.sub(r"^[,\s\-–—:]*(?:which|that)?\s*", "", rest)
        if re.match(r"(?:up)?on\b|from\b|upon\b", rest, re.I):
            continue  # "we build upon X": what it starts from, not what it is
        phrase = _phrase(rest, 28)
        if phrase and name and phrase.casefold().endswith(", " + name.casefold()):
            phrase = phrase[: -len(name) - 2]  # "a new paradigm, thought communication"
        if phrase and not _UNINFORMATIVE.match(phrase):
            return phrase, sentence
        how = _HOW.search(sentence)
        if how:
            phrase = _phrase(how.group(0), 22)
            if phrase:
                return phrase, sentence
    if kind in ("method",) and fallback:
        for sentence in sentences:
            how = _HOW.search(sentence)
            if how and re.search(r"\b(?:we|our)\b", sentence, re.I):
                phrase = _phrase(how.group(0), 22)
                if phrase:
                    return phrase, sentence
    return None, None


# Phrases that only point elsewhere ("to address these challenges", "the following").
_UNINFORMATIVE = re.compile(
    r"^(?:to (?:address|tackle|solve|overcome|mitigate|this|that)\b|the following\b"
    r"|(?:two|three|four|several) (?:\w+ )?(?:components|contributions|stages|steps|parts)\b"
    r"|this\b|these\b|it\b)"
    # A phrase that needs its abstract to make sense ("leverages our theoretical insights").
    r"|.*\b(?:our|we|us|above|aforementioned)\b",
    re.I,
)

_TASK_OF = re.compile(
    r"\b(?:the )?(?:task|problem|challenge)s? of\s+(?P<task>[^,;.()]{4,120})", re.I
)


def _untitled(phrase: str) -> str:
    """Title Case undone: "Diffusion Language Models" -> "diffusion language models";
    acronyms and coined names ("LLMs", "dKV-Cache") keep their capitals."""
    return " ".join(
        word.lower() if word[:1].isupper() and word[1:] == word[1:].lower() else word
        for word in phrase.split()
    )


def _task(title: str, sentences: Sequence[str]) -> str | None:
    """The problem or task: "the task/problem of X" in the abstract, else what the title
    says the work is for ("... for Long-Context Reasoning")."""
    for sentence in sentences[:4]:
        match = _TASK_OF.search(sentence)
        if match:
            task = re.split(
                r"\s+(?:has|have|had|is|are|was|were|remains?|can|could|which|that|where|while)\b",
                match.group("task"),
            )[0]
            phrase = _phrase(task, 10)
            if phrase:
                return phrase
    head = _title_name(title)
    if head is not None:
        title = title.partition(":")[2].strip()
    match = re.search(r"\b(?:for|towards?)\s+(?P<task>[^:;,]{4,80})$", title, re.I)
    if match:
        return _untitled(_clean_phrase(match.group("task")))
    return None


# ---------------------------------------------------------------------------------------------
# Training

_TRAINING_FREE = re.compile(
    r"\btraining[- ]free\b|\btuning[- ]free\b|\bwithout (?:any |additional |extra |further "
    r"|the need for |requiring |re-?)?(?:re-?)?(?:training|fine-?tuning|finetuning)\b"
    r"|\b(?:requires?|requiring|needs?|needing|with) no (?:additional |extra |further |re-?)?"
    r"(?:training|fine-?tuning|finetuning)\b|\bplug-and-play\b|\bno (?:additional |extra )?"
    r"(?:training|fine-?tuning) (?:is )?(?:required|needed)\b"
    r"|\bzero-shot\b(?= (?:method|approach))",
    re.I,
)
_NEEDS_TRAINING = re.compile(
    r"\bwe (?:\w+ )?(?:train|fine-?tune|finetune|pre-?train|distill|post-train)\w*"
    r"|\b(?:is|are) (?:then )?(?:trained|fine-?tuned|finetuned)\b|\btrains? (?:a|an|the)\b"
    r"|\bfine-?tuning (?:on|with|of)\b|\breinforcement learning\b|\bsupervised fine-?tuning\b"
    r"|\btraining (?:recipe|objective|framework|strategy|pipeline|procedure|method)\b"
    r"|\blearn(?:s|ed)? (?:a|an|to)\b|\bend-to-end\b",
    re.I,
)


def _training(text: str, kind: Kind, main: str | None) -> tuple[bool | None, str | None]:
    """(needs training, the phrase that says so). "Training-free" anywhere wins (such papers
    often mention trained baselines), unless the main contribution sentence `main` trains
    and the training-free remark is elsewhere ("... post-hoc conditioning without retraining")."""
    if kind == "survey":
        return None, None
    free = _TRAINING_FREE.search(text)
    trained = _NEEDS_TRAINING.search(text)
    if (
        free
        and trained
        and main
        and _NEEDS_TRAINING.search(main)
        and not _TRAINING_FREE.search(main)
    ):
        return True, _NEEDS_TRAINING.search(main).group(0)  # type: ignore[union-attr]
    if free:
        return False, free.group(0)
    if trained and kind == "method":
        return True, trained.group(0)
    return None, None


# ---------------------------------------------------------------------------------------------
# Headline result

_FIGURE = re.compile(
    r"(?:(?:up to|over|more than|nearly|about|around|roughly|approximately|at least|by|of)\s+)?"
    r"[+\-−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s?(?:-|–|to)\s?\d+(?:\.\d+)?)?"
    r"(?:\s?(?:%|x(?![A-Za-z])|×|-fold|\s?times\b|\s?percent\b"
    r"|\s?(?:absolute |percentage )?points?\b|\s?pp\b))",
    re.I,
)
_RESULT_VERB = re.compile(
    r"\b(?:achiev|outperform|surpass|improv|reduc|accelerat|speed|boost|increas|deliver|yield"
    r"|obtain|reach|attain|cut|lower|decreas|exceed|beat|gain|enabl|match|rais|sav)\w*",
    re.I,
)
_COMPARED = re.compile(
    r"\b(?:over|than|compared (?:to|with)|relative to|against|outperform\w*|surpass\w*"
    r"|beat\w*|exceed\w*)\s+(?P<what>(?:the |existing |prior |previous |strong |state-of-the-art "
    r"|sota |standard |vanilla |baseline )*[^,;.()]{2,60}?)(?=\s+(?:by|on|in|across|with|while|at"
    r"|and|for|under|using)\b|,|;|\.|\(|$)",
    re.I,
)
_BENCHMARK_ON = re.compile(
    r"\b(?:on|across|over)\s+(?P<what>(?:the\s+)?(?:[\w\-.]*[A-Z0-9][\w\-.]*)"
    r"(?:(?:,\s*|\s+and\s+|\s+)[\w\-.]*[A-Z0-9][\w\-.]*){0,4}(?:\s+(?:benchmarks?|datasets?|tasks?))?)"
    r"|\b(?:on|across)\s+(?P<generic>(?:\w+\s+){0,3}(?:benchmarks?|datasets?))\b",
)
_MEASURE_AFTER = re.compile(
    r"^\s*(?P<m>(?:higher |lower |fewer |less |more |faster |end-to-end |relative |absolute "
    r"|average |inference |wall-clock |memory |throughput )*(?:speed-?ups?|throughput|accuracy"
    r"|improvements?|reductions?|gains?|faster|fewer \w+(?: \w+)?|less \w+|higher \w+|lower \w+"
    r"|acceleration|compression|memory|latency|error|win rate|success rate|increase|decrease"
    r"|points?|steps?|parameters?|tokens?|compute|cost))\b",
    re.I,
)
_ABSTRACT_NOUN = re.compile(
    r"\b(?:accuracy|speed-?up|throughput|latency|memory|error|f1|bleu|rouge|perplexity"
    r"|success rate|win rate|performance|steps|cost|compute|flops|score|recall|precision)\b",
    re.I,
)


def _headline_candidates(
    sentences: Sequence[str], names: Sequence[str]
) -> list[tuple[float, int, str]]:
    ranked = []
    for index, sentence in enumerate(sentences):
        figures = [m for m in _FIGURE.finditer(sentence) if numbers_in(m.group(0))]
        if not figures:
            continue
        score = 1.0
        if _RESULT_VERB.search(sentence):
            score += 1.0
        if re.search(r"(?:x\b|×|-fold|times\b)", sentence):
            score += 0.3
        if re.search(r"\b(?:experiments?|results?|evaluations?|empirical)\b", sentence, re.I):
            score += 0.5
        if _COMPARED.search(sentence):
            score += 0.3
        # A figure about the paper's own method, not a side experiment.
        if any(n and n in sentence for n in names) or re.search(
            r"\bour (?:method|approach|model|framework|system)\b|\bwe achieve", sentence, re.I
        ):
            score += 0.6
        # Dataset sizes ("16k tables", "118k statements") and settings are not results.
        if re.search(r"\b(?:contains?|consist\w*|comprising|collect\w*|with \d)", sentence, re.I):
            score -= 1.0
        ranked.append((score, index, sentence))
    ranked.sort(key=lambda item: (-item[0], item[1]))
    return ranked


def _clause_around(sentence: str, start: int, end: int) -> str:
    """The clause of `sentence` that contains [start, end): from the previous clause break
    (comma, semicolon or "and"/"while" joining clauses) to the next, trimmed."""
    left_breaks = [
        m.end() for m in re.finditer(r"[;:]\s|,\s(?!\d)|\bwhile\b|\bwhereas\b", sentence[:start])
    ]
    left = left_breaks[-1] if left_breaks else 0
    right_match = re.search(r"[;:]\s|,\s(?!\d)|\s\(|\bwhile\b|\bwhereas\b|\.\s*$", sentence[end:])
    right = end + right_match.start() if right_match else len(sentence)
    clause = sentence[left:right]
    # "Experiments on X show that Y achieves ..." -> "Y achieves ...": the report is framing.
    framing = list(
        re.finditer(
            r"\b(?:show|demonstrate|reveal|indicate|confirm|suggest|find|verify|validate)s?"
            r"(?:\s+\w+){0,2}?\s+that\s+",
            clause,
            re.I,
        )
    )
    if framing and framing[-1].end() < len(clause) - 10:
        clause = clause[framing[-1].end() :]
    clause = re.sub(
        r"^\s*(?:and|but|with|thus|overall|notably|specifically|moreover|furthermore"
        r"|in particular|empirically|experimentally|additionally|finally)\b,?\s+",
        "",
        clause,
        flags=re.I,
    )
    return clause.strip()


def _headline(sentences: Sequence[str], names: Sequence[str] = ()) -> Headline | None:
    for _, _, sentence in _headline_candidates(sentences, names):
        figures = [m for m in _FIGURE.finditer(sentence) if numbers_in(m.group(0))]
        # The first figure in a sentence with a result verb is its headline.
        match = figures[0]
        figure = match.group(0).strip()
        figure = re.sub(r"^(?:by|of)\s+", "", figure, flags=re.I)
        clause = _clause_around(sentence, match.start(), match.end())
        phrase = _clean_phrase(clause)
        if not numbers_in(phrase) or len(phrase.split()) < 2:
            phrase = _clean_phrase(sentence)
        measure_match = _MEASURE_AFTER.match(sentence[match.end() :])
        measure = measure_match.group("m").strip() if measure_match else None
        short, form = _short_result(sentence, match, measure_match, clause)
        if measure is None:
            noun = _ABSTRACT_NOUN.search(clause)
            measure = noun.group(0) if noun else None
        compared = _COMPARED.search(sentence)
        compared_with = _clean_phrase(compared.group("what")) if compared else None
        if compared_with and (numbers_in(compared_with) or len(compared_with.split()) < 1):
            compared_with = None
        bench = _BENCHMARK_ON.search(sentence)
        benchmark = None
        if bench and bench.group("what"):
            benchmark = _clean_phrase(bench.group("what")) or None
            if benchmark and (
                numbers_in(benchmark)
                or not any(
                    _is_name_like(t) or t[:1].isupper()
                    for t in benchmark.split()[1:] + benchmark.split()[:1]
                )
            ):
                benchmark = None
        return Headline(
            figure=figure,
            phrase=phrase,
            sentence=sentence,
            measure=measure,
            compared_with=compared_with,
            benchmark=benchmark,
            short=short,
            form=form,
        )
    return None


_VERB_3RD = re.compile(
    r"\b(?:achieves|outperforms|surpasses|improves|reduces|accelerates|speeds up|boosts"
    r"|increases|delivers|yields|obtains|reaches|attains|lowers|decreases|exceeds|beats"
    r"|raises|saves|enables|offers|provides|brings|requires)\b",
    re.I,
)


def _noun_group_end(sentence: str, end: int, max_words: int = 3) -> int:
    """Where the noun group that `sentence[:end]` is in the middle of ends: "a 1.3x|sampling
    speedup over ..." -> after "speedup" (a figure used as an adjective needs its noun)."""
    for _ in range(max_words):
        match = re.match(r"\s+([A-Za-z][\w-]*)", sentence[end:])
        if (
            not match
            or match.group(1).casefold() in DANGLING
            or match.group(1).casefold()
            in ("while", "without", "compared", "when", "after", "before", "using", "against")
        ):
            break
        end += match.end()
    return end


def _short_result(
    sentence: str,
    figure: re.Match[str],
    measure: re.Match[str] | None,
    clause: str,
) -> tuple[str, Literal["noun", "verb", "clause"]]:
    """The shortest verbatim statement of the figure (see `Headline.short`)."""
    start = figure.start() + (len(figure.group(0)) - len(figure.group(0).lstrip()))
    text = sentence[start : figure.end()]
    by = re.match(r"(?:by|of)\s+", text, re.I)
    end = _noun_group_end(sentence, figure.end() + (measure.end() if measure else 0))
    if measure is not None:
        noun = sentence[start + (by.end() if by else 0) : end].strip()
        return _clean_phrase(noun), "noun"
    verbs = list(_VERB_3RD.finditer(sentence[: figure.start()]))
    if verbs and figure.start() - verbs[-1].start() < 90:
        verb = sentence[verbs[-1].start() : end].strip()
        if "," not in verb and ";" not in verb:
            return _clean_phrase(verb), "verb"
    return _clean_phrase(clause), "clause"


# ---------------------------------------------------------------------------------------------
# Code

_CODE_URL = re.compile(r"https?://(?:www\.)?(?:github\.com|gitlab\.com|huggingface\.co)/[^\s)\]]+")


def code_url(paper: Paper) -> str | None:
    """The paper's code repository: its first code link, else a repository URL its abstract
    gives ("Our code is available at https://github.com/...")."""
    if paper.code_urls:
        return paper.code_urls[0]
    match = _CODE_URL.search(paper.abstract)
    return match.group(0).rstrip(".,;") if match else None


# ---------------------------------------------------------------------------------------------
# All facets


def _verified(phrase: str | None, source: str) -> str | None:
    return phrase if phrase and is_extract(phrase, source) else None


@lru_cache(maxsize=4096)
def _facets(paper_id: str, title: str, abstract: str, code: str | None) -> Facets:
    sentences = split_sentences(abstract)
    source = f"{title}. {abstract}"
    name, acronym = extract_name(title, abstract)
    kind = _kind(title, sentences)
    mechanism, mechanism_sentence = _mechanism(sentences, name, kind)
    training, training_phrase = _training(source, kind, mechanism_sentence)
    headline = _headline(sentences, [n for n in (name, acronym) if n])
    if headline is not None and not is_extract(headline.phrase, abstract):
        headline = None
    return Facets(
        paper_id=paper_id,
        name=_verified(name, source),
        acronym=_verified(acronym, source),
        kind=kind,
        task=_verified(_task(title, sentences), source),
        mechanism=_verified(mechanism, source),
        mechanism_sentence=mechanism_sentence,
        training=training,
        training_phrase=training_phrase,
        headline=headline,
        code=code,
        more=tuple(
            (n if n and is_extract(n, source) else None, m)
            for n, m in _further_contributions(sentences, mechanism_sentence, title)
            if is_extract(m, source)
        ),
    )


def facets_of(paper: Paper) -> Facets:
    """The facets of `paper` (cached by its id, title and abstract)."""
    return _facets(paper.id, paper.title, paper.abstract, code_url(paper))
