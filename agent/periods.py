"""Briefing periods: an ISO week (`2025-W21`), a `since..until` range, or the last complete
week; and the label the sent ledger keys a briefing by.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

_ISO_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)


def iso_week_range(label: str) -> tuple[date, date]:
    """`2025-W21` -> (Monday 2025-05-19, Sunday 2025-05-25)."""
    match = _ISO_WEEK.match(label.strip())
    if not match:
        raise ValueError(f"{label!r} is not an ISO week (expected YYYY-Www, e.g. 2025-W21)")
    year, week = int(match.group(1)), int(match.group(2))
    try:
        monday = date.fromisocalendar(year, week, 1)
    except ValueError:
        raise ValueError(f"{label!r}: {year} has no ISO week {week}") from None
    return monday, monday + timedelta(days=6)


def last_complete_week(today: date | None = None) -> tuple[date, date]:
    """Monday..Sunday of the last ISO week that has ended before `today` (default: today)."""
    today = today or date.today()
    this_monday = today - timedelta(days=today.weekday())
    return this_monday - timedelta(days=7), this_monday - timedelta(days=1)


def period_label(start: date, end: date) -> str:
    """`2025-W21` for an ISO week, else `2025-05-19..2025-05-25` (the ledger's key)."""
    iso = start.isocalendar()
    if iso.weekday == 1 and (end - start).days == 6:
        return f"{iso.year}-W{iso.week:02d}"
    return f"{start.isoformat()}..{end.isoformat()}"


def resolve_period(
    week: str | None = None, since: date | None = None, until: date | None = None
) -> tuple[date, date]:
    """The period a command names: an ISO week, a range, or the last complete ISO week."""
    if week and (since or until):
        raise ValueError("give either a week or --since/--until, not both")
    if week:
        return iso_week_range(week)
    if since or until:
        start = since or (until - timedelta(days=6) if until else None)
        end = until or (since + timedelta(days=6) if since else None)
        assert start is not None and end is not None
        if end < start:
            raise ValueError(f"the period ends ({end}) before it starts ({start})")
        return start, end
    return last_complete_week()
