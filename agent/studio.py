"""The graph `langgraph.json` serves (`langgraph dev`, LangGraph Studio, Agent Chat UI).

Its dependencies are `PaperBrief`'s, built from the environment's settings on the first
request: importing this module opens no store and loads no model. `langgraph dev` supplies its
own checkpointer.
"""

from __future__ import annotations

from agent.api import PaperBrief
from agent.graph import build_graph
from agent.nodes import AgentDeps


def _default_deps() -> AgentDeps:
    """Dependencies from the environment's settings."""
    return PaperBrief().agent_deps()


graph = build_graph(_default_deps)
