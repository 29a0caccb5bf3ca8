"""Rendering a `Briefing` as Markdown, as mail-client-safe HTML and as plain text.

Paper text is text in every rendering: titles, takeaways, reasons and theme names go through
`agent.markup.escape_markdown` in the Markdown, through Jinja2's autoescape in the HTML, and
lose control characters and line breaks in the plain text; takeaways and reasons lose any
bracketed number (only the project's own citation marks are citations); links only ever point
at URLs `agent.markup.safe_url` accepts.

The HTML is built for mail clients, which strip `<style>` blocks and scripts and do not load
remote assets: the template `templates/email/briefing.html` in the shared Jinja2 environment,
one table-based layout, inline CSS only, no images, no scripts.

The three renderings share one outline: header, top picks, trending, themes (summary and
papers with takeaways), and papers already sent in an earlier briefing.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping
from datetime import date

from markupsafe import Markup

from agent.markup import environment, escape_markdown, one_line, plural, safe_url
from agent.markup import unescape_markdown as _unescape
from agent.results import Briefing, Theme
from agent.verify import strip_citation_marks
from store.models import Paper

_WIDTH = 78
NOTHING_NEW = "No papers in the store for this period."
# `<` or `>` not already escaped (preceded by an even number of backslashes).
_UNESCAPED_ANGLE = re.compile(r"(?<!\\)((?:\\\\)*)([<>])")

# One palette and font stack for every inline style, so the HTML reads as one document.
_FONT = "-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif"
_INK = "#1f2328"
_MUTED = "#59636e"
_ACCENT = "#0b57d0"
_RULE = "#d8dee4"
_PAGE = "#f3f4f6"
_BADGE = "#fff4d6"


def week_title(start: date, end: date) -> str:
    """`2025-W21 (19 May – 25 May 2025)` for an ISO week, else the date range."""
    iso = start.isocalendar()
    is_iso_week = iso.weekday == 1 and (end - start).days == 6
    span = f"{start:%d %b} – {end:%d %b %Y}" if start.year == end.year else f"{start} – {end}"
    span = span.lstrip("0").replace("– 0", "– ")
    return f"{iso.year}-W{iso.week:02d} ({span})" if is_iso_week else span


def _all_papers(briefing: Briefing) -> list[Paper]:
    return [paper for theme in briefing.themes for paper in theme.papers]


def _clean(text: str) -> str:
    return one_line(text)


def _claim(text: str) -> str:
    """A takeaway or reason as one line of text without bracketed numbers: only the project's
    own marks are citations, and these lines carry none."""
    return strip_citation_marks(one_line(text))


def _paper_meta(paper: Paper) -> list[str]:
    meta = []
    if paper.published:
        meta.append(paper.published.isoformat())
    if paper.upvotes is not None:
        meta.append(f"{paper.upvotes} upvotes")
    if paper.author_count:
        meta.append(f"{paper.author_count} authors")
    return meta


# --- Markdown ------------------------------------------------------------------------------


def _md_link(paper: Paper) -> str:
    url = safe_url(paper.url)
    title = escape_markdown(paper.title)
    return f"[{title}]({url})" if url else title


def render_markdown(
    briefing: Briefing, earlier: Mapping[str, Paper] | None = None, title: str = "paperbrief weekly"
) -> str:
    """The briefing as Markdown; `earlier` maps the ids of `already_sent` to their papers."""
    earlier = earlier or {}
    updated = set(briefing.updated)
    papers = _all_papers(briefing)
    out = [
        f"# {escape_markdown(briefing_heading(briefing, title))}",
        "",
        f"_{summary_line(briefing)}_",
        "",
    ]
    for notice in briefing.notices:
        out += [f"> {escape_markdown(notice)}", ""]
    if briefing.picks or briefing.picks_notice:
        out += ["## Top picks", ""]
        for n, pick in enumerate(briefing.picks, 1):
            mark = " **(updated)**" if pick.paper.id in updated else ""
            reason = escape_markdown(_claim(pick.reason))
            out.append(f"{n}. **{_md_link(pick.paper)}**{mark} — {reason}")
        if briefing.picks_notice:
            line = f"_{escape_markdown(briefing.picks_notice)}_"
            out += ["", line] if briefing.picks else [line]
        out.append("")
    if briefing.trending:
        out += ["## Trending", ""]
        for paper in briefing.trending:
            mark = " **(updated)**" if paper.id in updated else ""
            out.append(f"- {_md_link(paper)}{mark} — {paper.upvotes or 0} upvotes")
        out.append("")
    if papers:
        out += ["## Themes", ""]
    for n, theme in enumerate(briefing.themes, 1):
        count = plural(len(theme.papers), "paper")
        number = "" if theme.other else f"{n}. "  # the week's other papers go unnumbered
        out += [f"### {number}{escape_markdown(theme.name)} ({count})", ""]
        summary = theme_summary_markdown(theme)
        if summary:
            out += [summary, ""]
        for k, paper in enumerate(theme.papers, 1):
            mark = " **(updated)**" if paper.id in updated else ""
            line = f"- \\[{k}\\] **{_md_link(paper)}**{mark}"
            meta = _paper_meta(paper)
            if meta:
                line += f" · {' · '.join(meta)}"
            takeaway = theme.takeaways.get(paper.id)
            if takeaway:
                line += f"  \n  {escape_markdown(_claim(takeaway))}"
            out.append(line)
        out.append("")
    if briefing.already_sent:
        out += ["## Already in an earlier briefing", ""]
        for paper_id in briefing.already_sent:
            known = earlier.get(paper_id)
            out.append(f"- {_md_link(known)}" if known else f"- {escape_markdown(paper_id)}")
        out.append("")
    if not papers and not briefing.already_sent:
        out += [NOTHING_NEW, ""]
    return "\n".join(out).rstrip() + "\n"


def theme_summary_markdown(theme: Theme) -> str:
    """The theme's written comparison, fitted into the briefing.

    Kept: what the papers share, where they differ, the written comparison and which to read
    first. Left out: the comparison's heading, its per-paper table and source list (the theme
    lists every paper with its takeaway), the offline label (the briefing says once who wrote
    it) and the verifier's removed sentences. Citation marks are renumbered from the
    comparison's source list to the theme's own numbered paper list, so `[2]` points at the
    second paper listed under the theme.
    """
    position = {paper.id: n for n, paper in enumerate(theme.papers, 1)}
    renumber = {
        source.n: position[source.paper_id]
        for source in theme.summary.sources
        if source.paper_id in position
    }
    kept: list[str] = []
    in_details = False
    for line in theme.summary.markdown.splitlines():
        stripped = line.strip()
        if re.match(r"^(\*\*)?(sources|references)(\*\*)?:?$", stripped, re.IGNORECASE):
            break
        if stripped.startswith("<details"):
            in_details = True
        if in_details:
            in_details = not stripped.startswith("</details")
            continue
        if stripped.startswith(("#", "|", "_Offline")):
            continue
        kept.append(line)

    def cite(match: re.Match[str]) -> str:
        numbers = sorted(
            {renumber[int(n)] for n in re.findall(r"\d+", match.group(0)) if int(n) in renumber}
        )
        return "[" + ", ".join(str(n) for n in numbers) + "]" if numbers else ""

    # Raw HTML in an abstract-derived sentence must stay text in every rendering; the writers
    # escape paper text already, so only a `<` not yet escaped is escaped here.
    body = _UNESCAPED_ANGLE.sub(r"\1\\\2", "\n".join(_inline_short_lists(kept)))
    text = re.sub(r"\[\d+(?:,\s*\d+)*\]", cite, body)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _inline_short_lists(lines: list[str]) -> list[str]:
    """A bullet list of single terms ("- diffusion", "- decoding") as one line of terms."""
    out: list[str] = []
    k = 0
    while k < len(lines):
        run: list[str] = []
        while k + len(run) < len(lines) and lines[k + len(run)].startswith("- "):
            run.append(lines[k + len(run)][2:].strip())
        if run and all(len(item.split()) <= 3 and "[" not in item for item in run):
            out.append(" · ".join(run))
            k += len(run)
        elif run:
            out.extend(f"- {item}" for item in run)
            k += len(run)
        else:
            out.append(lines[k])
            k += 1
    return out


def briefing_heading(briefing: Briefing, title: str = "paperbrief weekly") -> str:
    return f"{title} — {week_title(briefing.start, briefing.end)}"


def summary_line(briefing: Briefing) -> str:
    papers = _all_papers(briefing)
    others = sum(len(t.papers) for t in briefing.themes if t.other)
    parts = [
        plural(len(papers), "new paper"),
        plural(sum(1 for t in briefing.themes if not t.other), "theme"),
    ]
    if others:
        parts.append(plural(others, "other paper"))
    if briefing.updated:
        parts.append(f"{len(briefing.updated)} updated")
    if briefing.already_sent:
        parts.append(f"{len(briefing.already_sent)} already sent")
    writer = "LLM" if briefing.mode == "llm" else "offline extractive writer"
    return ", ".join(parts) + f"; written by the {writer}"


# --- Plain text ----------------------------------------------------------------------------


def _wrap(text: str, indent: str = "", first: str | None = None) -> list[str]:
    return textwrap.wrap(
        text,
        width=_WIDTH,
        initial_indent=indent if first is None else first,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [first or indent]


def _plain(markdown: str) -> str:
    """Markdown from the summaries without its markup, for the text part of a mail."""
    text = re.sub(r"\[([^\]]+)\]\((https?://[^)]+)\)", r"\1 <\2>", markdown)
    text = re.sub(r"\*\*([^*]+)\*\*", r"\1", text)
    return _unescape(text)


def render_text(
    briefing: Briefing, earlier: Mapping[str, Paper] | None = None, title: str = "paperbrief weekly"
) -> str:
    """The briefing as plain text, wrapped at 78 columns (the text/plain part of the mail)."""
    earlier = earlier or {}
    updated = set(briefing.updated)
    heading = briefing_heading(briefing, title)
    out = [heading, "=" * len(heading), *_wrap(summary_line(briefing)), ""]
    for notice in briefing.notices:
        out += [*_wrap(_clean(notice), "  ", "! "), ""]

    def section(title: str) -> None:
        out.extend([title, "-" * len(title), ""])

    def paper_lines(paper: Paper, bullet: str, extra: str | None = None) -> None:
        title = _clean(paper.title) + (" (updated)" if paper.id in updated else "")
        out.extend(_wrap(title, " " * len(bullet), bullet))
        meta = _paper_meta(paper)
        url = safe_url(paper.url)
        if url:
            meta.append(url)
        if meta:
            out.extend(_wrap(" · ".join(meta), " " * len(bullet)))
        if extra:
            out.extend(_wrap(_claim(extra), " " * len(bullet)))

    if briefing.picks or briefing.picks_notice:
        section("Top picks")
        for n, pick in enumerate(briefing.picks, 1):
            paper_lines(pick.paper, f"{n}. ", pick.reason)
        if briefing.picks_notice:
            out.extend(_wrap(_clean(briefing.picks_notice), ""))
        out.append("")
    if briefing.trending:
        section("Trending")
        for paper in briefing.trending:
            paper_lines(paper, "- ")
        out.append("")
    for n, theme in enumerate(briefing.themes, 1):
        label = _clean(theme.name) if theme.other else f"Theme {n}: {_clean(theme.name)}"
        section(f"{label} ({plural(len(theme.papers), 'paper')})")
        summary = _plain(theme_summary_markdown(theme))
        for paragraph in summary.split("\n\n"):
            for block in paragraph.split("\n"):
                block = block.strip()
                if block:
                    bullet = "- " if block.startswith(("- ", "* ")) else ""
                    out.extend(_wrap(block[len(bullet) :], " " * len(bullet), bullet))
            out.append("")
        for k, paper in enumerate(theme.papers, 1):
            paper_lines(paper, f"[{k}] ", theme.takeaways.get(paper.id))
        out.append("")
    if briefing.already_sent:
        section("Already in an earlier briefing")
        for paper_id in briefing.already_sent:
            known = earlier.get(paper_id)
            out.extend(_wrap(_clean(known.title if known else paper_id), "  ", "- "))
        out.append("")
    if not briefing.themes and not briefing.already_sent:
        out += [NOTHING_NEW, ""]
    return "\n".join(out).rstrip() + "\n"


# --- HTML ----------------------------------------------------------------------------------

# Inline styles for the Markdown of a theme summary (mail clients drop <style> blocks).
_SUMMARY_STYLES = {
    "p": f"margin:0 0 10px 0;font-size:14px;line-height:1.5;color:{_INK};",
    "h": f"margin:0 0 10px 0;font-size:14px;line-height:1.5;color:{_INK};font-weight:600;",
    "ul": f"margin:0 0 10px 0;padding-left:20px;font-size:14px;line-height:1.5;color:{_INK};",
    "ol": f"margin:0 0 10px 0;padding-left:20px;font-size:14px;line-height:1.5;color:{_INK};",
    "li": "margin:0 0 4px 0;",
    "a": f"color:{_ACCENT};",
    "code": "font-size:13px;",
    "table": "border-collapse:collapse;margin:0 0 12px 0;width:100%;",
    "th": f"padding:6px 8px;border:1px solid {_RULE};font-size:13px;vertical-align:top;"
    f"background:{_PAGE};text-align:left;",
    "td": f"padding:6px 8px;border:1px solid {_RULE};font-size:13px;vertical-align:top;",
}
_PALETTE = {
    "font": Markup(_FONT),
    "ink": _INK,
    "muted": _MUTED,
    "accent": _ACCENT,
    "rule": _RULE,
    "page": _PAGE,
    "badge": _BADGE,
}


def _html_paper(
    paper: Paper, updated: set[str], note: str | None = None, prefix: str = ""
) -> dict[str, object]:
    code = next((u for u in paper.code_urls if safe_url(u)), None)
    return {
        "prefix": prefix,
        "title": _clean(paper.title),
        "url": safe_url(paper.url),
        "updated": paper.id in updated,
        "meta": _paper_meta(paper),
        "code_url": safe_url(code),
        "note": _claim(note) if note else None,
    }


def _section(title: str, **parts: object) -> dict[str, object]:
    return {"title": title, "count": "", "summary": "", "papers": [], "earlier": [],
            "empty": "", **parts}  # fmt: skip


def render_html(
    briefing: Briefing, earlier: Mapping[str, Paper] | None = None, title: str = "paperbrief weekly"
) -> str:
    """The briefing as a self-contained HTML mail: inline CSS, tables, no scripts or images.

    Rendered by `templates/email/briefing.html` in the shared Jinja2 environment
    (`agent.markup`): autoescaped, with theme summaries through markdown-it (raw HTML off,
    links checked)."""
    earlier = earlier or {}
    updated = set(briefing.updated)
    sections = []
    if briefing.picks or briefing.picks_notice:
        picks = [
            _html_paper(pick.paper, updated, pick.reason, prefix=f"{n}. ")
            for n, pick in enumerate(briefing.picks, 1)
        ]
        notice = _clean(briefing.picks_notice or "")
        sections.append(_section("Top picks", papers=picks, empty=notice))
    if briefing.trending:
        trending = [_html_paper(p, updated) for p in briefing.trending]
        sections.append(_section("Trending", papers=trending))
    for n, theme in enumerate(briefing.themes, 1):
        papers = [
            _html_paper(p, updated, theme.takeaways.get(p.id), prefix=f"[{k}] ")
            for k, p in enumerate(theme.papers, 1)
        ]
        sections.append(
            _section(
                _clean(theme.name) if theme.other else f"{n}. {_clean(theme.name)}",
                count=plural(len(theme.papers), "paper"),
                summary=theme_summary_markdown(theme),
                papers=papers,
            )
        )
    if briefing.already_sent:
        items = []
        for paper_id in briefing.already_sent:
            paper = earlier.get(paper_id)
            items.append(
                {"title": _clean(paper.title), "url": safe_url(paper.url)}
                if paper
                else {"title": _clean(paper_id), "url": None}
            )
        sections.append(_section("Already in an earlier briefing", earlier=items))
    if not briefing.themes and not briefing.already_sent:
        sections.append(_section("Nothing new", empty=NOTHING_NEW))
    template = environment().get_template("email/briefing.html")
    return template.render(
        heading=_clean(briefing_heading(briefing, title)),
        summary=summary_line(briefing),
        notices=[_clean(n) for n in briefing.notices],
        sections=sections,
        summary_styles=_SUMMARY_STYLES,
        palette=_PALETTE,
    )
