"""The LLM judge of key-point coverage, used only when an LLM is configured.

It asks the `PaperBrief`'s own configured model (`pb.chat_llm.structured`) whether the output
states each key point, with a pydantic schema for the verdicts. The output under judgement goes
into the prompt (`prompts/judge_key_points.md`) as delimited data, never as instructions.
Without a configured LLM there is no judge, and key points are decided by terms or embeddings
(see `evals.metrics`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from agent import PaperBrief, render_prompt


class KeyPointVerdict(BaseModel):
    point: int = Field(description="The key point's number, as listed")
    covered: bool
    reason: str = Field(default="", description="One short phrase")


class KeyPointVerdicts(BaseModel):
    verdicts: list[KeyPointVerdict]


def judge_messages(text: str, points: Sequence[str]) -> list[dict[str, str]]:
    listed = "\n".join(f"{number}. {point}" for number, point in enumerate(points, start=1))
    # The output under judgement is data: it must not be able to close its own <text> block.
    prompt = render_prompt(
        "judge_key_points",
        text=text.replace("</text", "‹/text").replace("<points", "‹points"),
        points=listed.replace("</points", "‹/points"),
    )
    return [{"role": "user", "content": prompt}]


class LLMJudge:
    """Judges key points with one structured call per output."""

    def __init__(self, llm: Any) -> None:
        self._llm = llm

    def __call__(self, text: str, points: Sequence[str]) -> list[bool]:
        result = self._llm.structured(judge_messages(text, points), KeyPointVerdicts)
        verdicts = {verdict.point: verdict.covered for verdict in result.value.verdicts}
        # A point the judge skipped is not covered: silence is not evidence.
        return [verdicts.get(number, False) for number in range(1, len(points) + 1)]

    def close(self) -> None:
        """Nothing to release: the `PaperBrief` that lent the LLM closes it."""


def llm_judge(pb: PaperBrief) -> LLMJudge | None:
    """A judge backed by the API's LLM (`pb.chat_llm`: the injected one, else the one the
    settings configure), so it talks to exactly the server and model the run is measuring; None
    in offline mode or when no LLM is configured."""
    llm = pb.chat_llm
    return LLMJudge(llm) if llm is not None else None
