"""The LangGraph agent: `build_graph(deps)` and the `Agent` that `PaperBrief` runs.

    receive_request -> route_request -> plan_queries -> retrieve_papers -> grade_papers
        -> extract_evidence (one parallel branch per paper, via Send)
        -> write_answer | write_comparison -> verify_draft -> respond
    route_request -> recommend_papers -> respond          (what should I read about X?)
    route_request -> respond                               (out of scope: nothing to cite)
    grade_papers -> respond                                (nothing relevant: abstain)

Chat threads persist in a SQLite checkpointer under the data dir, so a thread survives a
restart. Building a graph does no work: dependencies resolve on the first node that needs them.
The graph `langgraph.json` serves is built in `agent/studio.py`, over `PaperBrief`'s deps.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, cast

from langchain_core.messages import AnyMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from pydantic import BaseModel

from agent import results, state
from agent.conversation import question_message, turns
from agent.nodes import AgentDeps, AgentNodes, DepsSource
from agent.results import Answer, Comparison
from agent.state import AgentState
from store import models
from store.sqlite_files import open_sqlite

THREADS_FILE = "threads.sqlite"

AgentGraph = CompiledStateGraph[Any, Any, Any, Any]


def build_graph(
    deps: DepsSource, *, checkpointer: BaseCheckpointSaver[Any] | None = None
) -> AgentGraph:
    """The compiled agent graph over `deps` (an `AgentDeps` or a function returning one)."""
    nodes = AgentNodes(deps)
    builder = StateGraph(AgentState)
    builder.add_node("receive_request", nodes.receive_request)
    builder.add_node("route_request", nodes.route_request)
    builder.add_node("plan_queries", nodes.plan_queries)
    builder.add_node("retrieve_papers", nodes.retrieve_papers)
    builder.add_node("grade_papers", nodes.grade_papers)
    # A `Send` branch receives an `EvidenceTask`, not the graph state; LangGraph's typing of
    # add_node only knows the state type.
    builder.add_node("extract_evidence", cast(Any, nodes.extract_evidence))
    builder.add_node("write_answer", nodes.write_answer)
    builder.add_node("write_comparison", nodes.write_comparison)
    builder.add_node("verify_draft", nodes.verify_draft)
    builder.add_node("recommend_papers", nodes.recommend_papers)
    builder.add_node("respond", nodes.respond)

    builder.add_edge(START, "receive_request")
    builder.add_edge("receive_request", "route_request")
    builder.add_conditional_edges(
        "route_request",
        _after_route,
        {
            "answer": "plan_queries",
            "compare": "plan_queries",
            "recommend": "recommend_papers",
            "out_of_scope": "respond",
        },
    )
    builder.add_edge("plan_queries", "retrieve_papers")
    builder.add_edge("retrieve_papers", "grade_papers")
    builder.add_conditional_edges(
        "grade_papers", nodes.fan_out_evidence, ["extract_evidence", "respond"]
    )
    builder.add_conditional_edges(
        "extract_evidence", nodes.choose_writer, ["write_answer", "write_comparison"]
    )
    builder.add_edge("write_answer", "verify_draft")
    builder.add_edge("write_comparison", "verify_draft")
    builder.add_edge("verify_draft", "respond")
    builder.add_edge("recommend_papers", "respond")
    builder.add_edge("respond", END)
    return builder.compile(checkpointer=checkpointer, name="paperbrief")


def _after_route(s: AgentState) -> str:
    return s.get("route") or "answer"


def _checkpoint_types() -> list[tuple[str, str]]:
    """The pydantic types the state holds, allowed back out of the checkpoint (and no other)."""
    allowed: list[tuple[str, str]] = []
    for module in (state, results, models):
        for name in dir(module):
            value = getattr(module, name)
            if (
                isinstance(value, type)
                and issubclass(value, BaseModel)
                and value.__module__ == module.__name__
            ):
                allowed.append((module.__name__, name))
    return allowed


def open_checkpointer(path: Path) -> SqliteSaver:
    """A SQLite checkpointer at `path`: chat threads that survive a restart."""
    # The saver serialises access with its own lock, so one connection serves all threads. A
    # file that is not a database is set aside with a warning; conversations start over.
    conn = open_sqlite(path, "chat threads", check_same_thread=False)
    serde = JsonPlusSerializer(allowed_msgpack_modules=_checkpoint_types())
    return SqliteSaver(conn, serde=serde)


def _ask_input(question: str, *, stream: bool) -> dict[str, Any]:
    """A question as a chat client would send it (a human message), plus the request fields."""
    return {
        "request": "ask",
        "question": question,
        "messages": [question_message(question)],
        "paper_ids": [],
        "stream": stream,
    }


class Agent:
    """The agent as `PaperBrief` runs it: ask (threaded), compare, stream, tldr."""

    def __init__(self, deps: AgentDeps, threads_path: Path) -> None:
        self.deps = deps
        self._threads_path = threads_path
        self._checkpointer: SqliteSaver | None = None
        self._lock = threading.Lock()
        self.graph = build_graph(deps)

    @property
    def threaded_graph(self) -> AgentGraph:
        """The graph with the on-disk checkpointer (opened on first use)."""
        with self._lock:
            if self._checkpointer is None:
                self._checkpointer = open_checkpointer(self._threads_path)
                self._threaded = build_graph(self.deps, checkpointer=self._checkpointer)
        return self._threaded

    def close(self) -> None:
        with self._lock:
            if self._checkpointer is not None:
                self._checkpointer.conn.close()
                self._checkpointer = None

    def _config(self, thread_id: str | None = None) -> RunnableConfig:
        config: RunnableConfig = {"max_concurrency": self.deps.settings.llm.concurrency}
        if thread_id is not None:
            config["configurable"] = {"thread_id": thread_id}
        return config

    def ask(self, question: str, thread_id: str | None = None) -> Answer:
        """Answer `question` on `thread_id` (a new thread when None), remembering the turn."""
        thread = thread_id or uuid.uuid4().hex
        final = self.threaded_graph.invoke(
            _ask_input(question, stream=False),
            self._config(thread),
            # A thread needs its state after each turn, not after every step: one checkpoint
            # per turn instead of a dozen keeps threads.sqlite small.
            durability="exit",
        )
        answer = cast(Answer, final["result"])
        return answer.model_copy(update={"thread_id": thread})

    def stream_ask(self, question: str, thread_id: str | None = None) -> Iterator[dict[str, Any]]:
        """Events as the answer is written: `token` (LLM mode), `sentence` (the verified
        prose), `retrieved`; then one `answer` event carrying the `Answer`."""
        thread = thread_id or uuid.uuid4().hex
        final: dict[str, Any] = {}
        for mode, chunk in self.threaded_graph.stream(
            _ask_input(question, stream=True),
            self._config(thread),
            stream_mode=["custom", "values"],
            durability="exit",
        ):
            if mode == "custom":
                yield cast(dict[str, Any], chunk)
            else:
                final = cast(dict[str, Any], chunk)
        answer = cast(Answer, final["result"]).model_copy(update={"thread_id": thread})
        yield {"event": "answer", "answer": answer}

    def history(self, thread_id: str) -> list[state.Turn]:
        """The finished turns of a thread (empty for an unknown thread)."""
        return turns(self.messages(thread_id))

    def messages(self, thread_id: str) -> list[AnyMessage]:
        """A thread's conversation: its questions and answers as chat messages."""
        snapshot = self.threaded_graph.get_state({"configurable": {"thread_id": thread_id}})
        return list(snapshot.values.get("messages") or [])

    def compare(
        self, query: str | None = None, paper_ids: Sequence[str] | None = None
    ) -> Comparison:
        """Compare the papers on a topic, or the papers named by id."""
        if not (query and query.strip()) and not paper_ids:
            raise ValueError("compare needs a topic or a list of paper ids")
        final = self.graph.invoke(
            {
                "request": "compare",
                "question": (query or "").strip(),
                "paper_ids": list(paper_ids or []),
                "stream": False,
            },
            self._config(),
        )
        return cast(Comparison, final["result"])
