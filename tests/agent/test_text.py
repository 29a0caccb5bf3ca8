"""Sentence splitting, numbers, stemming and term statistics (agent/text.py)."""

from __future__ import annotations

import itertools

import pytest

from agent.text import (
    TermStats,
    content_stems,
    content_words,
    numbers_in,
    sentence_spans,
    split_sentences,
)
from agent.writers.extractive.matching import parse_question, rank_sentences
from store.models import Paper
from store.sources import load_source, sample_corpus_path
from store.tokens import stem, tokenize


@pytest.fixture(scope="module")
def sample_papers() -> list[Paper]:
    return [p for p in load_source(str(sample_corpus_path())) if isinstance(p, Paper)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Prior work (e.g. GPT-4, i.e. large models) struggles. We fix it.",
            ["Prior work (e.g. GPT-4, i.e. large models) struggles.", "We fix it."],
        ),
        (
            "Smith et al. proposed X in 2020. We improve it.",
            ["Smith et al. proposed X in 2020.", "We improve it."],
        ),
        (
            "It is 3.4x faster than v1.5 and 2.0x cheaper. Gains hold.",
            ["It is 3.4x faster than v1.5 and 2.0x cheaper.", "Gains hold."],
        ),
        (
            "As Fig. 2 and Eq. 3 show, it works. Results in Table 1. Done here.",
            ["As Fig. 2 and Eq. 3 show, it works.", "Results in Table 1.", "Done here."],
        ),
        (
            "Code is at https://github.com/pixeli99/Prophet.v2 now. See www.site.org for more.",
            [
                "Code is at https://github.com/pixeli99/Prophet.v2 now.",
                "See www.site.org for more.",
            ],
        ),
        (
            "We list our main contributions.First, a model. Second, a dataset.",
            ["We list our main contributions.", "First, a model.", "Second, a dataset."],
        ),
        (
            "Inference is slow. dKV-Cache speeds it up! Does it scale? Yes.",
            ["Inference is slow.", "dKV-Cache speeds it up!", "Does it scale?", "Yes."],
        ),
        (
            'They call it "all-in." We agree with J. Smith on this.',
            ['They call it "all-in."', "We agree with J. Smith on this."],
        ),
    ],
)
def test_split_sentences_handles_what_abstracts_contain(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_every_sentence_is_a_verbatim_slice_of_the_abstract(sample_papers: list[Paper]) -> None:
    for paper in sample_papers:
        spans = sentence_spans(paper.abstract)
        assert spans, paper.title
        # Slices in order, covering the abstract: only white space lies between them.
        assert spans[0][0] == 0 and spans[-1][1] == len(paper.abstract)
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert start >= end and not paper.abstract[end:start].strip(), paper.title


def test_the_prophet_abstract_splits_into_its_ten_sentences(sample_papers: list[Paper]) -> None:
    prophet = next(p for p in sample_papers if p.title.startswith("Diffusion Language Models Know"))
    sentences = split_sentences(prophet.abstract)
    assert len(sentences) == 10
    assert sentences[5].startswith("Specifically, Prophet dynamically decides whether to continue")
    assert sentences[-1] == "Our code is publicly available at https://github.com/pixeli99/Prophet."


def test_numbers_in_normalises_figures_written_differently() -> None:
    assert numbers_in("up to 97% and 99 % of instances") == {"97%", "99%"}
    assert numbers_in("a 3.4x speed-up, 2.0× fewer steps, 12X faster") == {"3.4x", "2.0x", "12x"}
    assert numbers_in("gains of 8.5-10.5% over 1,024 tokens") == {
        "8.5-10.5%",
        "8.5%",
        "10.5%",
        "1024",
    }
    assert numbers_in("LLaDA-8B and Dream-7B with 100K steps") == {"8b", "7b", "100k"}
    assert numbers_in("twelve percent") == set()
    assert numbers_in("it improves by 12 percent") == {"12%"}


def test_numbers_inside_names_are_not_claims() -> None:
    assert numbers_in("on GSM8K with Qwen2.5 and top-2 candidates") == {"2"}


def test_a_changed_number_is_detected() -> None:
    source = numbers_in("Prophet reduces the number of decoding steps by up to 3.4x.")
    assert not numbers_in("Prophet reduces decoding steps by up to 4.3x.") <= source
    assert numbers_in("Prophet cuts steps by up to 3.4x.") <= source


def test_a_figure_with_a_unit_is_not_the_bare_number() -> None:
    assert numbers_in("accuracy rises by 97%") == {"97%"}
    assert not numbers_in("accuracy rises by 97 points") <= numbers_in("accuracy rises by 97%")


def test_the_writer_credits_the_terms_search_indexes(sample_papers: list[Paper]) -> None:
    # One tokenizer: every term the writer matches on is a term BM25 indexes for that text.
    for paper in sample_papers:
        text = f"{paper.title}. {paper.abstract}"
        assert set(content_stems(text, drop_generic=False)) <= set(tokenize(text))
    assert content_stems("dKV-Cache cuts 12.5% of the latency") == [
        "dkv-cach",
        "dkv",
        "cach",
        "cut",
        "12.5%",
        "12.5",
        stem("latency"),
    ]
    assert content_words("LASP-2 beats Qwen2.5 by 3.4×") == ["lasp-2", "beats", "qwen2.5", "3.4x"]


@pytest.mark.parametrize(
    ("title", "figure"),
    [
        ("LASP-2: Rethinking Sequence Parallelism", "15.2%"),
        ("Test-Time Scaling in Diffusion LLMs", "24.72%"),
        ("Cache-to-Cache: Direct Semantic Communication", "10.5%"),
        ("Scaling Laws for Speculative Decoding", "1.1"),
    ],
)
def test_a_question_quoting_a_figure_gets_the_sentence_that_states_it(
    sample_papers: list[Paper], title: str, figure: str
) -> None:
    paper = next(p for p in sample_papers if p.title.startswith(title))
    ranked, _ = rank_sentences(parse_question(f"Which result reaches {figure}?", None), paper)

    assert figure in numbers_in(ranked[0].text)


def test_stem_conflates_inflections_a_question_and_an_abstract_use() -> None:
    assert stem("decoding") == stem("decode") == stem("decoded")
    assert stem("models") == stem("model") == stem("modeling")
    assert stem("caching") == stem("cache") == stem("cached")
    assert stem("accelerating") == stem("acceleration") == stem("accelerate")
    assert stem("speeding") == stem("speed") == stem("speeds")
    assert stem("need") == "need"


def test_content_stems_drop_stopwords_and_generic_research_words() -> None:
    assert content_stems("We propose a novel method for graph generation") == [
        stem("graph"),
        stem("generation"),
    ]


def test_term_stats_find_what_papers_share_and_what_sets_one_apart(
    sample_papers: list[Paper],
) -> None:
    prefixes = ("dKV-Cache", "Diffusion Language Models Know", "Accelerating Diffusion LLM")
    group = [next(p for p in sample_papers if p.title.startswith(t)) for t in prefixes]
    stats = TermStats([f"{p.title}. {p.abstract}" for p in group])
    shared = stats.shared_terms(k=6, min_docs=3)
    assert "diffusion" in " ".join(shared)
    assert any("dkv" in t for t in stats.distinguishing_terms(0))
    assert "prophet" in stats.distinguishing_terms(1)
    assert any("localleap" in t for t in stats.distinguishing_terms(2))
    # A term every paper uses cannot distinguish any of them.
    for index in range(3):
        assert "diffusion" not in stats.distinguishing_terms(index)


def test_similar_abstracts_are_more_central(sample_papers: list[Paper]) -> None:
    diffusion = [p for p in sample_papers if "Diffusion Language Model" in p.title][:3]
    graph = next(p for p in sample_papers if p.title.startswith("Molecular Graph Generation"))
    stats = TermStats([f"{p.title}. {p.abstract}" for p in [*diffusion, graph]])
    centrality = stats.centrality()
    assert min(centrality[:3]) > centrality[3]
