"""Reading a model's structured reply, whoever served it: vendor-neutral helpers shared by the
OpenAI-compatible client (`agent/llm.py`) and MCP sampling (`agent/sampling.py`).

- `strip_wrapping`: the JSON inside a reply, without a leading `<think>` block (reasoning
  models) or a ```json fence (models that format their JSON as Markdown);
- `validation_summary`: a pydantic validation failure as one line naming each field, for the
  repair request and for the error a user reads;
- `excerpt`: a reply or body shortened to one line, for messages that quote it;
- `with_system_note`: an instruction appended to the first system message, because some chat
  templates accept only one system message, and only first.
"""

from __future__ import annotations

import re

from pydantic import ValidationError

_THINKING = re.compile(r"\A\s*<think>.*?</think>\s*", re.DOTALL)
_FENCED = re.compile(r"\A\s*```(?:json)?\s*\n(?P<body>.*?)\n?```\s*\Z", re.DOTALL)


def excerpt(text: str, limit: int = 300) -> str:
    """`text` on one line, cut to `limit` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def strip_wrapping(text: str) -> str:
    """The JSON inside a reply: without a leading <think> block or a ```json fence."""
    text = _THINKING.sub("", text)
    fenced = _FENCED.match(text)
    return fenced.group("body") if fenced else text.strip()


def validation_summary(exc: ValidationError, limit: int = 8) -> str:
    """The first `limit` problems of a validation failure as `field.path: message; ...`."""
    lines = []
    for error in exc.errors()[:limit]:
        location = ".".join(str(part) for part in error["loc"]) or "(root)"
        lines.append(f"{location}: {error['msg']}")
    more = len(exc.errors()) - limit
    if more > 0:
        lines.append(f"and {more} more")
    return "; ".join(lines)


def with_system_note(messages: list[dict[str, str]], note: str) -> list[dict[str, str]]:
    """`note` appended to the first system message (or as one): some chat templates accept
    only one system message, and only first."""
    if messages and messages[0].get("role") == "system":
        first = {**messages[0], "content": f"{messages[0].get('content', '')}\n\n{note}"}
        return [first, *messages[1:]]
    return [{"role": "system", "content": note}, *messages]
