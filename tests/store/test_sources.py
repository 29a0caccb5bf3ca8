"""Paper sources: every format parses into the right `Paper` fields, bad records become
rejections that say where and why, and URL sources retry the way a polite client should."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from store.config import RetrySettings, SourceSettings
from store.models import Paper, Rejection, paper_id_for
from store.retry import retry_after_seconds
from store.sources import (
    ALL_SOURCES,
    FORMATS,
    SAMPLE_PAGE_DATE,
    SourceError,
    detect_format,
    fetch_hf_day,
    fetch_period,
    hf_daily_url,
    load_source,
    sample_corpus_path,
)
from store.sources.common import links_in_text
from store.sources.hf_page import parse_hf_page, resolve_date
from store.sources.http import fetch_text
from store.sources.listing import ArxivCategory
from tests.support.static_http import Reply, StaticHTTPServer

FIXTURES = Path(__file__).parent / "fixtures" / "sources"
QUICK = SourceSettings(http_timeout=5.0)
QUICK_RETRY = RetrySettings(max_retries=2, backoff=0.0)


def split(records: Iterator[Paper | Rejection]) -> tuple[list[Paper], list[Rejection]]:
    papers: list[Paper] = []
    rejections: list[Rejection] = []
    for record in records:
        if isinstance(record, Paper):
            papers.append(record)
        else:
            rejections.append(record)
    return papers, rejections


def by_title(papers: list[Paper], title: str) -> Paper:
    matches = [paper for paper in papers if paper.title == title]
    assert len(matches) == 1, f"expected one paper titled {title!r}, found {len(matches)}"
    return matches[0]


def reasons(rejections: list[Rejection]) -> dict[str, str]:
    return {rejection.location: rejection.reason for rejection in rejections}


@pytest.fixture(scope="module")
def sample_papers() -> list[Paper]:
    papers, rejections = split(load_source(str(sample_corpus_path())))
    assert rejections == []
    return papers


@pytest.fixture
def server() -> Iterator[StaticHTTPServer]:
    with StaticHTTPServer() as running:
        yield running


# The bundled sample page


def test_sample_page_yields_every_paper_on_it(sample_papers: list[Paper]) -> None:
    # 84 title/abstract pairs: 72 with an author count, 3 submitted by an organisation, and
    # 9 shown without any details.
    assert len(sample_papers) == 84
    assert len({paper.id for paper in sample_papers}) == 84
    assert sum(paper.author_count is not None for paper in sample_papers) == 72
    assert sum(paper.published is not None for paper in sample_papers) == 75
    assert all(paper.source == str(sample_corpus_path()) for paper in sample_papers)
    assert all(paper.published <= SAMPLE_PAGE_DATE for paper in sample_papers if paper.published)


def test_sample_page_fields_of_a_paper_with_code(sample_papers: list[Paper]) -> None:
    paper = by_title(sample_papers, "Diffusion Language Models Know the Answer Before Decoding")
    assert paper.id == paper_id_for("Diffusion Language Models Know the Answer Before Decoding")
    assert paper.author_count == 9
    assert paper.authors == []
    assert paper.published == date(2025, 8, 27)
    assert paper.upvotes == 2
    assert paper.code_urls == ["https://github.com/pixeli99/Prophet"]
    assert paper.url == (
        "https://huggingface.co/papers?q=Diffusion+Language+Models+Know+the+Answer+Before+Decoding"
    )
    assert paper.abstract.startswith("Diffusion language models (DLMs) have recently emerged")
    assert paper.abstract.endswith("https://github.com/pixeli99/Prophet.")


def test_sample_page_dates_with_a_year_and_without_upvotes(sample_papers: list[Paper]) -> None:
    paper = by_title(
        sample_papers, "A Retrieve-and-Read Framework for Knowledge Graph Link Prediction"
    )
    assert (paper.author_count, paper.published, paper.upvotes) == (5, date(2022, 12, 19), None)
    assert not paper.has_code
    survey = by_title(
        sample_papers, "Discrete Diffusion in Large Language and Multimodal Models: A Survey"
    )
    assert (survey.author_count, survey.published, survey.upvotes) == (3, date(2025, 6, 16), 3)
    assert survey.code_urls == ["https://github.com/LiQiiiii/DLLM-Survey"]


def test_sample_page_organisation_footer_and_paper_without_details(
    sample_papers: list[Paper],
) -> None:
    by_org = by_title(
        sample_papers,
        "ParallelBench: Understanding the Trade-offs of Parallel Decoding in Diffusion LLMs",
    )
    assert (by_org.author_count, by_org.published, by_org.upvotes) == (None, date(2025, 10, 6), 2)
    bare = by_title(
        sample_papers,
        "Cache-to-Cache: Direct Semantic Communication Between Large Language Models",
    )
    assert (bare.author_count, bare.published, bare.upvotes) == (None, None, None)
    assert bare.code_urls == ["https://github.com/thu-nics/C2C"]


def test_sample_page_links_cut_cleanly_out_of_latex_and_prose(sample_papers: list[Paper]) -> None:
    all_code = {url for paper in sample_papers for url in paper.code_urls}
    # `\href{url}{text}` leaves `{text}` glued to the URL in the copied abstract.
    assert "https://github.com/millioniron/LLM_exploration" in all_code
    assert not any(url.endswith((".", ",", "}")) for url in all_code)
    assert len(all_code) == 18
    projects = {
        link.url for paper in sample_papers for link in paper.links if link.kind == "project"
    }
    assert projects == {
        "http://trustai.one",
        "https://socialdeductionllm.github.io/",
        "https://wnjxyk.github.io/RPC",
    }


def test_sample_corpus_is_the_page_dated_sample_page_date() -> None:
    path = sample_corpus_path()
    assert path.is_file()
    assert SAMPLE_PAGE_DATE.isoformat() in path.name


# Year inference and malformed entries on a copied page


@pytest.mark.parametrize(
    ("month", "day", "year", "expected"),
    [
        (12, 30, None, date(2024, 12, 30)),  # after the page date this year: last year
        (1, 9, None, date(2025, 1, 9)),
        (1, 10, None, date(2025, 1, 10)),  # the page date itself
        (1, 11, None, date(2024, 1, 11)),
        (2, 29, None, date(2024, 2, 29)),  # no Feb 29 in 2025
        (3, 3, 2022, date(2022, 3, 3)),  # an explicit year is kept
    ],
)
def test_year_less_dates_are_never_after_the_page_date(
    month: int, day: int, year: int | None, expected: date
) -> None:
    assert resolve_date(month, day, year, page_date=date(2025, 1, 10)) == expected


def test_copied_page_keeps_good_papers_and_names_the_lines_of_bad_ones() -> None:
    path = FIXTURES / "hf_page_small.txt"
    papers, rejections = split(load_source(str(path), page_date=date(2025, 1, 10)))
    assert [paper.title for paper in papers] == [
        "Year-End Retrospective on Sparse Attention",
        "Early January Work on Tokenizers",
        "Last Year's Paper From Later in January",
        "Leap Day Paper",
        "A Paper Shown Without Details",
        "An Old Paper With a Year",
    ]
    assert [paper.published for paper in papers] == [
        date(2024, 12, 30),
        date(2025, 1, 9),
        date(2024, 1, 11),
        date(2024, 2, 29),
        None,
        date(2022, 3, 3),
    ]
    assert [paper.upvotes for paper in papers] == [12, None, 1, None, None, None]
    assert [paper.author_count for paper in papers] == [6, 1, None, 2, None, 2]
    assert reasons(rejections) == {
        "line 29": (
            "paper 'A Title Whose Abstract Went Missing' has no abstract line after its title"
        ),
        "line 57": "paper 'A Paper With an Impossible Date': not a valid date: 'Aug 32 5'",
    }
    assert all(str(rejection).startswith(f"{path}: line ") for rejection in rejections)
    retro, old = papers[0], papers[-1]
    assert retro.code_urls == [
        "https://github.com/sparse-lab/retro",
        "https://huggingface.co/spaces/sparse-lab/retro-demo",
    ]
    assert old.code_urls == ["https://huggingface.co/example-lab/old-model"]
    assert "https://huggingface.co/papers/2201.00001" in [link.url for link in old.links]


def test_page_date_comes_from_the_page_header_when_the_name_has_none() -> None:
    text = (FIXTURES / "hf_page_small.txt").read_text(encoding="utf-8")
    papers, _ = split(parse_hf_page(text, "copied.txt", today=date(2025, 3, 1)))
    # The header says `Jan 10`, so `Dec 30` is the previous December, not this year's.
    assert papers[0].published == date(2024, 12, 30)
    papers, _ = split(parse_hf_page(text, "copied.txt", today=date(2025, 1, 5)))
    # Seen on 5 January, a page headed `Jan 10` is last year's page.
    assert papers[0].published == date(2023, 12, 30)


def test_footer_without_a_paper_above_it_is_rejected() -> None:
    text = "Daily Papers\n\nNov 6\n\n  • 3 authors\n·\nOct 2 1\n"
    records = list(parse_hf_page(text, "page.txt", page_date=date(2025, 11, 6)))
    assert records == [
        Rejection(
            source="page.txt",
            location="line 5",
            reason="paper details (authors, date) without a title and abstract above them",
        )
    ]


# Hugging Face Daily Papers API JSON


def test_hf_api_json_gives_ids_links_and_counts() -> None:
    path = FIXTURES / "hf_daily_papers_2025-08-28.json"
    papers, rejections = split(load_source(str(path)))
    assert [paper.id for paper in papers] == ["2508.19982", "2508.20072"]
    prophet, verifiers = papers
    assert prophet.authors == ["Pengxiang Li", "Yefan Zhou", "Dilxat Muhtar"]
    assert prophet.author_count == 3
    assert prophet.published == date(2025, 8, 27)
    assert prophet.upvotes == 2
    assert prophet.url == "https://huggingface.co/papers/2508.19982"
    assert [link.url for link in prophet.links if link.kind == "paper"] == [
        "https://huggingface.co/papers/2508.19982",
        "https://arxiv.org/abs/2508.19982",
    ]
    # githubRepo and the URL in the summary are one repository.
    assert prophet.code_urls == ["https://github.com/pixeli99/Prophet"]
    assert verifiers.upvotes == 0
    assert verifiers.code_urls == ["https://huggingface.co/datasets/example-lab/sparse-verifiers"]
    assert [link.url for link in verifiers.links if link.kind == "project"] == [
        "https://example-lab.github.io/sparse-verifiers/"
    ]
    assert reasons(rejections) == {
        "entry 3": "missing field 'paper.summary'",
        "entry 4": "field 'paper.publishedAt': not a date: 'last Tuesday'",
    }


def test_hf_api_body_that_is_not_json_is_a_source_error(tmp_path: Path) -> None:
    path = tmp_path / "daily.json"
    path.write_text('[{"paper": ', encoding="utf-8")
    with pytest.raises(SourceError, match=r"daily\.json: not JSON \(line 1"):
        load_source(str(path), fmt="hf-api")


# arXiv Atom


def test_arxiv_atom_gives_bare_ids_dates_authors_and_links() -> None:
    path = FIXTURES / "arxiv_query.atom"
    papers, rejections = split(load_source(str(path)))
    assert [paper.id for paper in papers] == ["2508.19982", "cs/0112017"]
    prophet, old = papers
    assert prophet.title == "Diffusion Language Models Know the Answer Before Decoding"
    assert prophet.abstract.startswith("Diffusion language models (DLMs) have recently emerged as")
    assert prophet.authors == ["Pengxiang Li", "Yefan Zhou", "Dilxat Muhtar"]
    assert prophet.published == date(2025, 8, 27)
    assert prophet.url == "https://arxiv.org/abs/2508.19982"
    assert [link.url for link in prophet.links if link.kind == "pdf"] == [
        "https://arxiv.org/pdf/2508.19982v2"
    ]
    assert prophet.code_urls == ["https://github.com/pixeli99/Prophet"]
    assert old.title == "Parallel Decoding of Convolutional Codes with Sliding Windows"
    assert old.published == date(2001, 12, 14)
    assert reasons(rejections) == {
        "entry 3": "2508.20555: missing element <summary>",
        "entry 4": "element <id>: not an arXiv id: 'http://example.org/not-an-arxiv-entry'",
    }


def test_arxiv_error_feed_is_a_source_error() -> None:
    path = FIXTURES / "arxiv_error.atom"
    with pytest.raises(SourceError, match="arXiv reported an error: incorrect id format"):
        load_source(str(path))


def test_xml_with_entity_declarations_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.atom"
    path.write_text(
        '<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>&b;</title></feed>',
        encoding="utf-8",
    )
    with pytest.raises(SourceError, match=r"bomb\.atom: refused unsafe XML"):
        load_source(str(path))


# JSON Lines and CSV


def test_jsonl_keeps_good_lines_and_names_line_and_field_of_bad_ones() -> None:
    path = FIXTURES / "reading_list.jsonl"
    papers, rejections = split(load_source(str(path)))
    assert [paper.title for paper in papers] == [
        "Diffusion Language Models Know the Answer Before Decoding",
        "Retrieval Heads in Long-Context Models",
        "A Paper Known Only by Its DOI",
    ]
    prophet, heads, doi = papers
    assert prophet.id == "2508.19982"
    assert prophet.code_urls == ["https://github.com/pixeli99/Prophet"]
    assert (prophet.published, prophet.upvotes, prophet.author_count) == (date(2025, 8, 27), 2, 2)
    # The arXiv id comes from the abs URL; `summary` stands in for `abstract`.
    assert heads.id == "2507.01234"
    assert heads.url == "https://arxiv.org/abs/2507.01234v3"
    assert heads.authors == ["Ada Lovelace", "Alan Turing", "Grace Hopper"]
    assert heads.published == date(2025, 7, 2)
    assert doi.id == paper_id_for("A Paper Known Only by Its DOI")
    assert doi.authors == ["Jane Roe", "John Doe"]
    assert reasons(rejections) == {
        "line 4": "missing field 'abstract'",
        "line 5": "invalid JSON: Expecting ',' delimiter (column 68)",
        "line 6": "field 'published': not a date: 'yesterday'",
        "line 7": "expected a JSON object, found list",
        "line 8": "field 'upvotes': negative: -4",
    }
    assert str(rejections[0]) == f"{path}: line 4: missing field 'abstract'"


def test_csv_keeps_good_rows_and_names_line_and_field_of_bad_ones() -> None:
    path = FIXTURES / "reading_list.csv"
    papers, rejections = split(load_source(str(path)))
    assert [paper.id for paper in papers] == [
        "2508.19982",
        paper_id_for("Speculative Decoding With Draft Trees"),
    ]
    prophet, trees = papers
    # A quoted cell spanning two lines is one abstract with its line break folded.
    assert prophet.abstract == (
        "We introduce Prophet, a training-free fast decoding paradigm that enables early commit "
        "decoding for diffusion language models."
    )
    assert prophet.authors == ["Pengxiang Li", "Yefan Zhou", "Dilxat Muhtar"]
    assert prophet.url == "https://arxiv.org/abs/2508.19982"
    assert prophet.code_urls == ["https://github.com/pixeli99/Prophet"]
    assert trees.authors == ["Lee Park", "Kim Cho"]
    assert trees.code_urls == ["https://gitlab.com/draft-lab/trees"]
    assert trees.upvotes == 7
    # Line numbers are the file's lines: the first record spans lines 2 and 3.
    assert reasons(rejections) == {
        "line 4": "missing field 'abstract'",
        "line 5": "field 'published': not a date: 'yesterday'",
        "line 6": "field 'upvotes': not a whole number: 'lots'",
        "line 7": "field 'arxiv_id': not an arXiv id: 'not-an-id'",
    }


def test_csv_without_an_abstract_column_is_a_source_error(tmp_path: Path) -> None:
    path = tmp_path / "papers.csv"
    path.write_text("title,notes\nA Paper,no abstract column\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"papers\.csv: line 1: .*no 'abstract' \(or 'summary'\)"):
        load_source(str(path))


def test_csv_row_with_extra_cells_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "papers.csv"
    path.write_text(
        "title,abstract\nGood Paper,An abstract.\nBad Row,An abstract.,stray\n", encoding="utf-8"
    )
    papers, rejections = split(load_source(str(path)))
    assert [paper.title for paper in papers] == ["Good Paper"]
    assert reasons(rejections) == {"line 3": "3 cells for 2 columns"}


# Detection and source-level errors


@pytest.mark.parametrize(
    ("name", "head", "expected"),
    [
        ("https://huggingface.co/api/daily_papers?date=2025-11-06", "", "hf-api"),
        ("http://export.arxiv.org/api/query?search_query=all:llm", "", "arxiv"),
        ("papers.jsonl", "", "jsonl"),
        ("papers.CSV", "", "csv"),
        ("feed.xml", "", "arxiv"),
        ("download", '<?xml version="1.0"?>\n<feed xmlns="http://www.w3.org/2005/Atom">', "arxiv"),
        ("daily.json", '[{"paper": {"id": "2508.19982"}}]', "hf-api"),
        ("notes", '{"title": "T", "abstract": "A"}\n{"title": "U"', "jsonl"),
        ("export", "\ufefftitle,summary,authors\n", "csv"),
        ("copy.txt", "Daily Papers\n\nNov 6\n", "hf-page"),
        ("copy.txt", "A Title\n\nAn abstract.\n\n  • 3 authors\n·\nOct 2\n", "hf-page"),
    ],
)
def test_detect_format_from_url_extension_or_content(name: str, head: str, expected: str) -> None:
    assert detect_format(name, head) == expected


def test_undetectable_format_names_the_file_and_the_choices(tmp_path: Path) -> None:
    path = tmp_path / "mystery.dat"
    path.write_text("just some words\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"mystery\.dat: cannot tell the format.*hf-page, hf-api"):
        load_source(str(path))


def test_missing_file_and_unknown_format_name_the_source(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    with pytest.raises(SourceError, match=r"nope\.jsonl: no such file"):
        load_source(str(missing))
    with pytest.raises(SourceError, match=r"unknown format 'bibtex'"):
        load_source(str(sample_corpus_path()), fmt="bibtex")


def test_non_utf8_file_is_a_source_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("title,abstract\nCaf\xe9,Un r\xe9sum\xe9.\n".encode("latin-1"))
    with pytest.raises(SourceError, match=r"latin1\.csv:2: not UTF-8 text"):
        load_source(str(path))


def test_links_in_text_tell_repositories_from_pages() -> None:
    text = (
        "Code (https://github.com/org/repo), profile https://github.com/org, "
        "model https://huggingface.co/org/model; paper https://huggingface.co/papers/2501.00001."
    )
    links = [(link.kind, link.url) for link in links_in_text(text)]
    assert links == [
        ("code", "https://github.com/org/repo"),
        ("project", "https://github.com/org"),
        ("code", "https://huggingface.co/org/model"),
        ("project", "https://huggingface.co/papers/2501.00001"),
    ]


# URL sources against a real HTTP server on 127.0.0.1


def test_url_sources_are_detected_by_shape_and_keep_the_url_as_source(
    server: StaticHTTPServer,
) -> None:
    api_url = server.route_file(
        "/api/daily_papers?date=2025-08-28",
        FIXTURES / "hf_daily_papers_2025-08-28.json",
        "application/json",
    )
    arxiv_url = server.route_file(
        "/api/query?id_list=2508.19982", FIXTURES / "arxiv_query.atom", "application/atom+xml"
    )
    papers, rejections = split(load_source(api_url, settings=QUICK, retry=QUICK_RETRY))
    assert [paper.id for paper in papers] == ["2508.19982", "2508.20072"]
    assert {paper.source for paper in papers} == {api_url}
    assert {rejection.source for rejection in rejections} == {api_url}
    papers, _ = split(load_source(arxiv_url, settings=QUICK, retry=QUICK_RETRY))
    assert [paper.id for paper in papers] == ["2508.19982", "cs/0112017"]
    assert server.user_agents[0].startswith("paperbrief/")


def test_server_errors_are_retried_until_success(server: StaticHTTPServer) -> None:
    url = server.route(
        "/flaky.csv",
        Reply(status=500, body="oops"),
        Reply(status=503, body="busy"),
        Reply(body="title,abstract\nA Paper,An abstract.\n", content_type="text/csv"),
    )
    papers, _ = split(load_source(url, settings=QUICK, retry=QUICK_RETRY))
    assert [paper.title for paper in papers] == ["A Paper"]
    assert server.hits["/flaky.csv"] == 3


def test_rate_limit_is_retried_after_the_pause_the_server_asks_for(
    server: StaticHTTPServer,
) -> None:
    url = server.route(
        "/limited.jsonl",
        Reply(status=429, body="slow down", headers={"Retry-After": "1"}),
        Reply(body='{"title": "A Paper", "abstract": "An abstract."}\n'),
    )
    papers, _ = split(load_source(url, settings=QUICK, retry=QUICK_RETRY))
    assert [paper.title for paper in papers] == ["A Paper"]
    assert server.hits["/limited.jsonl"] == 2


def test_not_found_fails_at_once_naming_the_url(server: StaticHTTPServer) -> None:
    url = server.url("/missing.jsonl")
    with pytest.raises(SourceError) as raised:
        load_source(url, settings=QUICK, retry=QUICK_RETRY)
    assert str(raised.value) == f"{url}: HTTP 404 Not Found"
    assert server.hits["/missing.jsonl"] == 1


def test_persistent_server_error_gives_up_after_the_configured_retries(
    server: StaticHTTPServer,
) -> None:
    url = server.route("/down.jsonl", Reply(status=502, body="bad gateway"))
    with pytest.raises(SourceError) as raised:
        fetch_text(url, QUICK, QUICK_RETRY)
    assert str(raised.value) == (
        f"{url}: gave up after 3 attempts: HTTP 502 Bad Gateway; no retries left "
        "(retry.max_retries=2)"
    )
    assert server.hits["/down.jsonl"] == 3


def test_retry_after_longer_than_we_wait_is_a_clear_error(server: StaticHTTPServer) -> None:
    url = server.route("/busy", Reply(status=429, headers={"Retry-After": "3600"}))
    with pytest.raises(
        SourceError,
        match=r"/busy: gave up after 1 attempt: HTTP 429 Too Many Requests; the "
        r"server asked to retry after 3600 s, longer than retry.retry_after_max=120 s",
    ):
        fetch_text(url, QUICK, QUICK_RETRY)
    assert server.hits["/busy"] == 1


def test_unreachable_server_names_the_url_and_the_connection_failure() -> None:
    with StaticHTTPServer() as closed:
        url = closed.url("/gone.jsonl")
    with pytest.raises(SourceError, match=r"gone\.jsonl: gave up after 3 attempts: connection"):
        fetch_text(url, QUICK, QUICK_RETRY)


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    now = datetime(2025, 11, 6, 12, 0, 0, tzinfo=UTC).timestamp()
    assert retry_after_seconds({"Retry-After": "7"}, now) == 7.0
    assert retry_after_seconds({"Retry-After": "Thu, 06 Nov 2025 12:00:30 GMT"}, now) == 30.0
    assert retry_after_seconds({"Retry-After": "soon"}, now) is None
    assert retry_after_seconds({}, now) is None
    assert retry_after_seconds(None, now) is None


def test_fetch_hf_day_reads_one_day_and_an_empty_day_is_no_papers(
    server: StaticHTTPServer,
) -> None:
    settings = QUICK.model_copy(update={"hf_base_url": server.url("/")})
    server.route_file(
        "/api/daily_papers?date=2025-08-28",
        FIXTURES / "hf_daily_papers_2025-08-28.json",
        "application/json",
    )
    server.route("/api/daily_papers?date=2025-08-30", Reply(body="[]"))
    papers, rejections = split(fetch_hf_day(date(2025, 8, 28), settings))
    assert [paper.id for paper in papers] == ["2508.19982", "2508.20072"]
    assert len(rejections) == 2
    assert list(fetch_hf_day(date(2025, 8, 30), settings)) == []
    assert hf_daily_url("https://huggingface.co/", date(2025, 11, 6)) == (
        "https://huggingface.co/api/daily_papers?date=2025-11-06"
    )


def atom_feed(entries: list[tuple[str, str]], total: int) -> str:
    """An arXiv API feed (as arXiv writes them) of (arXiv id, published date) entries."""
    body = "".join(
        f"""<entry><id>http://arxiv.org/abs/{arxiv_id}v1</id>
        <published>{published}T10:00:00Z</published><title>Paper {arxiv_id}</title>
        <summary>What paper {arxiv_id} found.</summary>
        <author><name>A. Author</name></author></entry>"""
        for arxiv_id, published in entries
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        '<opensearch:totalResults xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">'
        f"{total}</opensearch:totalResults>{body}</feed>"
    )


def arxiv_path(category: str, start: date, end: date, offset: int, size: int) -> str:
    url = ArxivCategory(category).url("http://x", start, end, offset, size)
    return url.removeprefix("http://x")


def test_arxiv_listing_pages_politely_until_the_period_is_read(server: StaticHTTPServer) -> None:
    start, end = date(2025, 8, 25), date(2025, 8, 31)
    settings = QUICK.model_copy(
        update={"arxiv_base_url": server.url(""), "arxiv_page_size": 2, "arxiv_page_delay": 3.0}
    )
    pages = [
        atom_feed([("2508.30001", "2025-08-30"), ("2508.30002", "2025-08-29")], total=5),
        atom_feed([("2508.30003", "2025-08-28"), ("2508.30004", "2025-08-27")], total=5),
        atom_feed([("2508.30005", "2025-08-26")], total=5),
    ]
    for number, feed in enumerate(pages):
        server.route(arxiv_path("cs.CL", start, end, number * 2, 2), Reply(body=feed))
    pauses: list[float] = []

    fetched = list(
        fetch_period("arxiv:cs.CL", start, end, settings, QUICK_RETRY, sleep=pauses.append)
    )

    ids = [r.id for page in fetched for r in page.records if isinstance(r, Paper)]
    assert ids == ["2508.30001", "2508.30002", "2508.30003", "2508.30004", "2508.30005"]
    assert pauses == [3.0, 3.0]  # between pages, not before the first
    assert sum(server.hits.values()) == 3
    query = fetched[0].source
    assert "cat%3Acs.CL" in query and "submittedDate%3A%5B202508250000+TO+202508312359%5D" in query


def test_arxiv_listing_stops_at_an_entry_older_than_the_period(server: StaticHTTPServer) -> None:
    # The recorded feed holds a 2001 paper: a listing sorted newest first has passed the period.
    start, end = date(2025, 8, 27), date(2025, 8, 28)
    settings = QUICK.model_copy(
        update={"arxiv_base_url": server.url(""), "arxiv_page_size": 4, "arxiv_page_delay": 0.0}
    )
    server.route_file(
        arxiv_path("cs.LG", start, end, 0, 4),
        FIXTURES / "arxiv_query.atom",
        "application/atom+xml",
    )
    fetched = list(fetch_period("arxiv:cs.LG", start, end, settings, QUICK_RETRY))
    assert len(fetched) == 1
    papers, rejections = split(iter(fetched[0].records))
    assert [p.id for p in papers] == ["2508.19982"]  # the 2001 paper is left out
    assert len(rejections) == 2  # and the feed's bad entries are still reported


def test_daily_papers_listing_is_one_request_a_day_up_to_today(server: StaticHTTPServer) -> None:
    settings = QUICK.model_copy(update={"hf_base_url": server.url("/")})
    server.route_file(
        "/api/daily_papers?date=2025-08-28",
        FIXTURES / "hf_daily_papers_2025-08-28.json",
        "application/json",
    )
    server.route("/api/daily_papers?date=2025-08-27", Reply(body="[]"))
    fetched = list(
        fetch_period(None, date(2025, 8, 27), date(2025, 8, 31), settings, today=date(2025, 8, 28))
    )
    assert [page.label for page in fetched] == ["2025-08-27", "2025-08-28"]
    assert [p.id for p in fetched[1].records if isinstance(p, Paper)] == [
        "2508.19982",
        "2508.20072",
    ]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("arxiv:", "not an arXiv category"),
        ("arxiv:cs CL", "not an arXiv category"),
        ("pubmed", "unknown listing 'pubmed'; use one of: daily-papers, arxiv:CATEGORY"),
    ],
)
def test_a_bad_listing_spec_is_a_clear_error_before_any_request(spec: str, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        fetch_period(spec, date(2025, 8, 27), date(2025, 8, 28))


def test_every_format_is_one_registered_source() -> None:
    assert tuple(source.name for source in ALL_SOURCES) == FORMATS
    assert FORMATS == ("hf-page", "hf-api", "arxiv", "jsonl", "csv")
