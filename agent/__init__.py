"""paperbrief's public Python API.

    from agent import PaperBrief
    pb = PaperBrief(data_dir="./paperbrief-data")
    pb.ingest(sample_corpus_path())
    pb.ask("How do recent methods speed up diffusion language models?")
"""

from agent.api import PaperBrief
from agent.results import (
    Answer,
    Briefing,
    Comparison,
    ComparisonRow,
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
    "Briefing",
    "Comparison",
    "ComparisonRow",
    "Hit",
    "IngestReport",
    "Paper",
    "PaperBrief",
    "Recommendation",
    "Rejection",
    "RemovedSentence",
    "Settings",
    "Source",
    "Theme",
    "Usage",
    "load_settings",
]
