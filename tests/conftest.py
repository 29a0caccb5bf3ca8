"""Fixtures every test package can use."""

from tests.support.openai_server import openai_server  # noqa: F401  (OpenAI-format test server)
