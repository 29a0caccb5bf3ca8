"""The weekly briefing: the right papers in themes, the sent ledger, files, mail and --fetch."""

from __future__ import annotations

import email
import html
import json
import logging
from collections.abc import Iterator
from datetime import date, timedelta
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest

from agent.api import PaperBrief
from agent.briefing import fallback_notice, output_paths
from agent.cli import main
from agent.errors import LLMError
from agent.mail import SentLedger
from agent.periods import iso_week_range, last_complete_week, period_label, resolve_period
from agent.settings import Settings
from store.config import SourceSettings
from store.models import Paper
from store.sources import SAMPLE_PAGE_DATE, load_source, sample_corpus_path
from tests.conftest import MakePB
from tests.store.test_sources import arxiv_path, atom_feed
from tests.support.agent_responder import AgentResponder
from tests.support.openai_server import OpenAIServer
from tests.support.smtp_server import PASSWORD, USER, SMTPSink
from tests.support.static_http import Reply, StaticHTTPServer

WEEK = (date(2025, 5, 19), date(2025, 5, 25))
EVIL_TITLE = "Agents <script>alert(1)</script> & Tools"


def _theme_ids(briefing: Any) -> list[str]:
    return [paper.id for theme in briefing.themes for paper in theme.papers]


# --- the bundled sample ----------------------------------------------------------------------


def test_sample_week_has_exactly_its_papers_with_diffusion_lms_in_one_theme(
    sample_pb: PaperBrief,
) -> None:
    start, end = WEEK
    records = load_source(str(sample_corpus_path()), fmt="hf-page", page_date=SAMPLE_PAGE_DATE)
    expected = sorted(
        r.id
        for r in records
        if isinstance(r, Paper) and r.published is not None and start <= r.published <= end
    )
    assert len(expected) >= 3

    briefing = sample_pb.briefing(start, end)

    ids = _theme_ids(briefing)
    assert sorted(ids) == expected
    assert len(ids) == len(set(ids))
    papers = {p.id: p for theme in briefing.themes for p in theme.papers}
    diffusion_lms = [
        pid
        for pid, p in papers.items()
        if "diffusion" in p.title.lower() and "language model" in p.title.lower()
    ]
    assert len(diffusion_lms) >= 2
    holding = [t for t in briefing.themes if any(p.id in diffusion_lms for p in t.papers)]
    assert len(holding) == 1
    assert "diffusion" in holding[0].name.lower()
    for theme in briefing.themes:
        assert set(theme.takeaways) == {p.id for p in theme.papers}
        assert all(line.strip() for line in theme.takeaways.values())
    flat_text = " ".join(briefing.text.split())
    for paper in papers.values():
        assert html.escape(paper.title) in briefing.html
        assert " ".join(paper.title.split()) in flat_text
    # Without interests the picks are the most popular and novel third of the week.
    assert len(briefing.picks) == -(-len(ids) // 3)
    assert {r.paper.id for r in briefing.picks} <= set(ids)
    assert all(r.reason.endswith(".") for r in briefing.picks)
    assert briefing.mode == "offline"
    assert briefing.usage.llm_calls == 0
    assert [p.upvotes for p in briefing.trending] == sorted(
        (p.upvotes for p in papers.values() if p.upvotes), reverse=True
    )[: len(briefing.trending)]


def test_sample_week_picks_follow_the_interests(sample_pb: PaperBrief) -> None:
    start, end = WEEK
    briefing = sample_pb.briefing(start, end, interests=["collective communication libraries"])
    assert briefing.picks
    assert "Collective Communications" in briefing.picks[0].paper.title
    assert "collective communication libraries" in briefing.picks[0].reason
    assert all(p.interest == "collective communication libraries" for p in briefing.picks)
    assert briefing.picks_notice is None


def test_a_briefing_for_an_out_of_domain_interest_has_no_picks_but_says_so_and_has_themes(
    sample_pb: PaperBrief,
) -> None:
    start, end = WEEK
    briefing = sample_pb.briefing(start, end, interests=["coral reef bleaching"])
    assert briefing.picks == []
    assert briefing.themes and _theme_ids(briefing)
    notice = briefing.picks_notice
    assert notice is not None
    assert notice.startswith(
        'No paper published from 2025-05-19 to 2025-05-25 matches your interest in "coral reef '
        'bleaching"; closest, not recommended: '
    )
    # Every rendering says it under the top picks and still has the themes.
    markdown = briefing.markdown
    assert (
        markdown.index("## Top picks")
        < markdown.index("No paper published")
        < markdown.index("## Themes")
    )
    flat_text = " ".join(briefing.text.split())
    assert "Top picks" in flat_text and "coral reef bleaching" in flat_text
    assert "coral reef bleaching" in html.unescape(briefing.html)
    for theme in briefing.themes:
        assert html.escape(theme.papers[0].title) in briefing.html


# --- periods ---------------------------------------------------------------------------------


def test_periods() -> None:
    assert iso_week_range("2025-W21") == WEEK
    assert iso_week_range("2020-w53") == (date(2020, 12, 28), date(2021, 1, 3))
    with pytest.raises(ValueError, match="no ISO week 53"):
        iso_week_range("2025-W53")
    with pytest.raises(ValueError, match="not an ISO week"):
        iso_week_range("May 2025")
    assert last_complete_week(date(2025, 5, 26)) == WEEK
    assert last_complete_week(date(2025, 6, 1)) == WEEK
    assert period_label(*WEEK) == "2025-W21"
    assert period_label(date(2025, 5, 20), date(2025, 5, 26)) == "2025-05-20..2025-05-26"
    assert resolve_period(since=date(2025, 5, 19)) == WEEK
    with pytest.raises(ValueError, match="ends"):
        resolve_period(since=date(2025, 5, 25), until=date(2025, 5, 19))


def test_out_paths_for_a_stem_a_suffix_and_a_directory(tmp_path: Path) -> None:
    from agent.results import Briefing

    briefing = Briefing(start=WEEK[0], end=WEEK[1], mode="offline")
    assert output_paths(tmp_path / "b", briefing)["html"] == tmp_path / "b.html"
    assert output_paths(tmp_path / "b.md", briefing)["txt"] == tmp_path / "b.txt"
    assert output_paths(tmp_path, briefing)["md"] == tmp_path / "briefing-2025-W21.md"


# --- a small store of our own ----------------------------------------------------------------


def _record(pid: str, title: str, day: date, abstract: str | None = None, votes: int = 0) -> dict:
    return {
        "arxiv_id": pid,
        "title": title,
        "abstract": abstract
        or f"We study {title.lower()}. Our method improves the state of the art by 3 points.",
        "published": day.isoformat(),
        "upvotes": votes,
    }


def _write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


RECORDS = [
    _record("2505.10001", "Diffusion Language Model Decoding", date(2025, 5, 19), votes=12),
    _record("2505.10002", "Masked Diffusion Language Model Scaling", date(2025, 5, 20), votes=3),
    _record("2505.10003", EVIL_TITLE, date(2025, 5, 21), votes=30),
    _record("2505.10004", "Graph Neural Networks for Weather", date(2025, 5, 24)),
    _record("2505.10005", "A Paper of the Next Week", date(2025, 5, 27)),
]


@pytest.fixture
def week_pb(make_pb: MakePB, tmp_path: Path, smtp_server: SMTPSink) -> PaperBrief:
    """A store with four papers in 2025-W21 and one in W22, mailing to the test SMTP server."""
    email_settings = smtp_server.settings().model_dump()
    pb = make_pb(email=email_settings)
    report = pb.ingest(_write_jsonl(tmp_path / "week.jsonl", RECORDS))
    assert report.ok and len(report.added) == 5
    return pb


def _received(sink: SMTPSink) -> list[EmailMessage]:
    return [message for _, message in sink.received]


def test_a_sent_week_is_not_sent_again_unless_forced(
    week_pb: PaperBrief, smtp_server: SMTPSink
) -> None:
    briefing = week_pb.briefing(*WEEK)
    assert sorted(_theme_ids(briefing)) == ["2505.10001", "2505.10002", "2505.10003", "2505.10004"]

    first = week_pb.send_briefing(briefing, ["ada@example.org", "alan@example.org"])
    again = week_pb.send_briefing(briefing, ["alan@example.org", "ada@example.org"])
    other = week_pb.send_briefing(briefing, ["grace@example.org"])
    forced = week_pb.send_briefing(briefing, ["ada@example.org", "alan@example.org"], force=True)

    assert first.sent and not first.skipped
    assert again.skipped and not again.sent
    assert "already sent" in again.summary()
    assert other.sent and forced.sent
    rcpts = [r for r, _ in smtp_server.received]
    assert rcpts == [
        ["ada@example.org", "alan@example.org"],
        ["grace@example.org"],
        ["ada@example.org", "alan@example.org"],
    ]
    message = _received(smtp_server)[0]
    assert message["Subject"].startswith("paperbrief weekly — 2025-W21")
    plain = message.get_body(("plain",))
    rich = message.get_body(("html",))
    assert plain is not None and rich is not None
    assert EVIL_TITLE in plain.get_content()
    html_part = rich.get_content()
    assert "<script>" not in html_part
    assert html.escape(EVIL_TITLE) in html_part
    # Rebuilding the week after sending it does not call its own papers "already sent".
    assert week_pb.briefing(*WEEK).already_sent == []


def test_papers_sent_earlier_are_listed_apart_and_changed_ones_marked(
    week_pb: PaperBrief, tmp_path: Path
) -> None:
    week_pb.send_briefing(week_pb.briefing(*WEEK), ["ada@example.org"])
    changed = dict(RECORDS[1], abstract="A rewritten abstract about masked diffusion scaling.")
    week_pb.ingest(_write_jsonl(tmp_path / "revised.jsonl", [changed]))

    later = week_pb.briefing(date(2025, 5, 22), date(2025, 5, 28))
    overlap = week_pb.briefing(date(2025, 5, 20), date(2025, 5, 28))

    assert later.already_sent == ["2505.10004"]
    assert _theme_ids(later) == ["2505.10005"]
    assert sorted(overlap.already_sent) == ["2505.10003", "2505.10004"]
    assert overlap.updated == ["2505.10002"]
    assert sorted(_theme_ids(overlap)) == ["2505.10002", "2505.10005"]
    assert "Already in an earlier briefing" in overlap.markdown
    assert "Graph Neural Networks for Weather" in overlap.markdown
    updated_line = next(
        line for line in overlap.markdown.splitlines() if "Masked Diffusion" in line
    )
    assert "(updated)" in updated_line
    assert "UPDATED" in overlap.html


# --- the command -----------------------------------------------------------------------------


@pytest.fixture
def mail_env(monkeypatch: pytest.MonkeyPatch, smtp_server: SMTPSink) -> SMTPSink:
    """The SMTP settings as a cron job would give them: environment variables."""
    monkeypatch.setenv("PAPERBRIEF_EMAIL__SMTP_HOST", smtp_server.host)
    monkeypatch.setenv("PAPERBRIEF_EMAIL__SMTP_PORT", str(smtp_server.port))
    monkeypatch.setenv("PAPERBRIEF_EMAIL__SECURITY", "none")
    monkeypatch.setenv("PAPERBRIEF_EMAIL__USERNAME", USER)
    monkeypatch.setenv("PAPERBRIEF_EMAIL__PASSWORD", PASSWORD)
    monkeypatch.setenv("PAPERBRIEF_EMAIL__SENDER", "paperbrief@example.org")
    monkeypatch.setenv("PAPERBRIEF_EMAIL__RECIPIENTS", '["ada@example.org"]')
    monkeypatch.setenv("PAPERBRIEF_EMBEDDING__PROVIDER", "hash")
    return smtp_server


@pytest.fixture
def cli_data_dir(tmp_path: Path, mail_env: SMTPSink) -> Iterator[Path]:
    data_dir = tmp_path / "data"
    source = _write_jsonl(tmp_path / "week.jsonl", RECORDS)
    assert main(["--data-dir", str(data_dir), "ingest", str(source)]) == 0
    yield data_dir


def test_brief_writes_markdown_html_and_text_and_prints_the_paths(
    cli_data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    out = tmp_path / "out" / "briefing"
    code = main(
        ["--data-dir", str(cli_data_dir), "brief", "--since", "2025-05-19", "--until",
         "2025-05-25", "--out", str(out)]
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out.split()
    assert printed == [str(out) + ".md", str(out) + ".html", str(out) + ".txt"]
    md = Path(printed[0]).read_text()
    assert "Diffusion Language Model Decoding" in md
    assert "A Paper of the Next Week" not in md
    assert html.escape(EVIL_TITLE) in Path(printed[1]).read_text()


def test_brief_prints_markdown_by_default(
    cli_data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["--data-dir", str(cli_data_dir), "brief", "--week", "2025-W22"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# paperbrief weekly — 2025-W22")
    assert "A Paper of the Next Week" in out


def test_brief_send_mails_once_and_never_shows_the_password(
    cli_data_dir: Path,
    mail_env: SMTPSink,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    args = ["--data-dir", str(cli_data_dir), "brief", "--week", "2025-W21", "--send"]
    assert main([*args, "--to", "ada@example.org,alan@example.org"]) == 0
    assert main([*args, "--to", "alan@example.org", "--to", "ada@example.org"]) == 0
    assert main([*args, "--to", "ada@example.org,alan@example.org", "--force"]) == 0
    assert main(args) == 0  # to email.recipients from the environment
    output = capsys.readouterr()
    assert [r for r, _ in mail_env.received] == [
        ["ada@example.org", "alan@example.org"],
        ["ada@example.org", "alan@example.org"],
        ["ada@example.org"],
    ]
    assert "already sent" in output.out
    assert PASSWORD not in output.out + output.err + caplog.text
    assert mail_env.logins == [USER] * 3
    sends = SentLedger.in_data_dir(cli_data_dir).sends()
    assert {s["week"] for s in sends} == {"2025-W21"}


def test_brief_dry_run_writes_a_parseable_eml_and_sends_nothing(
    cli_data_dir: Path, mail_env: SMTPSink, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "mail" / "briefing"
    code = main(
        ["--data-dir", str(cli_data_dir), "brief", "--week", "2025-W21", "--out", str(out),
         "--dry-run", "--to", "ada@example.org"]
    )  # fmt: skip
    assert code == 0
    eml = out.with_suffix(".eml")
    assert f"wrote {eml}" in capsys.readouterr().out
    message = email.message_from_bytes(eml.read_bytes(), policy=default)
    assert isinstance(message, EmailMessage)
    assert message["To"] == "ada@example.org"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert "<script>" not in message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert mail_env.received == []
    assert SentLedger.in_data_dir(cli_data_dir).sends() == []


def test_brief_send_without_a_server_is_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PAPERBRIEF_EMBEDDING__PROVIDER", "hash")
    code = main(
        ["--data-dir", str(tmp_path / "d"), "brief", "--week", "2025-W21", "--send", "--to",
         "ada@example.org"]
    )  # fmt: skip
    assert code == 1
    assert "smtp_host" in capsys.readouterr().err


# --- --fetch ---------------------------------------------------------------------------------


def _api_entry(pid: str, title: str, published: str, votes: int) -> dict:
    return {
        "paper": {
            "id": pid,
            "title": title,
            "summary": f"We present {title}. It reduces decoding latency by 2x on GSM8K.",
            "authors": [{"name": "Ada Lovelace"}],
            "publishedAt": f"{published}T12:00:00.000Z",
            "upvotes": votes,
        },
        "publishedAt": f"{published}T20:00:00.000Z",
        "title": title,
    }


def test_brief_fetch_asks_once_per_day_and_covers_what_was_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PAPERBRIEF_EMBEDDING__PROVIDER", "hash")
    start = WEEK[0]
    with StaticHTTPServer() as server:
        monkeypatch.setenv("PAPERBRIEF_SOURCES__HF_BASE_URL", server.url(""))
        days = [start + timedelta(days=n) for n in range(7)]
        for day in days:
            entries = []
            if day == date(2025, 5, 20):
                entries = [_api_entry("2505.20001", "Fast Diffusion Decoding", "2025-05-19", 40)]
            if day == date(2025, 5, 19):
                # Listed this week, published on arXiv the week before.
                entries = [_api_entry("2505.20002", "Sparse Attention Revisited", "2025-05-16", 9)]
            server.route(
                f"/api/daily_papers?date={day.isoformat()}",
                Reply(body=json.dumps(entries), content_type="application/json"),
            )
        code = main(
            ["--data-dir", str(tmp_path / "d"), "brief", "--week", "2025-W21", "--fetch",
             "--format", "json"]
        )  # fmt: skip
        hits = dict(server.hits)
    assert code == 0
    captured = capsys.readouterr()
    assert "fetched 7 day(s)" in captured.err
    assert hits == {f"/api/daily_papers?date={d.isoformat()}": 1 for d in days}
    briefing = json.loads(captured.out)
    ids = sorted(p["id"] for t in briefing["themes"] for p in t["papers"])
    assert ids == ["2505.20001", "2505.20002"]
    assert [p["upvotes"] for p in briefing["trending"]] == [40, 9]


def test_brief_fetch_arxiv_category_briefs_that_listing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # An arXiv reader gets the same weekly briefing: the category's listing over the week.
    monkeypatch.setenv("PAPERBRIEF_EMBEDDING__PROVIDER", "hash")
    monkeypatch.setenv("PAPERBRIEF_SOURCES__ARXIV_PAGE_DELAY", "0")
    start, end = WEEK
    feed = atom_feed([("2505.20011", "2025-05-21"), ("2505.20012", "2025-05-20")], total=2)
    with StaticHTTPServer() as server:
        monkeypatch.setenv("PAPERBRIEF_SOURCES__ARXIV_BASE_URL", server.url(""))
        path = arxiv_path("cs.CL", start, end, 0, SourceSettings().arxiv_page_size)
        server.route(path, Reply(body=feed, content_type="application/atom+xml"))
        code = main(
            ["--data-dir", str(tmp_path / "d"), "brief", "--week", "2025-W21",
             "--fetch", "arxiv:cs.CL", "--format", "json"]
        )  # fmt: skip
        hits = dict(server.hits)
    assert code == 0
    captured = capsys.readouterr()
    assert "fetched 1 page(s) of arXiv cs.CL: 2 papers (2 added" in captured.err
    assert hits == {path: 1}
    briefing = json.loads(captured.out)
    assert sorted(p["id"] for t in briefing["themes"] for p in t["papers"]) == [
        "2505.20011",
        "2505.20012",
    ]


def test_brief_fetch_of_an_unknown_listing_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--data-dir", str(tmp_path / "d"), "brief", "--fetch", "arxiv:not a category"])
    assert code == 1
    assert "is not an arXiv category" in capsys.readouterr().err


# --- LLM mode --------------------------------------------------------------------------------


def test_llm_briefing_counts_its_calls_and_a_rerun_makes_none(
    sample_pb: PaperBrief, openai_server: OpenAIServer, tmp_path: Path
) -> None:
    responder = AgentResponder()
    openai_server.set_responder(responder)
    settings = Settings(
        data_dir=tmp_path,
        llm={"mode": "llm", "base_url": openai_server.base_url, "model": "test-model"},
    )
    pb = PaperBrief(
        data_dir=tmp_path, settings=settings, embedder=sample_pb.embedder, store=sample_pb.store
    )

    first = pb.briefing(*WEEK)
    requests_after_first = len(openai_server.chat_requests)
    second = pb.briefing(*WEEK)

    papers = _theme_ids(first)
    compared = [t for t in first.themes if not t.other]
    assert first.mode == "llm"
    assert all(t.summary.mode == "llm" for t in compared)
    assert responder.calls["Takeaway"] == len(papers)  # one takeaway per paper
    assert responder.calls["NumberedComparison"] == len(compared)
    assert responder.calls["ThemeName"] == len(compared)  # names come from the LLM too
    assert all(t.name for t in compared)
    assert first.usage.llm_calls == requests_after_first > 0
    assert first.usage.prompt_tokens > 0 and first.usage.completion_tokens > 0
    assert len(openai_server.chat_requests) == requests_after_first
    assert second.usage.llm_calls == 0
    assert second.usage.cached_calls == first.usage.llm_calls
    assert second.markdown == first.markdown


def test_a_failing_llm_stops_the_briefing_at_the_first_exhausted_call(
    make_pb: MakePB, openai_server: OpenAIServer, tmp_path: Path
) -> None:
    # No reply scripted: every request gets HTTP 500.
    pb = make_pb(
        llm={
            "mode": "llm",
            "base_url": openai_server.base_url,
            "model": "test-model",
            "concurrency": 1,
            "cache": False,
        },
        retry={"max_retries": 1, "backoff": 0},
    )
    assert pb.ingest(_write_jsonl(tmp_path / "week.jsonl", RECORDS)).ok

    with pytest.raises(LLMError, match="500"):
        pb.briefing(*WEEK)

    # One logical call's attempt and retry, not every paper's and theme's calls.
    assert len(openai_server.chat_requests) == 2


def test_an_llm_briefing_says_in_every_rendering_when_takeaways_are_extractive(
    make_pb: MakePB, openai_server: OpenAIServer, tmp_path: Path
) -> None:
    # The model's takeaways state a number no abstract has, and its rewrites give up.
    openai_server.set_responder(AgentResponder(chat=lambda papers, prompt: "It is 97.5% better."))
    pb = make_pb(llm={"mode": "llm", "base_url": openai_server.base_url, "model": "test-model"})
    assert pb.ingest(_write_jsonl(tmp_path / "week.jsonl", RECORDS)).ok

    briefing = pb.briefing(*WEEK)

    assert briefing.mode == "llm"
    assert briefing.notices == [fallback_notice(4, 4)]
    said = "4 of 4 takeaways were written by the offline extractive writer"
    for rendering in (briefing.markdown, html.unescape(briefing.html), briefing.text):
        assert said in " ".join(rendering.split())
    assert all("97.5" not in t for theme in briefing.themes for t in theme.takeaways.values())


def test_an_llm_theme_name_with_words_no_member_uses_is_replaced(
    sample_pb: PaperBrief, openai_server: OpenAIServer, tmp_path: Path
) -> None:
    named = AgentResponder(theme=lambda papers: "Quantum chemistry of proteins")
    openai_server.set_responder(named)
    settings = Settings(
        data_dir=tmp_path,
        llm={"mode": "llm", "base_url": openai_server.base_url, "model": "test-model"},
    )
    pb = PaperBrief(
        data_dir=tmp_path, settings=settings, embedder=sample_pb.embedder, store=sample_pb.store
    )
    briefing = pb.briefing(*WEEK)
    compared = [t for t in briefing.themes if not t.other]
    assert compared and named.calls["ThemeName"] == len(compared)
    assert all("Quantum" not in t.name for t in compared)  # the extractive name instead
