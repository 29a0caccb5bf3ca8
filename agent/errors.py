"""paperbrief's public errors, in one module; `agent` re-exports them all.

Catch these (or `KeyError` / `ValueError`, which the lookup and input errors also are) rather
than the modules that raise them. The store's errors are defined in `store/errors.py`, since
`store/` never imports `agent/`, and re-exported here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from agent.results import Usage
from store.errors import EmbeddingError, RecordError, SourceError, StoreError, StoreMismatchError


class LLMError(Exception):
    """An LLM call failed; the message says where, why, and after how many attempts."""

    def __init__(
        self,
        reason: str,
        *,
        base_url: str,
        model: str,
        status: int | None = None,
        body: str | None = None,
        param: str | None = None,
        attempts: int = 0,
        seconds: float = 0.0,
    ) -> None:
        self.reason = reason
        self.base_url = base_url
        self.model = model
        self.status = status
        self.body = body
        self.param = param
        self.attempts = attempts
        self.seconds = seconds
        self.usage: Usage | None = None
        """What the failed call spent (requests, tokens), when it got as far as the server."""
        where = f"LLM {model!r} at {base_url}"
        if attempts:
            plural = "s" if attempts != 1 else ""
            where += f" failed after {attempts} attempt{plural} in {seconds:.1f} s"
        super().__init__(f"{where}: {reason}")


class LLMTruncatedError(LLMError):
    """The reply stopped at max_tokens (`finish_reason` "length") before it was complete."""


class LLMRepetitionError(LLMError):
    """The reply repeated itself in a loop and was stopped."""


class LLMInvalidReplyError(LLMError):
    """The reply did not match the schema, even after one repair attempt."""


class UnsupportedTakeawayError(ValueError):
    """The LLM's takeaway kept stating numbers the abstract does not contain."""

    def __init__(self, paper_id: str, numbers: str) -> None:
        super().__init__(
            f"the LLM's takeaway for {paper_id} states numbers not in its abstract even after "
            f"one rewrite: {numbers}"
        )


class InvalidInputError(ValueError):
    """An argument is out of range or too large (`agent.inputs` documents the bounds); the
    message names the argument and the bound."""


class PaperNotFoundError(KeyError):
    """No stored paper has the requested id."""

    def __str__(self) -> str:
        # KeyError's own str() wraps the message in quotes.
        return str(self.args[0]) if self.args else "paper not found"


class UnknownPapersError(KeyError):
    """`compare(paper_ids=...)` named ids that are not in the store."""

    def __init__(self, missing: Sequence[str]) -> None:
        self.missing = list(missing)
        super().__init__(f"unknown paper id(s): {', '.join(self.missing)}")

    def __str__(self) -> str:
        return str(self.args[0])


class UnknownLikedPapersError(KeyError):
    """Liked paper ids that are not in the store."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown liked papers"


class BindError(ValueError):
    """A server was asked to bind a non-loopback address without a token."""


class MailError(Exception):
    """Mail cannot be sent as configured (no host, no recipients) or the server refused it."""


class PromptError(ValueError):
    """A prompt file is missing, malformed, or rendered with the wrong variables."""


class MissingVariables(PromptError):
    """A prompt was rendered without a variable it declares."""

    def __init__(self, name: str, missing: Iterable[str]) -> None:
        self.name = name
        self.missing = sorted(missing)
        super().__init__(f"prompt {name!r} needs variables not given: {', '.join(self.missing)}")


class UnusedVariables(PromptError):
    """A prompt was rendered with a variable it does not use."""

    def __init__(self, name: str, unused: Iterable[str]) -> None:
        self.name = name
        self.unused = sorted(unused)
        super().__init__(f"prompt {name!r} does not use variables given: {', '.join(self.unused)}")


# What the command line and the MCP tools report as a one-line error instead of a traceback:
# the user can fix these (a bad path, id, setting or input), the program is not at fault.
USER_ERRORS: tuple[type[Exception], ...] = (
    SourceError,
    StoreError,
    PaperNotFoundError,
    UnknownPapersError,
    UnknownLikedPapersError,
    LLMError,
    MailError,
    BindError,
    FileNotFoundError,
    ValueError,
)

__all__ = [
    "USER_ERRORS",
    "BindError",
    "EmbeddingError",
    "InvalidInputError",
    "LLMError",
    "LLMInvalidReplyError",
    "LLMRepetitionError",
    "LLMTruncatedError",
    "MailError",
    "MissingVariables",
    "PaperNotFoundError",
    "PromptError",
    "RecordError",
    "SourceError",
    "StoreError",
    "StoreMismatchError",
    "UnknownLikedPapersError",
    "UnknownPapersError",
    "UnsupportedTakeawayError",
    "UnusedVariables",
]
