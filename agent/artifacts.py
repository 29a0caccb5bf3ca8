"""Run artifacts: one folder per run, holding what was asked, what came back and what it cost.

`save_run` writes `<UTC timestamp>-<kind>-<slug>/` under a directory of runs:

- `request.json`: what was asked (question, query, period...);
- `result.json`: the whole result, readable back with `<ResultType>.model_validate`;
- `result.md`: the result as Markdown (a briefing also gets `briefing.html` and `briefing.txt`);
- `retrieved.jsonl`: the papers the agent retrieved, one JSON object a line;
- `settings.json`: the settings in force, secrets masked (pydantic writes a `SecretStr` as
  `**********`);
- `usage.json`: LLM calls, cached calls, tokens and the cost estimate.

A run that failed (`save_failed_run`) gets the same folder, with `error.json` (the error's type
and message, and for an LLM failure its endpoint, status, attempts and seconds) in place of the
result, and `usage.json` holding what was spent before it failed.

Evals and people read these folders; nothing in paperbrief reads them back.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from agent.results import Answer, Briefing, Comparison
from agent.settings import Settings

_NOT_SLUG = re.compile(r"[^a-z0-9]+")
SLUG_LENGTH = 40


def kind_of(result: BaseModel) -> str:
    """The run kind a result comes from: ask, compare, brief, else its type name."""
    kinds: dict[type[BaseModel], str] = {Answer: "ask", Comparison: "compare", Briefing: "brief"}
    return kinds.get(type(result), type(result).__name__.lower())


def request_of(result: BaseModel) -> dict[str, Any]:
    """What was asked, as far as the result itself records it."""
    if isinstance(result, Answer):
        return {"question": result.question, "thread_id": result.thread_id}
    if isinstance(result, Comparison):
        return {"query": result.query, "paper_ids": [row.paper_id for row in result.rows]}
    if isinstance(result, Briefing):
        return {"start": result.start.isoformat(), "end": result.end.isoformat()}
    return {}


def slug(text: str) -> str:
    """`How do LLMs decode?` -> `how-do-llms-decode`, at most SLUG_LENGTH characters."""
    folded = _NOT_SLUG.sub("-", text.casefold()).strip("-")
    return folded[:SLUG_LENGTH].rstrip("-") or "run"


def _slug_source(request: dict[str, Any]) -> str:
    for key in ("question", "query"):
        if isinstance(request.get(key), str) and request[key].strip():
            return str(request[key])
    if request.get("start") and request.get("end"):
        return f"{request['start']}-{request['end']}"
    return next((v for v in request.values() if isinstance(v, str) and v.strip()), "")


def _new_folder(directory: Path, name: str) -> Path:
    """`directory/name`, or `name-2`, `name-3`... when taken; created here, never reused."""
    directory.mkdir(parents=True, exist_ok=True)
    for n in range(1, 10_000):
        folder = directory / (name if n == 1 else f"{name}-{n}")
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return folder
    raise FileExistsError(f"no free run folder name for {name} in {directory}")


def utc_stamp() -> str:
    """The folder names' timestamp: the current UTC second, e.g. `20251106T093012Z`."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def save_run(
    directory: Path, kind: str, request: dict[str, Any], result: BaseModel, settings: Settings
) -> Path:
    """Write a run's artifacts to a new folder under `directory` and return the folder."""
    name = f"{utc_stamp()}-{slug(kind)}-{slug(_slug_source(request))}"
    folder = _new_folder(Path(directory), name)
    _write_json(folder / "request.json", request)
    _write_json(folder / "result.json", result.model_dump(mode="json"))
    markdown = getattr(result, "markdown", None)
    if isinstance(markdown, str):
        (folder / "result.md").write_text(markdown, encoding="utf-8")
    if isinstance(result, Briefing):
        (folder / "briefing.html").write_text(result.html, encoding="utf-8")
        (folder / "briefing.txt").write_text(result.text, encoding="utf-8")
    retrieved = getattr(result, "retrieved", None)
    if isinstance(retrieved, list):
        lines = [
            json.dumps(paper.model_dump(mode="json"), ensure_ascii=False) + "\n"
            for paper in retrieved
        ]
        (folder / "retrieved.jsonl").write_text("".join(lines), encoding="utf-8")
    _write_json(folder / "settings.json", settings.model_dump(mode="json"))
    usage = getattr(result, "usage", None)
    if isinstance(usage, BaseModel):
        _write_json(folder / "usage.json", usage.model_dump(mode="json"))
    return folder


def save_failed_run(
    directory: Path,
    kind: str,
    request: dict[str, Any],
    error: BaseException,
    usage: BaseModel | None,
    settings: Settings,
) -> Path:
    """Write a failed run's artifacts (request, error, usage spent, settings) to a new folder
    under `directory` and return the folder."""
    name = f"{utc_stamp()}-{slug(kind)}-failed-{slug(_slug_source(request))}"
    folder = _new_folder(Path(directory), name)
    _write_json(folder / "request.json", request)
    details: dict[str, Any] = {"type": type(error).__name__, "message": str(error)}
    for attribute in ("base_url", "model", "status", "attempts", "seconds"):
        value = getattr(error, attribute, None)
        if value is not None:
            details[attribute] = value
    _write_json(folder / "error.json", details)
    _write_json(folder / "settings.json", settings.model_dump(mode="json"))
    if usage is not None:
        _write_json(folder / "usage.json", usage.model_dump(mode="json"))
    return folder
