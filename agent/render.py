"""Rendering a `Briefing` as Markdown, as mail-client-safe HTML and as plain text.

The HTML is built for mail clients, which strip `<style>` blocks and scripts and do not load
remote assets: one table-based layout, inline CSS only, no images, no scripts. Every piece of
text that comes from a paper (titles, abstracts, takeaways, the written summaries that quote
them) passes through `html.escape`; the only markup that reaches the HTML is what this module
writes, and links only ever point at http(s) URLs.

The three renderings share one outline: header, top picks, trending, themes (summary and
papers with takeaways), and papers already sent in an earlier briefing.
"""

from __future__ import annotations

import html
import re
import textwrap
from collections.abc import Iterable, Mapping
from datetime import date

from agent.results import Briefing, Recommendation, Theme
from store.models import Paper

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")
_SAFE_URL = re.compile(r"^https?://[^\s\"'<>]+$")
_WIDTH = 78

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


def _safe_url(url: str | None) -> str | None:
    return url if url and _SAFE_URL.match(url) else None


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


def md_escape(text: str) -> str:
    """Text from a paper, made inert in Markdown (no links, emphasis or raw HTML)."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def _md_link(paper: Paper) -> str:
    url = _safe_url(paper.url)
    title = md_escape(paper.title)
    return f"[{title}]({url})" if url else title


def render_markdown(
    briefing: Briefing, earlier: Mapping[str, Paper] | None = None, title: str = "paperbrief weekly"
) -> str:
    """The briefing as Markdown; `earlier` maps the ids of `already_sent` to their papers."""
    earlier = earlier or {}
    updated = set(briefing.updated)
    papers = _all_papers(briefing)
    out = [
        f"# {md_escape(briefing_heading(briefing, title))}",
        "",
        f"_{summary_line(briefing)}_",
        "",
    ]
    if briefing.picks:
        out += ["## Top picks", ""]
        for n, pick in enumerate(briefing.picks, 1):
            mark = " **(updated)**" if pick.paper.id in updated else ""
            out.append(f"{n}. **{_md_link(pick.paper)}**{mark} — {md_escape(pick.reason)}")
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
        out += [f"### {n}. {md_escape(theme.name)} ({_count(len(theme.papers), 'paper')})", ""]
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
                line += f"  \n  {md_escape(takeaway)}"
            out.append(line)
        out.append("")
    if briefing.already_sent:
        out += ["## Already in an earlier briefing", ""]
        for paper_id in briefing.already_sent:
            known = earlier.get(paper_id)
            out.append(f"- {_md_link(known)}" if known else f"- {md_escape(paper_id)}")
        out.append("")
    if not papers and not briefing.already_sent:
        out += ["No papers in the store for this period.", ""]
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

    # Raw HTML in an abstract-derived sentence must stay text in every rendering.
    body = "\n".join(_inline_short_lists(kept)).replace("<", "\\<").replace(">", "\\>")
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
    parts = [
        _count(len(papers), "new paper"),
        _count(len(briefing.themes), "theme"),
    ]
    if briefing.updated:
        parts.append(f"{len(briefing.updated)} updated")
    if briefing.already_sent:
        parts.append(f"{len(briefing.already_sent)} already sent")
    writer = "LLM" if briefing.mode == "llm" else "offline extractive writer"
    return ", ".join(parts) + f"; written by the {writer}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


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
    text = re.sub(r"\\([\\`*_\[\]<>#|])", r"\1", text)
    return text


def render_text(
    briefing: Briefing, earlier: Mapping[str, Paper] | None = None, title: str = "paperbrief weekly"
) -> str:
    """The briefing as plain text, wrapped at 78 columns (the text/plain part of the mail)."""
    earlier = earlier or {}
    updated = set(briefing.updated)
    heading = briefing_heading(briefing, title)
    out = [heading, "=" * len(heading), *_wrap(summary_line(briefing)), ""]

    def section(title: str) -> None:
        out.extend([title, "-" * len(title), ""])

    def paper_lines(paper: Paper, bullet: str, extra: str | None = None) -> None:
        title = paper.title + (" (updated)" if paper.id in updated else "")
        out.extend(_wrap(title, " " * len(bullet), bullet))
        meta = _paper_meta(paper)
        url = _safe_url(paper.url)
        if url:
            meta.append(url)
        if meta:
            out.extend(_wrap(" · ".join(meta), " " * len(bullet)))
        if extra:
            out.extend(_wrap(extra, " " * len(bullet)))

    if briefing.picks:
        section("Top picks")
        for n, pick in enumerate(briefing.picks, 1):
            paper_lines(pick.paper, f"{n}. ", pick.reason)
        out.append("")
    if briefing.trending:
        section("Trending")
        for paper in briefing.trending:
            paper_lines(paper, "- ")
        out.append("")
    for n, theme in enumerate(briefing.themes, 1):
        section(f"Theme {n}: {theme.name} ({_count(len(theme.papers), 'paper')})")
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
            out.extend(_wrap(known.title if known else paper_id, "  ", "- "))
        out.append("")
    if not briefing.themes and not briefing.already_sent:
        out += ["No papers in the store for this period.", ""]
    return "\n".join(out).rstrip() + "\n"


# --- HTML ----------------------------------------------------------------------------------


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _link(text: str, url: str | None, style: str) -> str:
    safe = _safe_url(url)
    if not safe:
        return f'<span style="{style}">{_e(text)}</span>'
    return f'<a href="{_e(safe)}" style="{style}text-decoration:none;">{_e(text)}</a>'


def _inline_md(text: str) -> str:
    """Escape, then turn the Markdown the writers emit (bold, code, links) into markup."""
    escaped = _e(text)
    escaped = re.sub(
        r"\[([^\]]+)\]\((https?://[^)\s&quot;]+)\)",
        lambda m: f'<a href="{m.group(2)}" style="color:{_ACCENT};">{m.group(1)}</a>',
        escaped,
    )
    escaped = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", escaped)
    escaped = re.sub(r"`([^`]+)`", r'<code style="font-size:13px;">\1</code>', escaped)
    # Markdown backslash escapes: the character itself (already HTML-escaped above).
    return re.sub(r"\\(\\|`|\*|_|\[|\]|#|\||&lt;|&gt;)", r"\1", escaped)


def markdown_to_html(markdown: str) -> str:
    """The block subset the comparison writers emit (paragraphs, lists, tables) as email HTML.

    Everything is escaped first; only the markup built here is emitted.
    """
    p_style = f"margin:0 0 10px 0;font-size:14px;line-height:1.5;color:{_INK};"
    out: list[str] = []
    lines = markdown.splitlines()
    k = 0
    while k < len(lines):
        line = lines[k].rstrip()
        stripped = line.strip()
        if not stripped:
            k += 1
            continue
        if stripped.startswith("|"):
            rows = []
            while k < len(lines) and lines[k].strip().startswith("|"):
                cells = [c.strip() for c in lines[k].strip().strip("|").split("|")]
                if not all(re.fullmatch(r":?-{2,}:?", c) for c in cells):
                    rows.append(cells)
                k += 1
            out.append(_html_table(rows))
            continue
        list_match = re.match(r"^([-*]|\d+\.)\s+", stripped)
        if list_match:
            tag = "ol" if stripped[0].isdigit() else "ul"
            items = []
            while k < len(lines):
                item = re.match(r"^\s*([-*]|\d+\.)\s+(.*)$", lines[k])
                if not item:
                    break
                items.append(f'<li style="margin:0 0 4px 0;">{_inline_md(item.group(2))}</li>')
                k += 1
            out.append(
                f'<{tag} style="margin:0 0 10px 0;padding-left:20px;font-size:14px;'
                f'line-height:1.5;color:{_INK};">{"".join(items)}</{tag}>'
            )
            continue
        heading = re.match(r"^#{1,6}\s+(.*)$", stripped)
        if heading:
            out.append(f'<p style="{p_style}font-weight:600;">{_inline_md(heading.group(1))}</p>')
            k += 1
            continue
        para = []
        while (
            k < len(lines)
            and lines[k].strip()
            and not re.match(r"^\s*([-*]|\d+\.|\||#{1,6})\s", lines[k])
        ):
            para.append(lines[k].strip())
            k += 1
        if not para:
            para.append(stripped)
            k += 1
        out.append(f'<p style="{p_style}">{_inline_md(" ".join(para))}</p>')
    return "\n".join(out)


def _html_table(rows: list[list[str]]) -> str:
    if not rows:
        return ""
    cell = f"padding:6px 8px;border:1px solid {_RULE};font-size:13px;vertical-align:top;"
    head, *body = rows
    parts = [
        '<table role="presentation" cellpadding="0" cellspacing="0" width="100%" '
        'style="border-collapse:collapse;margin:0 0 12px 0;">',
        "<tr>"
        + "".join(
            f'<th align="left" style="{cell}background:{_PAGE};">{_inline_md(c)}</th>' for c in head
        )
        + "</tr>",
    ]
    for row in body:
        parts.append("<tr>" + "".join(f'<td style="{cell}">{_inline_md(c)}</td>' for c in row))
        parts[-1] += "</tr>"
    parts.append("</table>")
    return "".join(parts)


def _html_section(title: str, body: Iterable[str]) -> str:
    return (
        '<tr><td style="padding:20px 28px 4px 28px;">'
        f'<h2 style="margin:0 0 12px 0;font-size:18px;line-height:1.3;color:{_INK};'
        f'border-bottom:2px solid {_RULE};padding-bottom:6px;">{_e(title)}</h2>'
        + "".join(body)
        + "</td></tr>"
    )


def _html_paper(paper: Paper, updated: bool, note: str | None, prefix: str = "") -> str:
    badge = (
        f' <span style="background:{_BADGE};color:#7a4d00;font-size:11px;font-weight:600;'
        'padding:1px 6px;border-radius:3px;">UPDATED</span>'
        if updated
        else ""
    )
    meta = _paper_meta(paper)
    meta_html = " · ".join(_e(m) for m in meta)
    for url in paper.code_urls[:1]:
        if _safe_url(url):
            meta_html += (" · " if meta_html else "") + _link("code", url, f"color:{_ACCENT};")
    title = _link(paper.title, paper.url, f"color:{_ACCENT};font-weight:600;")
    parts = [
        '<table role="presentation" cellpadding="0" cellspacing="0" width="100%" '
        'style="margin:0 0 12px 0;"><tr><td>',
        f'<div style="font-size:15px;line-height:1.4;color:{_INK};">'
        f"{_e(prefix)}{title}{badge}</div>",
    ]
    if meta_html:
        parts.append(
            f'<div style="font-size:12px;line-height:1.5;color:{_MUTED};">{meta_html}</div>'
        )
    if note:
        parts.append(
            f'<div style="font-size:14px;line-height:1.5;color:{_INK};margin-top:3px;">'
            f"{_e(note)}</div>"
        )
    parts.append("</td></tr></table>")
    return "".join(parts)


def _html_pick(n: int, pick: Recommendation, updated: bool) -> str:
    return _html_paper(pick.paper, updated, pick.reason, prefix=f"{n}. ")


def render_html(
    briefing: Briefing, earlier: Mapping[str, Paper] | None = None, title: str = "paperbrief weekly"
) -> str:
    """The briefing as a self-contained HTML mail: inline CSS, tables, no scripts or images."""
    earlier = earlier or {}
    updated = set(briefing.updated)
    heading = briefing_heading(briefing, title)
    sections = []
    if briefing.picks:
        sections.append(
            _html_section(
                "Top picks",
                (_html_pick(n, p, p.paper.id in updated) for n, p in enumerate(briefing.picks, 1)),
            )
        )
    if briefing.trending:
        sections.append(
            _html_section(
                "Trending", (_html_paper(p, p.id in updated, None) for p in briefing.trending)
            )
        )
    for n, theme in enumerate(briefing.themes, 1):
        body = [
            f'<p style="margin:0 0 10px 0;font-size:12px;color:{_MUTED};text-transform:uppercase;'
            f'letter-spacing:0.04em;">{_count(len(theme.papers), "paper")}</p>',
            markdown_to_html(theme_summary_markdown(theme)),
            f'<div style="border-top:1px solid {_RULE};margin:6px 0 12px 0;"></div>',
        ]
        body += [
            _html_paper(p, p.id in updated, theme.takeaways.get(p.id), prefix=f"[{k}] ")
            for k, p in enumerate(theme.papers, 1)
        ]
        sections.append(_html_section(f"{n}. {theme.name}", body))
    if briefing.already_sent:
        items = []
        for paper_id in briefing.already_sent:
            paper = earlier.get(paper_id)
            label = _link(paper.title, paper.url, f"color:{_MUTED};") if paper else _e(paper_id)
            items.append(f'<li style="margin:0 0 3px 0;">{label}</li>')
        sections.append(
            _html_section(
                "Already in an earlier briefing",
                [
                    f'<ul style="margin:0 0 12px 0;padding-left:20px;font-size:13px;'
                    f'line-height:1.5;color:{_MUTED};">{"".join(items)}</ul>'
                ],
            )
        )
    if not briefing.themes and not briefing.already_sent:
        sections.append(
            _html_section(
                "Nothing new",
                [f'<p style="color:{_MUTED};">No papers in the store for this period.</p>'],
            )
        )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{_e(heading)}</title></head>\n"
        f'<body style="margin:0;padding:0;background:{_PAGE};">\n'
        f'<table role="presentation" cellpadding="0" cellspacing="0" width="100%" '
        f'style="background:{_PAGE};"><tr><td align="center" style="padding:24px 12px;">\n'
        '<table role="presentation" cellpadding="0" cellspacing="0" width="640" '
        f'style="width:100%;max-width:640px;background:#ffffff;border:1px solid {_RULE};'
        f'border-radius:6px;font-family:{_FONT};color:{_INK};">\n'
        f'<tr><td style="padding:24px 28px 8px 28px;border-bottom:3px solid {_ACCENT};">'
        f'<h1 style="margin:0 0 6px 0;font-size:22px;line-height:1.3;color:{_INK};">'
        f"{_e(heading)}</h1>"
        f'<p style="margin:0 0 12px 0;font-size:13px;color:{_MUTED};">'
        f"{_e(summary_line(briefing))}</p></td></tr>\n"
        + "\n".join(sections)
        + f'\n<tr><td style="padding:16px 28px 24px 28px;font-size:12px;color:{_MUTED};">'
        "Written by paperbrief from the papers' abstracts; every summary sentence rests on the "
        "papers whose numbers it cites.</td></tr>\n"
        "</table>\n</td></tr></table>\n</body></html>\n"
    )
