"""Paper records: identity and the text every consumer reads."""

from __future__ import annotations

from store.models import Paper, content_hash_for, normalise_text, paper_id_for


def test_latex_residue_in_abstracts_reads_as_the_author_wrote_it() -> None:
    raw = "LocalLeap achieves 6.94times throughput and cuts steps to 14.2\\% of the original."

    assert normalise_text(raw) == (
        "LocalLeap achieves 6.94x throughput and cuts steps to 14.2% of the original."
    )


def test_ordinary_words_and_spaced_times_are_left_alone() -> None:
    text = "It is 3 times faster; sometimes it times out at 10\\times the cost."

    assert normalise_text(text) == "It is 3 times faster; sometimes it times out at 10x the cost."


def test_ids_and_hashes_do_not_depend_on_spacing_or_case() -> None:
    assert paper_id_for("Diffusion  LMs: Fast!") == paper_id_for("diffusion lms fast")
    assert paper_id_for("Anything", arxiv_id="arXiv:2508.19982v2") == "2508.19982"
    paper = Paper(id="t-1", title=" A  title ", abstract="An\nabstract.", source="test")
    assert paper.title == "A title"
    assert paper.content_hash == content_hash_for("A title", "An abstract.")
