"""paperbrief's public Python API: `PaperBrief`, its settings and the typed results it returns.

Example: `pb = PaperBrief(data_dir="./paperbrief-data")`, then `pb.ingest_sample()`, then
`pb.ask("How do recent methods speed up diffusion language models?").markdown`.
"""

from agent.api import PaperBrief
from agent.errors import (
    BindError,
    EmbeddingError,
    InvalidInputError,
    LLMError,
    LLMInvalidReplyError,
    LLMRepetitionError,
    LLMTruncatedError,
    MailError,
    MissingVariables,
    PaperNotFoundError,
    PromptError,
    RecordError,
    SourceError,
    StoreError,
    StoreMismatchError,
    UnknownLikedPapersError,
    UnknownPapersError,
    UnsupportedTakeawayError,
    UnusedVariables,
)
from agent.prompts import render as render_prompt
from agent.results import (
    Answer,
    Briefing,
    Comparison,
    ComparisonRow,
    InterestMatch,
    ReadingList,
    Recommendation,
    RemovedSentence,
    Source,
    Theme,
    Usage,
)
from agent.settings import Settings, load_settings
from store.models import Hit, IngestReport, Paper, Rejection

__all__ = [
    "Answer",
    "BindError",
    "Briefing",
    "Comparison",
    "ComparisonRow",
    "EmbeddingError",
    "Hit",
    "IngestReport",
    "InterestMatch",
    "InvalidInputError",
    "LLMError",
    "LLMInvalidReplyError",
    "LLMRepetitionError",
    "LLMTruncatedError",
    "MailError",
    "MissingVariables",
    "Paper",
    "PaperBrief",
    "PaperNotFoundError",
    "PromptError",
    "ReadingList",
    "Recommendation",
    "RecordError",
    "Rejection",
    "RemovedSentence",
    "Settings",
    "Source",
    "SourceError",
    "StoreError",
    "StoreMismatchError",
    "Theme",
    "UnknownLikedPapersError",
    "UnknownPapersError",
    "UnsupportedTakeawayError",
    "UnusedVariables",
    "Usage",
    "load_settings",
    "render_prompt",
]
