"""Strict rendering of the prompt files in `prompts/`, and abstracts formatted as delimited data.

The convention every prompt file follows (a test renders each one with its declared variables):

    ---
    variables: question, papers
    ---
    You answer questions about research papers ...
    $papers
    Question: ${question}

- The front matter between the two `---` lines declares the variables, comma-separated
  (`variables:` with nothing after it for a prompt without variables). It must list exactly the
  variables the body uses, so a typo fails in the template test, not in production.
- The body uses `string.Template` syntax: `$name` or `${name}`; `$$` is a literal dollar sign.
  Braces are plain text, so prompts may show JSON examples without escaping.
- `render(name, **variables)` raises `MissingVariables` when a declared variable is not given
  and `UnusedVariables` when a given one is not declared: both are programming errors.
- Source text (titles, abstracts) goes in through `format_papers_as_data`, never pasted raw, so
  that a prompt can tell the model the `<paper>` blocks are data and not instructions.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from agent.errors import MissingVariables, PromptError, UnusedVariables
from prompts import PROMPTS_DIR
from store.models import Paper

_FRONT_MATTER = re.compile(r"\A---\n(?P<head>.*?)\n---\n", re.DOTALL)
# The opening or closing delimiter tag, however spaced or cased, inside source text.
_DELIMITER = re.compile(r"<(\s*/?\s*paper)", re.IGNORECASE)


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    variables: tuple[str, ...]
    body: str

    def render(self, **values: object) -> str:
        missing = set(self.variables) - values.keys()
        if missing:
            raise MissingVariables(self.name, missing)
        unused = values.keys() - set(self.variables)
        if unused:
            raise UnusedVariables(self.name, unused)
        return string.Template(self.body).substitute({k: str(v) for k, v in values.items()})


def load_template(name: str, directory: Path = PROMPTS_DIR) -> PromptTemplate:
    """Parse `<directory>/<name>.md`, checking its declared variables against its body."""
    path = directory / f"{name}.md"
    if not path.is_file():
        raise PromptError(f"no prompt {name!r}: {path} does not exist")
    text = path.read_text(encoding="utf-8")
    match = _FRONT_MATTER.match(text)
    if match is None:
        raise PromptError(f"{path}: must start with front matter declaring 'variables:'")
    declared: tuple[str, ...] | None = None
    for line in match.group("head").splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "variables":
            declared = tuple(v.strip() for v in value.split(",") if v.strip())
    if declared is None:
        raise PromptError(f"{path}: front matter has no 'variables:' line")
    body = text[match.end() :]
    template = string.Template(body)
    if not template.is_valid():
        raise PromptError(f"{path}: invalid placeholder (write $$ for a literal dollar sign)")
    used = set(template.get_identifiers())
    if used != set(declared):
        raise PromptError(
            f"{path}: declares variables {sorted(declared)} but its body uses {sorted(used)}"
        )
    return PromptTemplate(name=name, variables=declared, body=body)


def render(name: str, **variables: object) -> str:
    """Render `prompts/<name>.md` with exactly its declared variables."""
    return load_template(name).render(**variables)


def list_templates(directory: Path = PROMPTS_DIR) -> list[str]:
    """Names of every prompt file, sorted."""
    return sorted(path.stem for path in directory.glob("*.md"))


def neutralise_delimiters(text: str) -> str:
    """Source text that cannot open or close a `<paper>` block (the `<` becomes `‹`)."""
    return _DELIMITER.sub(r"‹\1", text)


def paper_label(index: int) -> str:
    """The citation label of the `index`-th paper (0-based) in a numbered data block: `[1]`."""
    return f"[{index + 1}]"


def format_papers_as_data(papers: Sequence[Paper], numbered: bool = True) -> str:
    """Papers as `<paper id="...">` blocks: `[1]`, `[2]`... when numbered, else paper ids.

    Title and abstract are neutralised so that text inside them cannot end the block early and
    pose as instructions.
    """
    blocks = []
    for index, paper in enumerate(papers):
        label = paper_label(index) if numbered else paper.id
        lines = [f'<paper id="{label.replace(chr(34), "")}">']
        lines.append(f"Title: {neutralise_delimiters(paper.title)}")
        if paper.published is not None:
            lines.append(f"Published: {paper.published.isoformat()}")
        lines.append(f"Abstract: {neutralise_delimiters(paper.abstract)}")
        lines.append("</paper>")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
