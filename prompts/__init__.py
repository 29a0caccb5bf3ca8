"""The prompt files (`*.md`), shipped as package data; `agent.prompts` renders them strictly."""

from pathlib import Path

PROMPTS_DIR = Path(__file__).parent
