"""Writers: everything the agent does differently with and without an LLM, behind one protocol.

`Writer` (in `agent.writers.base`) is what the graph's nodes call to route a request, plan
search queries, grade papers, extract evidence, write an answer or a comparison, rewrite a
sentence that failed verification, and write a paper's takeaway. Two implementations:

- `agent.writers.extractive.ExtractiveWriter`: offline, deterministic, every claim a sentence of
  the abstract it cites (the default; no LLM needed);
- `agent.writers.llm.LLMWriter`: any OpenAI-compatible chat model, asked for typed replies.

Which one writes is decided once, where `PaperBrief` builds its dependencies; the writer's
`mode` is what every result and briefing reports.
"""

from agent.writers.base import AnswerTask, Writer

__all__ = ["AnswerTask", "Writer"]
