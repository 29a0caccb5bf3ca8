"""A thread's conversation as data: LangGraph's `messages` convention, plus the typed view the
agent reads back.

Each turn adds the question as a `HumanMessage` and the answer as an `AIMessage` whose content
is the answer's Markdown (what a chat client such as LangGraph Studio or Agent Chat UI shows)
and whose `additional_kwargs["paperbrief"]` holds the answer as data: the question, its prose
without the source list, the cited paper ids, the numbered sources, the writer's mode and
whether it abstained. Follow-ups read `turns(messages)`; nothing is parsed back from Markdown.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage

from agent.results import Answer
from agent.state import Turn

ANSWER_DATA = "paperbrief"


def asked(messages: Sequence[AnyMessage]) -> str | None:
    """The question a chat client asked: the last message's text when it is a human one."""
    if messages and isinstance(messages[-1], HumanMessage):
        return messages[-1].text.strip()
    return None


def question_message(question: str) -> HumanMessage:
    return HumanMessage(content=question)


def answer_message(answer: Answer, prose: str) -> AIMessage:
    """The answer as the thread's AI message: Markdown to show, the rest as data."""
    data: dict[str, Any] = {
        "question": answer.question,
        "prose": prose,
        "citations": list(answer.citations),
        "sources": [source.model_dump(mode="json") for source in answer.sources],
        "mode": answer.mode,
        "abstained": answer.abstained,
    }
    return AIMessage(content=answer.markdown, additional_kwargs={ANSWER_DATA: data})


def turns(messages: Sequence[AnyMessage]) -> list[Turn]:
    """The thread's finished turns, oldest first, from its answer messages."""
    found = []
    for message in messages:
        data = (
            message.additional_kwargs.get(ANSWER_DATA) if isinstance(message, AIMessage) else None
        )
        if isinstance(data, dict):
            found.append(
                Turn(
                    question=str(data.get("question", "")),
                    answer=str(data.get("prose", "")),
                    cited=[str(c) for c in data.get("citations", [])],
                )
            )
    return found
