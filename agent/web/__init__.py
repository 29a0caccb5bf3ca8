"""`paperbrief serve`: the local web app and the OpenAI-compatible chat API, on one server.

- `agent/web/app.py`: the Starlette app (`create_app`): pages (search, paper, chat, compare,
  briefings archive, library) rendered with Jinja2 templates from `agent/templates/web/`, the
  chat's server-sent events, and background jobs (ingest, briefing) with visible progress;
- `agent/web/openai_api.py`: `/v1/models` and `/v1/chat/completions` (streaming or not), so
  any OpenAI-compatible chat UI can use paperbrief as a "model" whose answers cite papers.

Both are thin clients of `PaperBrief`; no agent logic lives here.
"""

from agent.web.app import create_app

__all__ = ["create_app"]
