"""`answer_events`: `PaperBrief.ask_stream` as an async iterator, for the streaming routes.

The agent streams from a blocking generator (LangGraph runs the graph in threads); the web
routes are async. One thread drives the generator and hands each event over a queue, so the
event loop never blocks and a slow answer holds no server worker. A failure becomes a final
`{"event": "error", "message": ...}`: the user's mistake in its own words, anything else
logged with its traceback.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import AsyncIterator
from typing import Any

import anyio.to_thread

from agent.api import PaperBrief

log = logging.getLogger(__name__)


async def answer_events(
    pb: PaperBrief, question: str, thread_id: str | None
) -> AsyncIterator[dict[str, Any]]:
    """The events of `pb.ask_stream(question, thread_id)`, then an `error` event if it failed."""
    from agent.errors import USER_ERRORS

    events: queue.Queue[dict[str, Any] | None] = queue.Queue()

    def produce() -> None:
        try:
            for event in pb.ask_stream(question, thread_id=thread_id):
                events.put(event)
        except USER_ERRORS as exc:
            events.put({"event": "error", "message": str(exc)})
        except Exception as exc:
            log.exception("answering %r failed", question)
            events.put({"event": "error", "message": f"internal error: {exc}"})
        finally:
            events.put(None)

    threading.Thread(target=produce, name="ask-stream", daemon=True).start()
    while True:
        event = await anyio.to_thread.run_sync(events.get)
        if event is None:
            return
        yield event
