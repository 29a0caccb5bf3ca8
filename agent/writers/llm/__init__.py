"""The LLM writer: any OpenAI-compatible chat model (`agent.llm.ChatLLM`), asked for typed
replies (`schemas.py`) through the prompts in `prompts/`, citing papers by number
(`citations.py`). Its sentences go through the same verifier as the extractive writer's.
"""

from agent.writers.llm.writer import LLMWriter

__all__ = ["LLMWriter"]
