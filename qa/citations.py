"""How a cited passage is named in plain text: title, date, page and the quoted words.

Shared by every face that writes an answer out as text rather than HTML (the OpenAI-compatible
endpoint, the conversation export), so a source reads the same wherever it is quoted.
"""

from __future__ import annotations

from qa.answering import Answer, CitedPassage

NOT_FOUND = "Not found in the documents: no passage of the indexed documents answers this."


def page_label(page: int | None, page_end: int | None) -> str:
    """ "p. 3", "pp. 3–4", or "" for a document without pages (anything but a PDF)."""
    if page is None:
        return ""
    if page_end is not None and page_end != page:
        return f"pp. {page}–{page_end}"
    return f"p. {page}"


def quoted(text: str) -> str:
    """A passage as one line: its line breaks and runs of spaces read as single spaces."""
    return " ".join(text.split())


def source_parts(passage: CitedPassage) -> list[str]:
    """Title, date (or "undated") and page, as separate parts, for a face to join its way."""
    parts = [passage.title, passage.published or "undated"]
    label = page_label(passage.page, passage.page_end)
    if label:
        parts.append(label)
    return parts


def answer_sentence(answer: Answer) -> str:
    """The answer sentence with its ``[n]`` marker, or the honest not-found message."""
    return answer.answer if answer.found and answer.answer else NOT_FOUND


def sources_heading(answer: Answer) -> str:
    return "Sources" if answer.found else "Nearest passages (none answers the question)"
