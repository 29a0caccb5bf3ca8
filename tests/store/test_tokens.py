"""The shared tokenizer: what a question quotes (numbers, hyphenated names) stays a term."""

from __future__ import annotations

import pytest

from store.tokens import numbers, stem, token_terms, tokenize


def test_words_are_stemmed_and_stop_words_dropped() -> None:
    assert tokenize("The Models and their Studies of LLMs") == tokenize("model study LLM")
    assert stem("decoding") == stem("decoded") == stem("decode")
    assert stem("caching") == stem("caches") == stem("cache")
    assert tokenize("we propose a method for the task") == ["method", "task"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("accuracy rises by 12.5%", {"12.5%", "12.5"}),
        ("accuracy rises by 12.5 percent", {"12.5%", "12.5"}),
        ("a 3.4x speedup", {"3.4x", "3.4"}),
        ("a 3.4× speedup", {"3.4x", "3.4"}),
        ("2-10x faster", {"2-10x", "2x", "10x"}),
        ("2–10× faster", {"2-10x", "2x", "10x"}),
        ("1,024 GPUs", {"1024"}),
    ],
)
def test_numbers_stay_whole_however_they_are_written(text: str, expected: set[str]) -> None:
    assert expected <= set(tokenize(text))


def test_a_decimal_is_not_split_at_its_point() -> None:
    terms = tokenize("gains of 12.5% and 0.5x")

    assert "12" not in terms and "5" not in terms
    assert "0.5x" in terms


@pytest.mark.parametrize(
    ("name", "whole", "parts"),
    [
        ("dKV-Cache", "dkv-cach", {"dkv", "cach"}),
        ("LASP-2", "lasp-2", {"lasp", "2"}),
        ("Qwen2.5", "qwen2.5", {"qwen2"}),
        ("GPT-4o", "gpt-4o", {"gpt", "4o"}),
    ],
)
def test_hyphenated_names_stay_terms_and_give_their_parts(
    name: str, whole: str, parts: set[str]
) -> None:
    terms = tokenize(f"{name} extends it.")

    assert terms[0] == whole
    assert parts <= set(terms)
    assert tokenize(name.upper()) == tokenize(name)


def test_terms_hold_no_white_space_so_an_index_can_space_join_them() -> None:
    text = "Über-fast 3 × 3 convolutions: 12.5 % of the cost, state-of-the-art (GPT-4o)."

    assert all(term and not any(ch.isspace() for ch in term) for term in tokenize(text))


def test_token_terms_are_tokenize_with_the_written_form_beside_each_term() -> None:
    text = "dKV-Cache cuts 12.5 percent of the latency on LLaDA-8B."
    pairs = token_terms(text)

    assert [term for _, terms in pairs for term in terms] == tokenize(text)
    assert ("the", []) in pairs and ("12.5%", ["12.5%", "12.5"]) in pairs


def test_numbers_are_the_figures_a_text_states_not_digits_inside_names() -> None:
    assert numbers("LLaDA-8B on GSM8K with Qwen2.5 gains 12.5 percent, 2-10x") == [
        "8b",
        "12.5%",
        "2-10x",
    ]
