"""What an answer sentence takes along to be read alone, over a small index made by the test
(real chunking, real model): what a lead-in introduces, and nothing from a heading."""

from __future__ import annotations

from pathlib import Path

from qa.answer_choice import answer_span, traits_of
from qa.config import Settings
from qa.embedding import Embedder
from qa.indexer import build_index
from qa.retrieval import Retriever, open_retriever

TRACING = """Tracing tools

DTrace and SystemTap are monitoring tools, each providing a way to inspect what the processes \
on a computer system are doing. They both use domain-specific languages allowing a user to \
write scripts which:

- filter which processes are to be observed

- gather data from the processes of interest

- generate reports on the data

As of Python 3.6, CPython can be built with embedded markers that a script can observe.
"""

MANUAL = """Packaging Manual
****************

This manual describes the requirements each package must satisfy to be included.
"""


def _retriever(tmp_path: Path, embedder: Embedder) -> Retriever:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "tracing.txt").write_text(TRACING, encoding="utf-8")
    (docs / "manual.txt").write_text(MANUAL, encoding="utf-8")
    settings = Settings(docs_dir=docs, index_dir=tmp_path / "index", answer_workers=0)
    build_index(settings, embedder)
    return open_retriever(settings, embedder)


def _span_of(retriever: Retriever, opening: str) -> str:
    """The answer built from the sentence that starts with ``opening``."""
    data = retriever.data
    traits = traits_of(retriever, retriever.prepare("what do the scripts do"))
    for row in range(len(data.passages)):
        rows = retriever.sentences_of(row)
        for position, sentence in enumerate(rows):
            if data.sentence_text(sentence).startswith(opening):
                start, end = answer_span(retriever, rows, position, traits)
                doc = data.documents[data.passages.doc_id(row)]
                return doc.text[start:end]
    raise AssertionError(f"no sentence starts with {opening!r}")


def test_an_answer_ending_in_a_lead_in_takes_the_list_it_introduces(
    tmp_path: Path, embedder: Embedder
) -> None:
    retriever = _retriever(tmp_path, embedder)
    # "They both ..." leans on the first sentence, so it comes along, and it ends with a colon:
    # the three items it introduces come too.
    answer = _span_of(retriever, "DTrace and SystemTap")
    assert answer.startswith("DTrace and SystemTap")
    assert answer.endswith("generate reports on the data")
    assert "- gather data" in answer
    # The lead-in alone takes its items as well, and stops before the next paragraph.
    alone = _span_of(retriever, "They both use")
    assert alone.endswith("generate reports on the data")
    assert "CPython" not in alone


def test_a_sentence_leaning_back_on_a_heading_does_not_take_it(
    tmp_path: Path, embedder: Embedder
) -> None:
    retriever = _retriever(tmp_path, embedder)
    answer = _span_of(retriever, "This manual describes")
    assert (
        answer == "This manual describes the requirements each package must satisfy to be included."
    )
