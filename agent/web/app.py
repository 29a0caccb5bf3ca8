"""The web app: Starlette routes over one `PaperBrief`, pages from Jinja2 templates.

Pages (server-rendered, no front-end build; one small script, `static/app.js`, streams the
chat and polls jobs):

    /                     search with filters (dates, upvotes, code, diverse); pick papers
                          to compare
    /paper/{id}           abstract, takeaway, links, similar papers
    /chat?thread=ID       questions and follow-ups; answers stream (server-sent events from
                          POST /api/ask) and end with their verified text and source list
    /compare?ids=..       the comparison of the selected papers (or ?topic=)
    /briefings            the archive of briefings built here, and a form to build one
    /briefings/{label}    one briefing; /briefings/{label}.html its email rendering
    /library              what the store holds, and a form to ingest a file or URL

Long work (an ingest, a briefing) runs as a background job: `POST /api/jobs` starts it and
`GET /api/jobs/{id}` reports progress, which the page shows as a progress bar.

Every page escapes what it shows (autoescape on; Markdown through markdown-it with raw HTML
off). Requests whose Host is not this machine are refused when bound to loopback (DNS
rebinding), and a POST from another origin is refused (a web page cannot drive the local app).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from agent.api import PaperBrief, as_date
from agent.markup import make_environment
from agent.results import Answer
from agent.serving import ASGIApp, Receive, Scope, Send, is_loopback
from agent.web.events import answer_events
from store.models import Paper

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
ARCHIVE_DIR = "briefings"
"""Under the data dir: the briefings built from the web app (Markdown, HTML, text)."""


# -- templates --------------------------------------------------------------------------------


def environment() -> jinja2.Environment:
    """The pages' Jinja2 environment: the project's one HTML layer (`agent/markup.py`:
    autoescape, strict undefined, `markdown` and `safe_url` filters), templates from
    `agent/templates/web/`, plus `paper_url(paper)`."""
    return make_environment(globals={"paper_url": _paper_url})


def comparison_prose(markdown: str) -> str:
    """A comparison's written paragraphs, without the heading, table, lists and labels the
    page shows from the structured fields."""
    blocks = prose_markdown(markdown).split("\n\n")
    return "\n\n".join(
        b for b in blocks if b.strip() and not b.startswith(("|", "-", "#", "**", "_", ">"))
    )


def prose_markdown(markdown: str) -> str:
    """A result's Markdown without its source list and audit trail (the page shows those
    from the structured fields, with links to the papers' pages)."""
    return markdown.split("\n\n**Sources**")[0].split("\n\n<details>")[0]


# -- background jobs --------------------------------------------------------------------------


@dataclass
class Job:
    """A long piece of work started from a page, and how far it got."""

    id: str
    kind: str
    label: str
    status: str = "running"  # running | done | failed
    done: int = 0
    total: int | None = None
    message: str = ""
    link: str | None = None
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None

    def as_json(self) -> dict[str, Any]:
        end = self.finished if self.finished is not None else time.monotonic()
        return {
            "id": self.id,
            "kind": self.kind,
            "label": self.label,
            "status": self.status,
            "done": self.done,
            "total": self.total,
            "message": self.message,
            "link": self.link,
            "seconds": round(end - self.started, 1),
        }


class JobBoard:
    """Runs jobs in threads, one at a time per kind of resource (the store), and remembers
    the last few."""

    def __init__(self, keep: int = 50) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._work_lock = threading.Lock()
        self._keep = keep

    def start(self, kind: str, label: str, work: Callable[[Job], None]) -> Job:
        job = Job(id=uuid.uuid4().hex[:12], kind=kind, label=label, message="queued")
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > self._keep:
                self._jobs.pop(next(iter(self._jobs)))

        def run() -> None:
            from agent.errors import USER_ERRORS

            with self._work_lock:
                job.message = "working"
                try:
                    work(job)
                    job.status = "done"
                except USER_ERRORS as exc:
                    job.status, job.message = "failed", str(exc)
                except Exception as exc:
                    log.exception("job %s (%s) failed", job.id, kind)
                    job.status, job.message = "failed", f"internal error: {exc}"
                finally:
                    job.finished = time.monotonic()

        threading.Thread(target=run, name=f"job-{job.id}", daemon=True).start()
        return job

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def recent(self) -> list[Job]:
        return list(reversed(self._jobs.values()))


# -- request guard ----------------------------------------------------------------------------


class SameOriginGuard:
    """Refuses requests a local app must not serve: a Host that is not this machine (a DNS
    rebinding page) when bound to loopback, and a state-changing request from another origin."""

    def __init__(self, app: ASGIApp, bound_host: str) -> None:
        self.app = app
        self.local = is_loopback(bound_host)
        self.allowed = {"127.0.0.1", "localhost", "::1", bound_host.lower().strip("[]")}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        hostname = (urlsplit(f"//{host}").hostname or "").lower()
        problem = None
        if self.local and hostname not in self.allowed:
            problem = f"host {host!r} is not served here"
        origin = headers.get("origin")
        cross_site = origin and urlsplit(origin).netloc.lower() != host.lower()
        if scope["method"] not in ("GET", "HEAD", "OPTIONS") and cross_site:
            problem = f"requests from {origin} are not accepted"
        if problem is None:
            await self.app(scope, receive, send)
            return
        await JSONResponse({"error": {"message": problem, "type": "forbidden"}}, 403)(
            scope, receive, send
        )


# -- the app ----------------------------------------------------------------------------------


class WebApp:
    """The routes, over one `PaperBrief`."""

    def __init__(self, pb: PaperBrief) -> None:
        self.pb = pb
        self.env = environment()
        self.jobs = JobBoard()

    @property
    def archive(self) -> Path:
        return self.pb.data_dir / ARCHIVE_DIR

    def page(self, name: str, request: Request, status: int = 200, **context: Any) -> Response:
        stats = self.pb.stats()
        html = self.env.get_template(f"web/{name}").render(
            request=request, papers_stored=stats["papers"], **context
        )
        return HTMLResponse(html, status_code=status)

    def error_page(self, request: Request, status: int, message: str) -> Response:
        return self.page("error.html", request, status=status, message=message)

    # pages

    def search(self, request: Request) -> Response:
        params = request.query_params
        query = params.get("q", "").strip()
        form = {
            "q": query,
            "k": params.get("k", "10"),
            "since": params.get("since", ""),
            "until": params.get("until", ""),
            "min_upvotes": params.get("min_upvotes", ""),
            "has_code": params.get("has_code", ""),
            "diverse": params.get("diverse", ""),
        }
        hits: list[Any] = []
        error = None
        if query:
            try:
                k = int(form["k"] or 10)
                if not 1 <= k <= 100:
                    raise ValueError(f"k must be between 1 and 100, not {k}")
                upvotes = int(form["min_upvotes"]) if form["min_upvotes"] else None
                code = {"yes": True, "no": False}.get(form["has_code"])
                hits = self.pb.search(
                    query,
                    k=k,
                    since=as_date(form["since"] or None, "since"),
                    until=as_date(form["until"] or None, "until"),
                    min_upvotes=upvotes,
                    has_code=code,
                    diverse=bool(form["diverse"]),
                )
            except ValueError as exc:
                error = str(exc)
        return self.page("search.html", request, form=form, hits=hits, error=error)

    def paper(self, request: Request) -> Response:
        from agent.api import PaperNotFoundError

        paper_id = request.path_params["paper_id"]
        try:
            paper = self.pb.paper(paper_id)
        except PaperNotFoundError as exc:
            return self.error_page(request, 404, str(exc))
        takeaway = self.pb.tldr(paper)
        similar = [
            hit
            for hit in self.pb.search(f"{paper.title}. {paper.abstract}", k=7)
            if hit.paper.id != paper.id
        ][:6]
        return self.page("paper.html", request, paper=paper, takeaway=takeaway, similar=similar)

    def chat(self, request: Request) -> Response:
        thread = request.query_params.get("thread", "").strip()
        turns = self.pb.agent.history(thread) if thread else []
        titles = {p.id: p.title for p in self.pb.store.get([c for t in turns for c in t.cited])}
        return self.page("chat.html", request, thread=thread, turns=turns, titles=titles)

    def compare(self, request: Request) -> Response:
        ids = [i.strip() for i in request.query_params.getlist("ids") if i.strip()]
        topic = request.query_params.get("topic", "").strip()
        if not ids and not topic:
            return self.page("compare.html", request, comparison=None, topic="", ids=[])
        from agent.errors import USER_ERRORS

        try:
            comparison = self.pb.compare(topic or None, paper_ids=ids or None)
        except USER_ERRORS as exc:
            return self.error_page(request, 400, str(exc))
        return self.page(
            "compare.html",
            request,
            comparison=comparison,
            body=comparison_prose(comparison.markdown),
            topic=topic,
            ids=ids,
        )

    def briefings(self, request: Request) -> Response:
        archived = sorted(self.archive.glob("briefing-*.md"), reverse=True)
        labels = [p.stem.removeprefix("briefing-") for p in archived]
        return self.page("briefings.html", request, labels=labels, jobs=self.jobs.recent())

    def briefing(self, request: Request) -> Response:
        label = request.path_params["label"]
        if label.endswith(".html"):
            path = self._archived(label.removesuffix(".html"), ".html")
            if path is None:
                return self.error_page(request, 404, f"no briefing {label!r} in the archive")
            # The email rendering, shown as is: no script may run in it.
            return FileResponse(
                path,
                media_type="text/html",
                headers={
                    "content-security-policy": "sandbox; default-src 'none'; style-src "
                    "'unsafe-inline'"
                },
            )
        path = self._archived(label, ".md")
        if path is None:
            return self.error_page(request, 404, f"no briefing {label!r} in the archive")
        markdown = path.read_text(encoding="utf-8")
        return self.page("briefing.html", request, label=label, markdown=markdown)

    def _archived(self, label: str, suffix: str) -> Path | None:
        if not re.fullmatch(r"[0-9A-Za-z.\-]+", label):
            return None
        path = self.archive / f"briefing-{label}{suffix}"
        return path if path.is_file() else None

    def library(self, request: Request) -> Response:
        return self.page("library.html", request, stats=self.pb.stats(), jobs=self.jobs.recent())

    # JSON / streams

    def thread_history(self, request: Request) -> Response:
        turns = self.pb.agent.history(request.path_params["thread"])
        return JSONResponse([t.model_dump() for t in turns])

    async def ask(self, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "the body must be JSON"}, status_code=400)
        question = str(body.get("question") or "").strip()
        thread = str(body.get("thread_id") or "").strip() or None
        if not question:
            return JSONResponse({"error": "question is empty"}, status_code=400)
        return StreamingResponse(
            self._answer_events(question, thread),
            media_type="text/event-stream",
            headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
        )

    async def _answer_events(self, question: str, thread: str | None) -> AsyncIterator[str]:
        """Server-sent events: `token` (LLM draft, not yet verified), `sentence` (verified
        text), then `answer` (the rendered answer and its sources) or `error`."""
        async for event in answer_events(self.pb, question, thread):
            kind = event["event"]
            if kind == "answer":
                yield _sse("answer", self._answer_payload(event["answer"]))
            elif kind in ("token", "sentence"):
                yield _sse(kind, {"text": event["text"]})
            elif kind == "error":
                yield _sse("error", {"message": event["message"]})

    def _answer_payload(self, answer: Answer) -> dict[str, Any]:
        html = self.env.get_template("web/_answer.html").render(
            answer=answer, body=prose_markdown(answer.markdown)
        )
        return {
            "thread_id": answer.thread_id,
            "html": html,
            "mode": answer.mode,
            "abstained": answer.abstained,
            "sources": [s.model_dump(mode="json") for s in answer.sources],
        }

    async def start_job(self, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "the body must be JSON"}, status_code=400)
        kind = body.get("kind")
        try:
            if kind == "ingest":
                job = self._ingest_job(body)
            elif kind == "briefing":
                job = self._briefing_job(body)
            else:
                return JSONResponse({"error": f"unknown job kind {kind!r}"}, status_code=400)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(job.as_json(), status_code=202)

    def _ingest_job(self, body: dict[str, Any]) -> Job:
        source = str(body.get("source") or "").strip()
        fmt = str(body.get("format") or "").strip() or None
        if not source:
            raise ValueError("give a file path or URL to ingest")
        pb = self.pb

        def work(job: Job) -> None:
            def progress(done: int, total: int) -> None:
                job.done, job.total = done, total
                job.message = f"{done} of {total} papers written"

            report = pb.ingest(source, fmt=fmt, progress=progress)
            job.message = report.summary()
            if report.rejected:
                job.message += "; " + "; ".join(str(r) for r in report.rejected[:5])
            job.link = "/"

        return self.jobs.start("ingest", source, work)

    def _briefing_job(self, body: dict[str, Any]) -> Job:
        from agent.periods import period_label, resolve_period

        start, end = resolve_period(
            str(body.get("week") or "").strip() or None,
            as_date(str(body.get("since") or "").strip() or None, "since"),
            as_date(str(body.get("until") or "").strip() or None, "until"),
        )
        label = period_label(start, end)
        pb, archive = self.pb, self.archive

        def work(job: Job) -> None:
            job.message = f"building the briefing of {label}"
            built = pb.briefing(start, end)
            archive.mkdir(parents=True, exist_ok=True)
            pb.write_briefing(built, archive)
            job.message = f"{len(built.themes)} themes, {len(built.picks)} picks"
            job.link = f"/briefings/{label}"

        return self.jobs.start("briefing", label, work)

    def job(self, request: Request) -> Response:
        job = self.jobs.get(request.path_params["job_id"])
        if job is None:
            return JSONResponse({"error": "no such job"}, status_code=404)
        return JSONResponse(job.as_json())


def _sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _paper_url(paper: Paper) -> str:
    return f"/paper/{paper.id}"


def create_app(pb: PaperBrief, *, host: str = "127.0.0.1") -> ASGIApp:
    """The web app and the OpenAI-compatible API over `pb`, as an ASGI app."""
    from agent.web.openai_api import openai_routes

    web = WebApp(pb)
    routes = [
        Route("/", web.search),
        Route("/paper/{paper_id:path}", web.paper),
        Route("/chat", web.chat),
        Route("/compare", web.compare),
        Route("/briefings", web.briefings),
        Route("/briefings/{label}", web.briefing),
        Route("/library", web.library),
        Route("/api/ask", web.ask, methods=["POST"]),
        Route("/api/threads/{thread}", web.thread_history),
        Route("/api/jobs", web.start_job, methods=["POST"]),
        Route("/api/jobs/{job_id}", web.job),
        *openai_routes(pb),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    app = Starlette(routes=routes)
    return SameOriginGuard(app, host)
