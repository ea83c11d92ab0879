"""Metamorphic tests: the same documents in another layout or format give the same answers.

The seeds are hard-wrapped at 72 columns, wrapped and cut into pages with running heads and
feet, and converted (by this test) to PDF, DOCX, HTML (with
its source wrapped) and Markdown. For every dev question, each variant must give the same top
passage (the same content, compared as normalised text) and the same answer sentence
(normalised) as the seeds themselves, on at least 95% of the questions. A question refused in
both gets the same answer ("not found"), whichever passages come nearest.
"""

from __future__ import annotations

import html
import io
import json
import shutil
import textwrap
from collections.abc import Callable
from difflib import SequenceMatcher
from pathlib import Path

import docx
import pytest
from fpdf import FPDF

from qa.answering import Answer
from qa.config import PROJECT_ROOT, Settings
from qa.embedding import Embedder
from qa.indexer import build_index
from qa.service import QAService
from qa.text import normalise

DEV_SET = PROJECT_ROOT.parent / "shared" / "eval" / "dev_qa.jsonl"
SEEDS = PROJECT_ROOT / "seeds"
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
# The quality issue's bar: at least 95% of the dev questions agree, in every layout.
GOAL = 0.95
SAME_PASSAGE_RATIO = 0.9  # normalised texts this similar hold the same content
PAGE_LINES = 24

pytestmark = pytest.mark.slow


def _paragraphs(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def wrapped(text: str) -> bytes:
    """Every line filled at 72 columns; the line breaks between paragraphs kept as they are."""
    lines = [textwrap.fill(line, 72) if line.strip() else line for line in text.split("\n")]
    return "\n".join(lines).encode("utf-8")


def paged(text: str) -> bytes:
    """Wrapped as ``wrapped`` does, then cut into pages of 24 lines the way ``pdftotext`` and
    RFCs lay text out: a running header and a numbered footer around each form feed, whether a
    page ends mid-sentence or not."""
    lines = wrapped(text).decode("utf-8").split("\n")
    title = next(line.strip() for line in lines if line.strip())[:40]
    pages = [lines[i : i + PAGE_LINES] for i in range(0, len(lines), PAGE_LINES)]
    out: list[str] = []
    for number, page in enumerate(pages, start=1):
        if number > 1:
            out += ["\f", f"{title:<50}December 2026", "", ""]
        out += page + ["", "", f"{'Children and Young People':<60}[Page {number}]"]
    return ("\n".join(out) + "\n").encode("utf-8")


def _source_wrapped(paragraph: str, width: int) -> str:
    """A paragraph as an editor wraps markup source. A line break there reads as a space, so it
    never follows a hyphen (that would turn "tri-borough" into "tri- borough")."""
    return textwrap.fill(paragraph, width, break_on_hyphens=False)


def markdown(text: str) -> bytes:
    first, *rest = _paragraphs(text)
    body = "\n\n".join(_source_wrapped(p, 80) for p in rest)
    return f"# {first}\n\n{body}\n".encode()


def html_page(text: str) -> bytes:
    first, *rest = _paragraphs(text)
    body = "\n".join(f"<p>{_source_wrapped(html.escape(p), 72)}</p>" for p in rest)
    page = (
        f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{html.escape(first)}</title>"
        f"</head>\n<body><nav><a href='/'>Home</a> <a href='/news'>News</a></nav>\n"
        f"<h1>{html.escape(first)}</h1>\n{body}\n<footer>© Example Ltd</footer></body></html>\n"
    )
    return page.encode("utf-8")


def word_document(text: str) -> bytes:
    first, *rest = _paragraphs(text)
    document = docx.Document()
    document.add_heading(first, level=1)
    for paragraph in rest:
        document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def pdf(text: str) -> bytes:
    first, *rest = _paragraphs(text)
    writer = FPDF()
    writer.add_font("DejaVu", fname=str(FONT))
    writer.set_font("DejaVu", size=11)
    writer.set_fallback_fonts([])
    writer.set_auto_page_break(True, margin=20)
    writer.add_page()
    writer.multi_cell(0, 7, first, new_x="LMARGIN", new_y="NEXT")
    writer.ln(4)
    for paragraph in rest:
        writer.multi_cell(0, 6, paragraph, new_x="LMARGIN", new_y="NEXT")
        writer.ln(3)
    return bytes(writer.output())


VARIANTS: dict[str, tuple[str, Callable[[str], bytes]]] = {
    "wrapped-72": (".txt", wrapped),
    "paged": (".txt", paged),
    "markdown": (".md", markdown),
    "html": (".html", html_page),
    "docx": (".docx", word_document),
    "pdf": (".pdf", pdf),
}


def _service(root: Path, embedder: Embedder, files: dict[str, bytes]) -> QAService:
    docs = root / "docs"
    docs.mkdir(parents=True)
    for name, data in files.items():
        (docs / name).write_bytes(data)
    settings = Settings(docs_dir=docs, index_dir=root / "index", answer_workers=0)
    report = build_index(settings, embedder)
    assert not report.failed, report.failed
    return QAService(settings, embedder=embedder)


def _answer_sentence(answer: Answer) -> str:
    return normalise(answer.answer.rsplit(" [", 1)[0]) if answer.answer else ""


def _same_passage(a: Answer, b: Answer) -> bool:
    if not a.passages or not b.passages:
        return not a.passages and not b.passages
    first, second = normalise(a.passages[0].text), normalise(b.passages[0].text)
    if first in second or second in first:
        return True
    return SequenceMatcher(None, first, second, autojunk=False).ratio() >= SAME_PASSAGE_RATIO


@pytest.fixture(scope="module")
def questions() -> list[str]:
    return [json.loads(line)["q"] for line in DEV_SET.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def originals(seeds_index: Settings, embedder: Embedder, questions: list[str]) -> dict[str, Answer]:
    service = QAService(seeds_index, embedder=embedder)
    return {q: service.ask(q) for q in questions}


@pytest.mark.skipif(not FONT.exists(), reason="needs DejaVuSans (Debian: fonts-dejavu-core)")
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_the_same_documents_in_another_layout_give_the_same_answers(
    variant: str,
    tmp_path: Path,
    embedder: Embedder,
    questions: list[str],
    originals: dict[str, Answer],
) -> None:
    suffix, convert = VARIANTS[variant]
    files = {
        path.with_suffix(suffix).name: convert(path.read_text(encoding="utf-8"))
        for path in sorted(SEEDS.glob("*.txt"))
    }
    service = _service(tmp_path, embedder, files)
    differing = []
    for question in questions:
        original, answer = originals[question], service.ask(question)
        both_refused = not original.found and not answer.found
        same = (
            both_refused
            or _same_passage(original, answer)
            and (_answer_sentence(original) == _answer_sentence(answer))
        )
        if not same:
            differing.append((question, _answer_sentence(original), _answer_sentence(answer)))
    agreement = 1 - len(differing) / len(questions)
    print(f"\n{variant}: {agreement:.3f} of {len(questions)} questions agree")
    assert agreement >= GOAL, differing
    shutil.rmtree(tmp_path / "index", ignore_errors=True)
