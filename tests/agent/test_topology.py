"""The agent graph's shape is deliberate: a snapshot catches an edge added or lost by accident.

If a change to the topology is intended, update `graph_topology.json` next to this file (the
failure message prints the new value).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from agent.graph import AgentGraph, build_graph
from agent.nodes import AgentDeps
from agent.studio import graph

SNAPSHOT = Path(__file__).with_name("graph_topology.json")
ROOT = Path(__file__).resolve().parents[2]


def topology(compiled: AgentGraph) -> dict[str, Any]:
    drawn = compiled.get_graph()
    return {
        # The state's channels as a client sees them (LangGraph Studio builds its input form
        # from this schema; `messages` is the conversation chat clients append to).
        "state": sorted(compiled.get_input_jsonschema()["properties"]),
        "nodes": sorted(drawn.nodes),
        # "a -> b" always follows; "a ?> b" is one outcome of a conditional edge.
        "edges": sorted(
            f"{edge.source} {'?>' if edge.conditional else '->'} {edge.target}"
            for edge in drawn.edges
        ),
    }


def _unused_deps() -> AgentDeps:
    raise AssertionError("building the graph must not resolve its dependencies")


def test_graph_topology_matches_snapshot() -> None:
    current = topology(build_graph(_unused_deps))
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert current == expected, "graph topology changed:\n" + json.dumps(current, indent=2)


def test_module_graph_for_langgraph_json_has_the_same_topology() -> None:
    config = json.loads((ROOT / "langgraph.json").read_text(encoding="utf-8"))
    path, _, attribute = config["graphs"]["paperbrief"].partition(":")
    assert (ROOT / path).resolve() == (ROOT / "agent" / "studio.py").resolve()
    assert attribute == "graph"
    assert topology(graph) == json.loads(SNAPSHOT.read_text(encoding="utf-8"))


def test_importing_the_module_graph_opens_no_store(tmp_path: Path) -> None:
    data_dir = tmp_path / "never-created"
    env = {**os.environ, "PAPERBRIEF_DATA_DIR": str(data_dir)}
    subprocess.run(
        [sys.executable, "-c", "import agent.studio as g; assert g.graph.get_graph().nodes"],
        check=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert not data_dir.exists()
