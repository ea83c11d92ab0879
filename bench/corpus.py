"""A deterministic synthetic corpus: the seed documents' sentences recombined into new reports.

Realistic where it matters for speed: passage lengths come from the real chunker on real
sentences, documents run to a few dozen passages, and numbers vary so texts are not identical.
The same ``seed`` always gives the same files.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

from qa.chunking import chunk_text, split_sentences
from qa.config import PROJECT_ROOT, Settings
from qa.documents import iter_document_paths

_DIGIT = re.compile(r"\d")
_MIN_SENTENCE, _MAX_SENTENCE = 30, 400


@dataclass(frozen=True)
class Corpus:
    """Documents as (file name, text), the passages the chunker makes of them, and a spare
    document kept out of the corpus, to time adding one document incrementally."""

    documents: list[tuple[str, str]]
    passages: list[str]
    spare: tuple[str, str]


def seed_sentences(seeds_dir: Path, max_chars: int) -> list[str]:
    """Every sentence of the seed documents of a useful length, in file order."""
    sentences = []
    for path in iter_document_paths(seeds_dir):
        if path.suffix != ".txt":
            continue
        text = path.read_text(encoding="utf-8")
        for span in split_sentences(text, max_chars):
            sentence = text[span.start : span.end]
            if _MIN_SENTENCE <= len(sentence) <= _MAX_SENTENCE:
                sentences.append(" ".join(sentence.split()))
    if not sentences:
        raise ValueError(f"no sentences to recombine in {seeds_dir}")
    return sentences


def _vary(sentence: str, rng: random.Random) -> str:
    """Change each digit (amounts, years) so recombined sentences are rarely verbatim copies."""
    return (
        _DIGIT.sub(lambda _: str(rng.randrange(10)), sentence) if rng.random() < 0.5 else sentence
    )


def _paragraph(sentences: list[str], rng: random.Random) -> str:
    return " ".join(_vary(rng.choice(sentences), rng) for _ in range(rng.randint(2, 5)))


def _document(
    sentences: list[str], rng: random.Random, number: int, wanted: int, max_chars: int, overlap: int
) -> tuple[str, int]:
    """A report of about ``wanted`` passages (fewer only if ``wanted`` is small); its passage count."""
    title = f"Report {number:05d}: {rng.choice(sentences)[:80].rstrip()}"
    paragraphs = [title]
    count = 0
    while count < wanted:
        paragraphs.append(_paragraph(sentences, rng))
        count = len(chunk_text("\n\n".join(paragraphs), max_chars, overlap))
    return "\n\n".join(paragraphs) + "\n", count


def synthetic_corpus(
    seeds_dir: Path, passages: int, max_chars: int = 700, overlap: int = 0, seed: int = 0
) -> Corpus:
    """Documents totalling ``passages`` passages under the given chunking (the last one short)."""
    rng = random.Random(seed)
    sentences = seed_sentences(seeds_dir, max_chars)
    documents: list[tuple[str, str]] = []
    texts: list[str] = []
    total = 0
    while total < passages:
        wanted = min(passages - total, rng.randint(8, 40))
        text, count = _document(sentences, rng, len(documents), wanted, max_chars, overlap)
        documents.append((f"report-{len(documents):05d}.txt", text))
        texts += [text[c.start : c.end] for c in chunk_text(text, max_chars, overlap)]
        total += count
    spare_text, _ = _document(sentences, rng, len(documents), 12, max_chars, overlap)
    return Corpus(documents, texts, (f"report-{len(documents):05d}.txt", spare_text))


def write_corpus(corpus: Corpus, docs_dir: Path) -> None:
    docs_dir.mkdir(parents=True, exist_ok=True)
    for name, text in corpus.documents:
        (docs_dir / name).write_text(text, encoding="utf-8")


def sample_questions(corpus: Corpus, count: int, seed: int = 1) -> list[str]:
    """Questions made from corpus sentences (a phrase of each, as a user would half-remember it)."""
    rng = random.Random(seed)
    questions = []
    for _ in range(count):
        passage = rng.choice(corpus.passages)
        words = passage.split()
        start = rng.randrange(max(1, len(words) - 8))
        phrase = " ".join(words[start : start + rng.randint(4, 8)]).strip(".,;:\"'“”")
        questions.append(f"{rng.choice(['What', 'Who', 'When', 'Why'])} about {phrase}?")
    return questions


def corpus_in(docs_dir: Path, settings: Settings, passages: int, seed: int = 0) -> Corpus:
    """The benchmark corpus for ``settings``' chunking, written into ``docs_dir``."""
    corpus = synthetic_corpus(
        PROJECT_ROOT / "seeds", passages, settings.max_chars, settings.overlap_sentences, seed
    )
    write_corpus(corpus, docs_dir)
    return corpus
