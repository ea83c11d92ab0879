"""What a question may be, and the one form the engine sees it in.

Every face's question (the API's /answer, the chat, ``qa ask``) passes through ``checked_question``
in the ask seam (``qa.asking``), so invisible characters cannot change an answer: the sample
question with a leading U+202E (right-to-left override), U+FEFF or U+200F used to get a different,
wrong answer.
"""

from __future__ import annotations

import unicodedata

from qa.errors import BadQuestion

MAX_QUESTION_CHARS = 2000
MAX_TOP_K = 50
DEFAULT_TOP_K = 5
MAX_HISTORY = 20  # earlier questions kept as follow-up context
# Bytes of a request that asks (an /answer body, a chat event): a question and a bounded history.
MAX_ASK_BODY = 256 * 1024


def normalise_question(text: str) -> str:
    """NFKC (fullwidth and compatibility forms become plain ones), format characters removed
    (category Cf: bidi marks and overrides, zero-width spaces and joiners, the BOM), other control
    characters read as spaces, and every run of whitespace collapsed to one space."""
    kept = []
    for char in unicodedata.normalize("NFKC", text):
        category = unicodedata.category(char)
        if category == "Cf":
            continue
        kept.append(" " if category == "Cc" else char)
    return " ".join("".join(kept).split())


def checked_question(text: str) -> str:
    """The normalised question, or ``BadQuestion`` if nothing is left or it is too long."""
    question = normalise_question(text)
    if not question:
        raise BadQuestion("the question is empty (once invisible characters are removed)")
    if len(question) > MAX_QUESTION_CHARS:
        raise BadQuestion(f"the question is over {MAX_QUESTION_CHARS} characters")
    return question


def checked_history(history: list[str] | None) -> list[str] | None:
    """Earlier questions, normalised like the question, blanks dropped, the newest kept."""
    if not history:
        return None
    kept = [question for question in map(normalise_question, history) if question]
    return kept[-MAX_HISTORY:] or None


def checked_top_k(top_k: int) -> int:
    if not 1 <= top_k <= MAX_TOP_K:
        raise BadQuestion(f"top_k must be between 1 and {MAX_TOP_K}, not {top_k}")
    return top_k
