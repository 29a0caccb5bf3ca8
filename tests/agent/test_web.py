"""`paperbrief serve` as its users meet it: a real server process, a real headless Chromium,
and the real `openai` client against its OpenAI-compatible endpoint.

The store holds the bundled sample (hashing embedder: these tests are about the pages and the
wire formats, not retrieval quality) plus papers whose title and abstract try to inject HTML,
script and Markdown links; no page may run or render them. Screenshots of the main pages go
where `make examples` asks (docs/examples/, the pages a reader of the README sees), else to a
temporary folder.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from agent.api import PaperBrief
from tests.conftest import settings_for

pytestmark = pytest.mark.slow

PAPERBRIEF = str(Path(sys.executable).parent / "paperbrief")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Over the hashing embedder's store the calibrated relevance decision answers a question that
# names its paper (bag-of-words cosines carry little meaning; see agent/relevance.py).
NAMED_PAPER_QUESTION = (
    "How does dKV-Cache, the cache for diffusion language models, speed up decoding?"
)

HOSTILE_TITLE = '<script>window.__pwned = "title"</script>Quantum Knitting <b>Bold</b> Claims'
HOSTILE_ABSTRACT = (
    'Quantum knitting improves yarn entanglement by 42%. <img src=x onerror="window.__pwned = '
    "'abstract'\"> [click me](javascript:window.__pwned='link') and "
    '<a href="javascript:alert(1)">a link</a>. Knitting quantum yarn needs no training.'
)
HOSTILE_LINK = "https://github.com/quantum/knit?q=%3Cb%3Ex"


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the page screenshots go: the folder named by PAPERBRIEF_SCREENSHOTS (`make
    examples` names docs/examples/), else a temporary one, so a test run leaves the checkout's
    tracked files as they were."""
    named = os.environ.get("PAPERBRIEF_SCREENSHOTS")
    folder = Path(named) if named else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def web_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("web-store")
    hostile = data_dir / "hostile.jsonl"
    records = [
        {
            "id": "2511.00666",
            "title": HOSTILE_TITLE,
            "abstract": HOSTILE_ABSTRACT,
            "published": "2025-05-21",
            "code": HOSTILE_LINK,
        },
        {
            "id": "2511.00667",
            "title": "Quantum Knitting Revisited ](javascript:alert(2))",
            "abstract": "We revisit quantum knitting </textarea><svg onload=alert(3)> and find "
            "that entangled yarn holds 7 stitches.",
            "published": "2025-05-22",
        },
    ]
    hostile.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    settings = settings_for(data_dir, embedding={"provider": "hash"})
    with PaperBrief(data_dir=data_dir, settings=settings) as brief:
        assert brief.ingest_sample().added
        report = brief.ingest(hostile)
        assert len(report.added) == 2, report.rejected
    return data_dir


@pytest.fixture(scope="module")
def server(web_store: Path) -> Iterator[str]:
    """A `paperbrief serve` process on a free loopback port; its base URL."""
    port = _free_port()
    log = (web_store / "serve.log").open("wb")
    process = subprocess.Popen(
        [PAPERBRIEF, "--data-dir", str(web_store), "serve", "--port", str(port)],
        env={**os.environ, "PAPERBRIEF_EMBEDDING__PROVIDER": "hash"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                raise RuntimeError((web_store / "serve.log").read_text(errors="replace"))
            try:
                if httpx.get(f"{url}/v1/models", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("paperbrief serve did not answer within 90 s")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


# -- the browser -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            "chromium is not installed: apt-get install -y chromium (make test does, as root)"
        )
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
            viewport={"width": 1200, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()


def _not_pwned(page: Any) -> None:
    assert page.evaluate("() => window.__pwned === undefined"), page.evaluate("window.__pwned")


def test_browser_searches_reads_a_paper_asks_and_compares(
    server: str, browser: Any, web_store: Path, screenshots: Path
) -> None:
    page = browser.new_page()

    page.goto(f"{server}/")
    page.fill("input[name=q]", "diffusion language models")
    page.press("input[name=q]", "Enter")
    page.wait_for_selector("ol.hits li.hit")
    assert page.locator("ol.hits li.hit").count() == 10
    page.screenshot(path=str(screenshots / "web-search.png"), full_page=True)

    first_title = page.locator("ol.hits li.hit a.title").first.inner_text()
    page.locator("ol.hits li.hit a.title").first.click()
    page.wait_for_selector("article.paper h1")
    assert page.locator("article.paper h1").inner_text() == first_title
    assert page.locator("section.takeaway p").inner_text()
    similar = page.locator("section", has=page.locator("h2", has_text="Similar papers"))
    assert similar.locator("li.hit a.title").count() == 6
    page.screenshot(path=str(screenshots / "web-paper.png"), full_page=True)

    # Chat: the answer streams in (sentence events), then becomes the verified answer with
    # its source list linking the papers' pages.
    page.goto(f"{server}/chat")
    page.evaluate(
        """() => {
            window.__streamed = [];
            new MutationObserver(() => {
                const draft = document.querySelector('.answer.streaming .draft');
                if (draft && draft.textContent) window.__streamed.push(draft.textContent);
            }).observe(document.getElementById('log'),
                       {subtree: true, childList: true, characterData: true});
        }"""
    )
    page.fill("input[name=question]", NAMED_PAPER_QUESTION)
    page.click("form#ask button")
    page.wait_for_selector(".answer.done ol.sources li a")
    streamed = page.evaluate("window.__streamed")
    assert streamed and any("[" in text for text in streamed)
    sources = page.locator(".answer.done ol.sources li > a:not(.ext)").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    assert sources and all(href.startswith("/paper/") for href in sources)
    assert "thread=" in page.url
    page.screenshot(path=str(screenshots / "web-chat.png"), full_page=True)
    cited = page.request.get(f"{server}{sources[0]}")
    assert cited.status == 200

    # A follow-up on the same thread, after a reload (the thread comes back from the server).
    page.reload()
    assert page.locator(".turn .question").first.inner_text() == NAMED_PAPER_QUESTION
    page.fill("input[name=question]", "Which of these needs no training?")
    page.click("form#ask button")
    page.wait_for_selector(".turn:nth-child(2) .answer.done")

    # The thread is listed under Recent threads on a fresh chat page, by its first question.
    thread = page.url.split("thread=")[1]
    page.goto(f"{server}/chat")
    recent = page.locator("#threads a", has_text="How does dKV-Cache")
    assert recent.get_attribute("href") == f"/chat?thread={thread}"

    # Compare two ticked search results.
    page.goto(f"{server}/?q=KV+cache")
    boxes = page.locator("ol.hits input[name=ids]")
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.click("text=Compare selected")
    page.wait_for_selector("section.comparison table")
    assert page.locator("section.comparison tbody tr").count() == 2
    page.screenshot(path=str(screenshots / "web-compare.png"), full_page=True)
    page.close()


def test_browser_builds_a_briefing_and_ingests_with_visible_progress(
    server: str, browser: Any, tmp_path: Path, screenshots: Path
) -> None:
    page = browser.new_page()
    page.goto(f"{server}/briefings")
    page.fill("input[name=week]", "2025-W21")
    page.click("form.job button")
    page.wait_for_selector("form.job .progress:not([hidden])")
    page.wait_for_selector("form.job .status.done", timeout=120_000)
    page.click("text=open the briefing")
    page.wait_for_selector("article.briefing")
    assert "2025" in page.locator("article.briefing").inner_text()
    _not_pwned(page)
    page.goto(f"{server}/briefings")
    assert page.locator("ul.archive a", has_text="2025-W21").count() == 1
    page.screenshot(path=str(screenshots / "web-briefings.png"), full_page=True)

    extra = tmp_path / "more.jsonl"
    extra.write_text(
        "".join(
            json.dumps(
                {
                    "title": f"Sparse Kernel Study {n}",
                    "abstract": f"We measure sparse kernels on workload {n}.",
                    "published": "2025-05-23",
                }
            )
            + "\n"
            for n in range(40)
        ),
        encoding="utf-8",
    )
    page.goto(f"{server}/library")
    page.fill("input[name=source]", str(extra))
    page.click("form.job button")
    page.wait_for_selector("form.job .status.done", timeout=120_000)
    status = page.locator("form.job .status").inner_text()
    assert "40 added" in status
    assert page.locator("form.job progress").evaluate("bar => bar.value") == 1
    page.close()


def test_hostile_paper_text_is_shown_as_text_on_every_page(server: str, browser: Any) -> None:
    page = browser.new_page()
    pages = [
        "/?q=quantum+knitting",
        "/paper/2511.00666",
        "/paper/2511.00667",
        "/compare?ids=2511.00666&ids=2511.00667",
        "/compare?topic=quantum+knitting",
    ]
    for path in pages:
        page.goto(f"{server}{path}")
        page.wait_for_load_state("load")
        _not_pwned(page)
        assert page.locator("script:not([src])").count() == 0, path
        assert page.locator("img, svg, b").count() == 0, path
        assert page.locator("a[href^='javascript']").count() == 0, path
        assert "Quantum Knitting" in page.content()
    page.goto(f"{server}/paper/2511.00666")
    assert page.locator("article.paper h1").inner_text() == HOSTILE_TITLE

    page.goto(f"{server}/chat")
    page.fill("input[name=question]", "What does quantum knitting improve?")
    page.click("form#ask button")
    page.wait_for_selector(".answer.done")
    _not_pwned(page)
    answer = page.locator(".answer.done")
    assert answer.locator("img, svg, script, b").count() == 0
    assert answer.locator("a[href^='javascript']").count() == 0
    page.close()


# -- HTTP rules --------------------------------------------------------------------------------


def test_other_hosts_and_cross_site_posts_are_refused(server: str) -> None:
    rebinding = httpx.get(f"{server}/", headers={"host": "attacker.example"})
    assert rebinding.status_code == 403
    cross_site = httpx.post(
        f"{server}/api/jobs",
        json={"kind": "ingest", "source": "/etc/passwd"},
        headers={"origin": "http://attacker.example"},
    )
    assert cross_site.status_code == 403
    assert "not accepted" in cross_site.json()["error"]["message"]


def test_unknown_pages_and_bad_input_get_clear_answers(server: str) -> None:
    missing = httpx.get(f"{server}/paper/2501.99999")
    assert missing.status_code == 404 and "no paper with id" in missing.text
    bad_date = httpx.get(f"{server}/", params={"q": "x", "since": "yesterday"})
    assert "since: &#39;yesterday&#39; is not a date" in bad_date.text
    no_kind = httpx.post(f"{server}/api/jobs", json={"kind": "delete-everything"})
    assert no_kind.status_code == 400 and "unknown job kind" in no_kind.json()["error"]
    bad_week = httpx.post(f"{server}/api/jobs", json={"kind": "briefing", "week": "2025-W99"})
    assert bad_week.status_code == 400 and "has no ISO week 99" in bad_week.json()["error"]


def test_a_non_local_bind_without_a_token_is_refused(web_store: Path) -> None:
    done = subprocess.run(
        [PAPERBRIEF, "--data-dir", str(web_store), "serve", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "refusing to listen on 0.0.0.0" in done.stderr


def test_a_token_is_required_when_set(web_store: Path) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [PAPERBRIEF, "--data-dir", str(web_store), "serve", "--port", str(port)],
        env={
            **os.environ,
            "PAPERBRIEF_EMBEDDING__PROVIDER": "hash",
            "PAPERBRIEF_SERVE__TOKEN": "tok-123",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                first = httpx.get(f"{url}/v1/models", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.2)
        assert first.status_code == 401
        bearer = httpx.get(f"{url}/v1/models", headers={"authorization": "Bearer tok-123"})
        assert bearer.status_code == 200
        with httpx.Client() as browser_like:
            opened = browser_like.get(f"{url}/library", params={"token": "tok-123"})
            assert opened.status_code == 200
            # The token given once in the address is kept as a cookie for the next pages.
            assert browser_like.get(f"{url}/chat").status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)


# -- the OpenAI-compatible endpoint --------------------------------------------------------------


def test_openai_client_streams_a_cited_answer_and_follows_up(server: str, web_store: Path) -> None:
    client = openai.OpenAI(base_url=f"{server}/v1", api_key="unused", max_retries=0)
    assert [m.id for m in client.models.list()] == ["paperbrief"]

    raw = client.chat.completions.with_raw_response.create(
        model="paperbrief",
        messages=[{"role": "user", "content": NAMED_PAPER_QUESTION}],
        stream=True,
    )
    thread = raw.headers["x-paperbrief-thread"]
    pieces = [chunk.choices[0].delta.content or "" for chunk in raw.parse() if chunk.choices]
    streamed = "".join(pieces)
    assert len([p for p in pieces if p]) > 3  # sentence by sentence, not in one piece
    assert "**Sources**" in streamed and "[1]" in streamed
    cited = [
        line.rsplit("(`", 1)[1].split("`)")[0]
        for line in streamed.split("**Sources**")[1].splitlines()
        if "(`" in line
    ]
    # Every cited id is a stored paper (its page exists; the server owns the store).
    assert cited and all(httpx.get(f"{server}/paper/{c}").status_code == 200 for c in cited)

    # The UI sends the history back; the follow-up continues the same conversation.
    raw_follow_up = client.chat.completions.with_raw_response.create(
        model="paperbrief",
        messages=[
            {"role": "user", "content": NAMED_PAPER_QUESTION},
            {"role": "assistant", "content": streamed},
            {"role": "user", "content": "Which of them needs no training?"},
        ],
    )
    assert raw_follow_up.headers["x-paperbrief-thread"] == thread
    follow_up = raw_follow_up.parse()
    reply = follow_up.choices[0].message.content or ""
    assert follow_up.choices[0].finish_reason == "stop" and "[1]" in reply

    with pytest.raises(openai.BadRequestError, match="last message must be a user message"):
        client.chat.completions.create(
            model="paperbrief", messages=[{"role": "assistant", "content": "hi"}]
        )
