"""The chat's HTML, built here and nowhere else so every piece of document text and every question
goes through ``html.escape`` once. Nothing is ever handed to a Markdown renderer: a document's
``![x](http://…)`` or ``<img onerror=…>`` must reach the page as the characters it is."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from html import escape
from typing import Any
from urllib.parse import quote

from qa.answering import Answer, CitedPassage

NOT_FOUND = "I could not find this in the documents."
CONTEXT_CHARS = 700  # shown on each side of a passage when it is opened in its document
_MARKER = re.compile(r"\s*\[(\d+)\]\s*$")
_BREAKS = re.compile(r"[^\S\n]*\n\s*")  # a line break with any blank lines around it
_SPACES = re.compile(r"[^\S\n]+")


def text(value: object) -> str:
    """Any value as HTML text: markup characters and quotes become entities."""
    return escape(str(value), quote=True)


def prose(value: str) -> str:
    """Document text as HTML text, blank lines and runs of spaces squeezed for reading."""
    return text(_SPACES.sub(" ", _BREAKS.sub("\n", value)))


def question_html(question: str) -> str:
    return f'<div class="qa-question">{text(question)}</div>'


def answer_html(answer: Answer) -> str:
    """The assistant's chat bubble: the answer sentence with its ``[n]`` marker, or not found."""
    parts: list[str] = []
    if answer.found and answer.answer:
        marker = _MARKER.search(answer.answer)
        sentence = answer.answer[: marker.start()] if marker else answer.answer
        cite = f' <span class="qa-cite">[{text(marker.group(1))}]</span>' if marker else ""
        parts.append(f'<p class="qa-answer-text">{text(sentence)}{cite}</p>')
        cited = _cited_passage(answer, marker)
        if cited is not None:
            parts.append(
                f'<p class="qa-meta">From <b>{text(cited.title)}</b>'
                f"{_date_suffix(cited.published)} · confidence {answer.confidence:.2f}</p>"
            )
    else:
        parts.append(f'<p class="qa-answer-text qa-not-found">{NOT_FOUND}</p>')
        if answer.passages:
            parts.append('<p class="qa-meta">The nearest passages are listed under the chat.</p>')
    if answer.resolved_question:
        parts.append(f'<p class="qa-meta">Read as: “{text(answer.resolved_question)}”</p>')
    return f'<div class="qa-answer">{"".join(parts)}</div>'


def _cited_passage(answer: Answer, marker: re.Match[str] | None) -> CitedPassage | None:
    if marker is None:
        return None
    rank = int(marker.group(1))
    return next((p for p in answer.passages if p.rank == rank), None)


def _date_suffix(published: str | None) -> str:
    return f", {text(published)}" if published else ""


def highlighted(
    doc_text: str, start: int, end: int, answer_start: int | None, answer_end: int | None
) -> str:
    """``doc_text[start:end]`` as HTML, the answer sentence (document offsets) inside ``<mark>``."""
    if answer_start is None or answer_end is None:
        return prose(doc_text[start:end])
    mark_start = min(max(answer_start, start), end)
    mark_end = min(max(answer_end, mark_start), end)
    return (
        prose(doc_text[start:mark_start])
        + "<mark>"
        + prose(doc_text[mark_start:mark_end])
        + "</mark>"
        + prose(doc_text[mark_end:end])
    )


def _trimmed(doc_text: str, start: int, end: int) -> tuple[int, int]:
    """``start, end`` moved inwards past white space, so an outline hugs the words."""
    while start < end and doc_text[start].isspace():
        start += 1
    while end > start and doc_text[end - 1].isspace():
        end -= 1
    return start, end


def _snap_back(doc_text: str, position: int) -> int:
    """Move a window edge back to the start of a word, so the context never begins mid-word."""
    while 0 < position < len(doc_text) and not doc_text[position - 1].isspace():
        position -= 1
    return position


def _snap_forward(doc_text: str, position: int) -> int:
    while 0 < position < len(doc_text) and not doc_text[position].isspace():
        position += 1
    return position


def context_html(doc_text: str, passage: CitedPassage) -> str:
    """The passage in its document: surrounding text before and after, the passage outlined."""
    start, end = _trimmed(doc_text, passage.start, passage.end)
    begin = _snap_back(doc_text, max(0, start - CONTEXT_CHARS))
    finish = _snap_forward(doc_text, min(len(doc_text), end + CONTEXT_CHARS))
    before = ("… " if begin > 0 else "") + prose(doc_text[begin:start])
    after = prose(doc_text[end:finish]) + (" …" if finish < len(doc_text) else "")
    inside = highlighted(doc_text, start, end, passage.answer_start, passage.answer_end)
    return (
        f'<div class="qa-context">{before}<span class="qa-in-doc">{inside}</span>{after}</div>'
        f'<p class="qa-meta">Characters {passage.start}–{passage.end} of '
        f"{text(passage.source)} (revision {text(passage.revision[:12])})</p>"
    )


def _page_link(passage: CitedPassage) -> str:
    """ "p. 3" for a PDF passage, opening the page with the passage and answer highlighted."""
    if passage.page is None:
        return ""
    label = "p. " + str(passage.page)
    if passage.page_end is not None and passage.page_end != passage.page:
        label = f"pp. {passage.page}–{passage.page_end}"
    query = f"start={passage.start}&end={passage.end}"
    if passage.answer_start is not None and passage.answer_end is not None:
        query += f"&answer_start={passage.answer_start}&answer_end={passage.answer_end}"
    href = f"documents/{quote(passage.doc_id)}/pages/{passage.page}.png?{query}"
    return (
        f'<a class="qa-page" href="{text(href)}" target="_blank" rel="noopener">'
        f"{text(label)}</a> · "
    )


def source_card(passage: CitedPassage, doc_text: str | None) -> str:
    """One ranked source: title, date, file, score, passage, and the passage in its document."""
    is_answer = passage.answer_start is not None
    if doc_text is not None and doc_text[passage.start : passage.end] == passage.text:
        start, end = _trimmed(doc_text, passage.start, passage.end)
        body = highlighted(doc_text, start, end, passage.answer_start, passage.answer_end)
        context = (
            '<details class="qa-open"><summary>Show in document</summary>'
            f"{context_html(doc_text, passage)}</details>"
        )
    else:  # no index version keeps the cited revision any more: the passage as it was cited
        body, context = prose(passage.text.strip()), ""
    also = ""
    if passage.also_in:
        names = ", ".join(f"{text(s.title)} ({text(s.source)})" for s in passage.also_in)
        also = f'<p class="qa-meta">Also in: {names}</p>'
    badge = '<span class="qa-badge">answer</span>' if is_answer else ""
    return (
        f'<article class="qa-card{" qa-card-answer" if is_answer else ""}" '
        f'data-rank="{passage.rank}">'
        f'<header><span class="qa-rank">[{passage.rank}]</span> '
        f'<span class="qa-title">{text(passage.title)}</span>{badge}</header>'
        f'<p class="qa-meta"><span>{text(passage.published or "undated")}</span> · '
        f"{_page_link(passage)}"
        f'<span class="qa-source">{text(passage.source)}</span> · '
        f"<span>score {passage.score:.4f}</span></p>"
        f'<div class="qa-passage">{body}</div>{also}{context}</article>'
    )


def sources_html(answer: Answer | None, doc_texts: Mapping[tuple[str, str], str]) -> str:
    """The ranked sources under the chat for the latest answer (nearest passages if not found).

    ``doc_texts`` holds each cited ``(doc_id, revision)``'s text while an index version keeps it."""
    if answer is None:
        return (
            '<div class="qa-sources qa-empty">Ask a question: the sources of the answer '
            "appear here.</div>"
        )
    heading = "Sources" if answer.found else "Nearest passages (none answers the question)"
    cards = "".join(source_card(p, doc_texts.get((p.doc_id, p.revision))) for p in answer.passages)
    if not cards:
        cards = '<p class="qa-meta">No passages: the index is empty.</p>'
    return (
        f'<section class="qa-sources"><h3>{heading} for “{text(answer.question)}”</h3>'
        f"{cards}</section>"
    )


def documents_html(documents: Iterable[Mapping[str, Any]]) -> str:
    """The document list: title, date, passages, file and the text encoding it was read in."""
    rows = "".join(
        "<tr>"
        f'<td class="qa-doc-title">{text(d["title"])}</td>'
        f'<td class="qa-date">{text(d.get("published") or "—")}</td>'
        f'<td class="qa-num">{int(d.get("passages", 0))}</td>'
        f'<td class="qa-source">{text(d["source"])}</td>'
        f'<td class="qa-encoding">{text(d.get("encoding") or "—")}</td>'
        "</tr>"
        for d in documents
    )
    if not rows:
        return '<p class="qa-meta">No documents yet: upload some below.</p>'
    return (
        '<div class="qa-table-wrap"><table class="qa-docs"><thead><tr><th>Title</th>'
        "<th>Published</th><th>Passages</th><th>File</th><th>Encoding</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></div>"
    )


def status_html(health: Mapping[str, Any]) -> str:
    """Index status and, while one runs, the rebuild's progress."""
    lines = [
        f"<b>{int(health['documents'])}</b> documents · <b>{int(health['passages'])}</b> passages",
        f"Index {text(health.get('index_version') or '—')}, built "
        f"{text(health.get('index_built_at') or '—')} · model {text(health['model'])}",
    ]
    rebuild = health.get("rebuild") or {}
    if rebuild.get("running"):
        done, total = int(rebuild.get("done") or 0), int(rebuild.get("total") or 0)
        bar = f'<progress value="{done}" max="{total}"></progress>' if total else "<progress>"
        lines.append(f"Rebuilding the index… {bar} {done}/{total or '?'} embedded")
    elif rebuild.get("last_error"):
        lines.append(
            f'<span class="qa-error">Last rebuild failed: {text(rebuild["last_error"])}</span>'
        )
    elif rebuild.get("last_report"):
        report = rebuild["last_report"]
        lines.append(
            f"Last rebuild: added {int(report.get('added', 0))}, updated "
            f"{int(report.get('updated', 0))}, removed {int(report.get('removed', 0))} in "
            f"{float(report.get('seconds', 0)):.1f}s"
        )
    watch = health.get("watch") or {}
    if watch.get("enabled"):
        seen = int(watch.get("changes_seen") or 0)
        lines.append(
            f"Watching {text(watch.get('folder') or '')}: changes there are indexed as they "
            f"happen ({seen} so far)"
        )
        if watch.get("last_error"):
            lines.append(f'<span class="qa-error">Watch: {text(watch["last_error"])}</span>')
    if health.get("notice"):
        lines.append(f'<span class="qa-error">{text(health["notice"])}</span>')
    return '<div class="qa-status">' + "<br>".join(lines) + "</div>"


def feedback_counts_html(counts: Mapping[str, int]) -> str:
    """Readers' verdicts stored so far (``qa feedback export`` turns them into questions)."""
    return (
        f'<div class="qa-status qa-feedback-counts">Feedback: <b>{int(counts.get("up", 0))}</b> '
        f"👍 · <b>{int(counts.get('down', 0))}</b> 👎 ({int(counts.get('total', 0))} in all; "
        "<code>qa feedback export</code> writes them as evaluation questions)</div>"
    )


def message_html(message: str, kind: str = "info") -> str:
    """A one-line outcome of a write action (kind: info, ok or error)."""
    return f'<div class="qa-message qa-{text(kind)}">{text(message)}</div>'


def upload_report_html(report: Mapping[str, Any]) -> str:
    """What an upload did, whatever lists the service reports (added, updated, skipped, rejected)."""
    items: list[str] = []
    for outcome, entries in report.items():
        if not isinstance(entries, list) or not entries:
            continue
        names = ", ".join(_describe(entry) for entry in entries)
        items.append(f"<li><b>{text(outcome)}</b>: {names}</li>")
    if not items:
        return message_html("Nothing was uploaded.")
    return f'<div class="qa-message qa-ok"><ul>{"".join(items)}</ul></div>'


def _describe(entry: object) -> str:
    if isinstance(entry, Mapping):
        name = entry.get("name") or entry.get("source") or entry.get("filename") or "?"
        why = entry.get("reason") or entry.get("error")
        return text(name) + (f" ({text(why)})" if why else "")
    return text(entry)
