"""What an answer sentence takes along to be read alone, over a small index made by the test
(real chunking, real model): what a lead-in introduces (after a colon or an "as follows."), the
neighbour the scorer rates higher, and nothing from a heading."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from qa.answer_choice import (
    SentencePool,
    answer_beyond_title,
    answer_span,
    better_neighbour,
    joined_span,
    sentence_pool,
    traits_of,
)
from qa.config import Settings
from qa.embedding import Embedder
from qa.indexer import build_index
from qa.retrieval import Retriever, open_retriever
from qa.sentence_features import (
    MAX_ANSWER_CHARS,
    SENTENCE_FEATURES,
    QuestionTraits,
    asks_yes_or_no,
    beyond_title,
    defines,
    definition_focus,
    negates,
)

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

The default editor is reached through one command. You can change it as follows.

```
sudo update-alternatives --config editor
```

Other programs then start the editor you chose.
"""

SIZES = """TESTS
       Numeric arguments can be specified as +n for greater than n, -n for less
       than  n,  and  n for exactly n.  Tests compare what a file is with these
       numbers and are true or false for each file the search comes across.

       -empty File is empty and is either a regular file or a directory.

       -size n[bck]
              File uses less than, more than or exactly n units of space,  round‐
              ing up.  The following suffixes can be used:

              `b'    for 512-byte blocks (this is the default if no suffix is
                     used)

              `c'    for bytes

              `k'    for kibibytes (KiB, units of 1024 bytes)

              The size does not count indirect blocks, but it does count blocks
              in sparse files that are not actually allocated.
"""


TIDES = """TESTS
       Numeric arguments can be specified as +n for greater than n, -n for less
       than  n,  and  n for exactly n.  Tests compare what a file is with these
       numbers and are true or false for each file the search comes across.

       -tide n[sn]
              The harbour's tide is n units above chart datum,  round‐
              ing down.  The following units can be used:

              `s'    for spans of a hand

              `n'    for the nautical unit the harbour office has kept in
                     its register since the harbour was first surveyed, which
                     is written in the register as a fraction of a fathom and
                     read from the gauge at the harbour mouth twice a day, at
                     high and at low water, by the duty officer, who signs the
                     register each time and notes the weather beside it, and
                     whose readings are posted on the board at the gate
"""

NETWORKS = """Networks

By default, creating a network from an address with host bits set raises an error. To have those \
bits set to zero instead, pass the flag strict=False to the constructor:

```
>>> network('192.0.2.1/24', strict=False)
Network('192.0.2.0/24')
>>> network('192.0.2.2/24', strict=False)
Network('192.0.2.0/24')
>>> network('192.0.2.3/24', strict=False)
Network('192.0.2.0/24')
>>> network('192.0.2.4/24', strict=False)
Network('192.0.2.0/24')
>>> network('192.0.2.5/24', strict=False)
Network('192.0.2.0/24')
```
"""


EDITORS = """Editors

The editors are appointed by the harbour board for a term of three years. The current editors are:

- Harbour master number 1, who keeps the tide tables and the mooring register
- Harbour master number 2, who keeps the tide tables and the mooring register
- Harbour master number 3, who keeps the tide tables and the mooring register
- Harbour master number 4, who keeps the tide tables and the mooring register
- Harbour master number 5, who keeps the tide tables and the mooring register
- Harbour master number 6, who keeps the tide tables and the mooring register
"""


KERNEL = """Kernel files

People often panic when they notice one file in particular, /proc/kcore, which is generally huge. \
This is a copy of the computer's memory. It is used to debug the kernel. If it looks large, that \
is no reason to worry: it takes no space on the disk. Each of these files is made by the \
kernel as it runs.

Other files under /proc are small too.
"""


OPTIONS = """Package options

The graphics packages have some other options for controlling which features to enable:

draft suppress all the special features. In particular graphics files are not included, and \
just the file name is printed in a box of the correct size.

final The opposite of draft, useful to override a global draft option.
"""


ADDRESSES = """ADDRESSES
       The harbour office also keeps some special forms of address:

       0,harbour
              Start out in the "first mooring" state, until the harbour is
              found.  This is like 1,harbour, except that if the harbour is
              the very first mooring of the day the 0,harbour form will be at
              the end of its range, whereas the 1,harbour form will still be
              at the beginning of its range.

       quay,+N
              Will match the quay and the N moorings after it.
"""


PATTERNS = """Compiling patterns

The module-level functions keep the compiled object in a cache. Should you use these functions, \
or compile the pattern yourself? Inside a loop, compiling it first saves a few calls.

Flags change how a pattern matches.
"""


DISPLAYS = """Displays

In all multiline displays, lines are divided by a double backslash. The double backslash should \
not end the last line. Using it there adds unwanted space after the display.

Blank lines are not allowed in displays.
"""


UPDATES = """Updating

The update command appends files which are newer than their copy in the archive. Notice, that \
newer files do not replace their old copies, but are appended to the end of the archive.

Other commands only read the archive.
"""


ROTATION = """Rotating pages

The rotating package defines a landscape environment in which page bodies are turned through 90 \
degrees. The page head and foot are not affected.

Other packages rotate single boxes. A box turns about its reference point. The angle is given \
in degrees.

Plain users cannot read the system journal. Members of the adm group can read it but not \
change it.
"""


FEATURES = """Compile features
================

For example, if a target must be compiled with compiler support for the constexpr feature:

.. code-block:: cmake

  add_library(mylib requires_constexpr.cpp)
  target_compile_features(mylib PRIVATE cxx_constexpr)

In processing the requirement, CMake ensures that the compiler is capable of the feature.
"""

NOTICE = """Harbour Charts

   Licensed under the Harbour License, Version 2.0 (the "License");
   you may not use this file except in compliance with the License.
   You may obtain a copy of the License at

       http://harbour.example.org/licenses/LICENSE-2.0

   Unless required by applicable law or agreed to in writing, charts
   distributed under the License are distributed on an "AS IS" BASIS.
"""

DOCUMENTS = {
    "features.rst": FEATURES,
    "tracing.txt": TRACING,
    "manual.txt": MANUAL,
    "sizes.txt": SIZES,
    "tides.txt": TIDES,
    "networks.txt": NETWORKS,
    "editors.txt": EDITORS,
    "kernel.txt": KERNEL,
    "options.txt": OPTIONS,
    "addresses.txt": ADDRESSES,
    "patterns.txt": PATTERNS,
    "displays.txt": DISPLAYS,
    "updates.txt": UPDATES,
    "rotation.txt": ROTATION,
    "NOTICE": NOTICE,
}


@pytest.fixture(scope="module")
def retriever(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Retriever:
    """One small index for every test here: the texts above, chunked and embedded for real."""
    tmp_path = tmp_path_factory.mktemp("answer-span")
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in DOCUMENTS.items():
        (docs / name).write_text(text, encoding="utf-8")
    settings = Settings(docs_dir=docs, index_dir=tmp_path / "index", answer_workers=0)
    build_index(settings, embedder)
    return open_retriever(settings, embedder)


def _span_of(retriever: Retriever, opening: str, question: str = "what do the scripts do") -> str:
    """The answer to ``question`` built from the sentence that starts with ``opening``."""
    data = retriever.data
    traits = traits_of(retriever, retriever.prepare(question))
    for row in range(len(data.passages)):
        rows = retriever.sentences_of(row)
        for position, sentence in enumerate(rows):
            if data.sentence_text(sentence).startswith(opening):
                start, end = answer_span(retriever, rows, position, traits)
                doc = data.documents[data.passages.doc_id(row)]
                return doc.text[start:end]
    raise AssertionError(f"no sentence starts with {opening!r}")


def test_an_answer_ending_in_a_lead_in_takes_the_list_it_introduces(retriever: Retriever) -> None:
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


def test_a_lead_in_to_a_definition_list_takes_its_terms_with_their_descriptions(
    retriever: Retriever,
) -> None:
    # The terms ("`b'") say nothing alone: the answer holds each entry whole, and stops before
    # the prose after the list.
    answer = _span_of(retriever, "The following suffixes")
    assert answer.startswith("The following suffixes can be used:")
    assert "`b'    for 512-byte blocks" in answer
    assert "`c'    for bytes" in answer
    assert answer.endswith("units of 1024 bytes)")


def test_an_entry_too_long_to_come_along_does_not_leave_its_term_behind(
    retriever: Retriever,
) -> None:
    answer = _span_of(retriever, "The following units can be used:")
    assert answer.endswith("for spans of a hand")


def _features_of(retriever: Retriever, question: str, opening: str) -> dict[str, float]:
    """The sentence features of the candidate that starts with ``opening``, for ``question``."""
    query = retriever.prepare(question)
    pool = sentence_pool(retriever, query, retriever.search(query, 5), traits_of(retriever, query))
    texts = [retriever.data.sentence_text(row) for row in pool.rows.tolist()]
    found = next(i for i, text in enumerate(texts) if text.startswith(opening))
    return dict(zip(SENTENCE_FEATURES, pool.features[found].tolist(), strict=True))


def test_a_candidate_is_scored_on_the_words_of_the_answer_it_would_give(
    retriever: Retriever,
) -> None:
    # The lead-in holds one of the question's words; the entries it brings along hold the rarer.
    features = _features_of(retriever, "which suffix counts kibibytes", "The following suffixes")
    assert features["answer_overlap"] > features["overlap"] + 0.3


def test_the_code_an_answer_brings_along_does_not_count_as_its_words(
    retriever: Retriever,
) -> None:
    # The lead-in's example is full of "network"; the lead-in itself says nothing about one.
    features = _features_of(retriever, "what does network return", "To have those bits")
    assert features["answer_overlap"] == 0.0


def test_a_description_is_read_with_its_term(retriever: Retriever) -> None:
    # The term names what the description describes: without "-size n[bck]", "File uses less
    # than ... n units" does not say which test it is.
    answer = _span_of(retriever, "File uses less than")
    assert answer.startswith("-size n[bck]")
    assert "File uses less than, more than or exactly n units" in answer


def test_an_answer_goes_on_through_every_sentence_leaning_on_it(retriever: Retriever) -> None:
    # "This is ...", "It is ...", "If it looks large, ..." and "Each of these ..." each lean on
    # the sentence before: "If it looks large" says there is nothing to worry about.
    answer = _span_of(retriever, "People often panic")
    assert "it takes no space on the disk." in answer
    assert answer.endswith("kernel as it runs.")


@pytest.mark.parametrize(
    ("opening", "ending", "left_out"),
    [
        # The paragraph after a colon is what it introduces, both its sentences.
        pytest.param(
            "The graphics packages have",
            "printed in a box of the correct size.",
            "final",
            id="lead-in-takes-its-paragraph",
        ),
        # Over 400 characters with the page's indentation, under 400 as read: the entry comes
        # whole, up to the sentence that tells the two forms apart.
        pytest.param(
            "The harbour office also keeps",
            "at the beginning of its range.",
            "quay",
            id="length-as-read",
        ),
        # A question the text asks is answered by what follows it.
        pytest.param(
            "Should you use these functions",
            "compiling it first saves a few calls.",
            "Flags",
            id="question-takes-its-answer",
        ),
        # "Using it there ..." says why the sentence before it holds.
        pytest.param(
            "The double backslash should",
            "unwanted space after the display.",
            "Blank lines",
            id="doing-it-leans-back",
        ),
        # "Notice, that ..." qualifies the sentence before: the part that answers.
        pytest.param(
            "The update command appends",
            "appended to the end of the archive.",
            "Other commands",
            id="a-notice-goes-on",
        ),
    ],
)
def test_an_answer_takes_what_it_needs_and_stops_there(
    retriever: Retriever, opening: str, ending: str, left_out: str
) -> None:
    answer = _span_of(retriever, opening)
    assert answer.endswith(ending)
    assert left_out not in answer


def test_a_yes_or_no_question_takes_the_sentence_that_says_no(retriever: Retriever) -> None:
    # "Does it also ...?" is answered by the restriction after the description, not by the
    # description alone; a question that asks what it does stops at the description.
    answer = _span_of(
        retriever, "The rotating package", "Does the landscape environment also turn the page head?"
    )
    assert answer.endswith("The page head and foot are not affected.")
    what = _span_of(retriever, "The rotating package", "What does the landscape environment do?")
    assert what.endswith("turned through 90 degrees.")
    assert "not affected" not in what
    # The sentence after one that does not say no is not taken for it.
    turns = _span_of(retriever, "A box turns", "Does a box turn about its centre?")
    assert turns.endswith("about its reference point.")
    # An answer that already says no needs nothing more.
    said = _span_of(retriever, "Plain users cannot", "Can plain users read the system journal?")
    assert said.endswith("cannot read the system journal.")


def test_the_indented_entry_is_longer_than_the_limit_as_written(retriever: Retriever) -> None:
    # What makes the "length-as-read" case above a test of reading length.
    assert len(_span_of(retriever, "The harbour office also keeps")) > MAX_ANSWER_CHARS


def test_a_sentence_leaning_back_on_a_heading_does_not_take_it(retriever: Retriever) -> None:
    answer = _span_of(retriever, "This manual describes")
    assert (
        answer == "This manual describes the requirements each package must satisfy to be included."
    )


def test_an_answer_announcing_what_follows_takes_the_command_it_announces(
    retriever: Retriever,
) -> None:
    answer = _span_of(retriever, "You can change it as follows.")
    assert answer.startswith("You can change it as follows.")
    assert answer.rstrip("`\n ").endswith("update-alternatives --config editor")
    assert "Other programs" not in answer


def test_two_sentences_join_without_the_long_code_the_second_one_leads_into(
    retriever: Retriever,
) -> None:
    # With its example the lead-in is too long to join; without it, it answers the question its
    # neighbour only raises.
    data = retriever.data
    traits = traits_of(retriever, retriever.prepare("how do I zero the host bits"))
    row = next(
        r for r in range(len(data.passages)) if "By default, creating" in data.passage_text(r)
    )
    rows = retriever.sentences_of(row)
    first = next(i for i, s in enumerate(rows) if data.sentence_text(s).startswith("By default"))
    span = joined_span(retriever, rows, (first, first + 1), traits)
    assert span is not None
    text = data.documents[data.passages.doc_id(row)].text
    assert text[span[0] : span[1]].startswith("By default, creating")
    assert text[span[0] : span[1]].endswith("pass the flag strict=False to the constructor:")


def test_a_lead_in_takes_nothing_across_markup_that_no_unit_holds(retriever: Retriever) -> None:
    # An answer is one span of the document: taking the code after this lead-in would show the
    # directive's line between them (".. code-block:: cmake"), markup readers never see.
    answer = _span_of(retriever, "For example, if a target")
    assert answer.endswith("for the constexpr feature:"), answer


def test_a_lead_in_to_a_list_is_not_joined_without_the_list(retriever: Retriever) -> None:
    # The list is what the lead-in answers with ("The current editors are:"): too long to
    # join, the two are not joined at all.
    data = retriever.data
    traits = traits_of(retriever, retriever.prepare("who are the current editors"))
    row = next(r for r in range(len(data.passages)) if "The editors are" in data.passage_text(r))
    rows = retriever.sentences_of(row)
    first = next(i for i, s in enumerate(rows) if data.sentence_text(s).startswith("The editors"))
    assert joined_span(retriever, rows, (first, first + 1), traits) is None


def test_the_better_neighbour_is_on_topic_beside_the_best_else_the_sentence_after() -> None:
    # Passage 0 has candidates at positions 0, 1, 2, 4, 5 and 6; passage 1 one; passage 2 two.
    overlap = SENTENCE_FEATURES.index("overlap")
    features = np.zeros((9, len(SENTENCE_FEATURES)))
    features[:, overlap] = [0.5, 0.5, 0.2, 0.0, 0.5, 0.0, 0.5, 0.0, 0.5]
    pool = SentencePool(
        passage=np.array([0, 0, 0, 0, 0, 0, 1, 2, 2]),
        rows=np.arange(9),
        position=np.array([0, 1, 2, 4, 5, 6, 1, 0, 1]),
        features=features,
        passage_sentences=[[0, 1, 2, 3, 4, 5, 6], [7, 8], [9, 10]],
    )
    scores = np.array([0.2, 3.0, 0.9, 2.5, 2.6, 2.4, 2.8, 1.0, 2.0])
    assert better_neighbour(pool, scores, 1) == 2  # 0.9 beats 0.2; not the other passage's 2.8
    assert better_neighbour(pool, scores, 3) == 4  # the one on the question's words
    assert better_neighbour(pool, scores, 5) == 4
    # Neither neighbour holds a question word: the sentence after goes on with the thought...
    assert better_neighbour(pool, scores, 4) == 5
    # ... the one before (another speaker's quote) stays out.
    assert better_neighbour(pool, scores, 8) is None
    assert better_neighbour(pool, scores, 6) is None  # alone in its passage


@pytest.mark.parametrize(
    ("question", "yes_or_no"),
    [
        ("Can I delete a file from a compressed archive?", True),
        ("xargs mangles file names. Should I use -0 instead?", True),
        ("Is the extra priority still used?", True),
        ("What does the landscape environment do?", False),
        ("Why does it never print afile?", False),
    ],
)
def test_a_question_asks_yes_or_no_by_its_last_sentence(question: str, yes_or_no: bool) -> None:
    assert asks_yes_or_no(question) is yes_or_no


@pytest.mark.parametrize(
    ("sentence", "says_no"),
    [
        ("This option does not operate on compressed archives.", True),
        ("Versions can only be changed outside of math mode.", True),
        ("Compressed archives can’t be concatenated.", True),
        ("Notable changes are listed below.", False),
    ],
)
def test_a_sentence_says_no_by_negating_or_restricting(sentence: str, says_no: bool) -> None:
    assert negates(sentence) is says_no


@pytest.mark.parametrize(
    ("question", "focus"),
    [
        ("What is a native source package?", {"nativ", "sourc", "packag"}),
        ("What does the licence mean by Source Code?", {"sourc", "code"}),
        ("How does the agreement define a Derivative Work?", {"deriv", "work"}),
        ("Under the licence, who counts as a Contributor?", {"contributor"}),
        ("What is a redzone in Valgrind?", {"redzon"}),  # the place is not what is defined
        ("What does 'Share' mean in the Creative Commons Attribution 4.0 licence?", {"share"}),
        ("Who counts as a Contributor under the Eclipse Public License?", {"contributor"}),
        ("Who is 'You' in the FreeType Project license?", {"you"}),
        ("What does a version ending in +b1 mean?", {"version", "end", "b1"}),
        ("How do I sort lines by their length?", set()),
    ],
)
def test_a_definition_question_names_what_it_asks_to_define(question: str, focus: set[str]) -> None:
    assert definition_focus(question) == focus


@pytest.mark.parametrize(
    ("sentence", "is_definition"),
    [
        ("A redzone is a padding block around each heap block.", True),
        ("Such padding blocks are called redzones.", True),
        ("These blocks, known as redzones, are checked on every access.", True),
        ("It is called from main with a redzone of its own.", False),
        ("Increasing the size makes overruns easier to detect than a redzone would.", False),
    ],
)
def test_a_definition_names_its_term_before_a_copula_or_after_naming_words(
    sentence: str, is_definition: bool
) -> None:
    assert defines(sentence, definition_focus("What is a redzone?")) is is_definition


def test_a_term_that_is_a_function_word_is_defined_as_written() -> None:
    focus = definition_focus("Who is 'You' in the licence?")
    assert defines("`You' refers to the licensee, or person using the project.", focus)
    assert not defines("Your rights end when the licence is breached.", focus)


def test_a_sentence_stopping_on_at_takes_the_address_after_it(retriever: Retriever) -> None:
    # "... at" points to the next line: the address is the answer's own end.
    answer = _span_of(retriever, "You may obtain a copy", "where can I get the licence")
    assert answer.startswith("You may obtain a copy of the License at")
    assert answer.endswith("http://harbour.example.org/licenses/LICENSE-2.0")


LICENCE = """Frobnicator Public Licence

This program and its documentation are made available under the terms of the Frobnicator \
Public Licence.

1. Governing law

The laws of the Republic of Erewhon govern every copy made under it.
"""


def test_an_answer_is_read_for_the_words_its_document_s_title_lacks(
    retriever_over: Callable[[dict[str, str]], Retriever],
) -> None:
    retriever = retriever_over({"frobnicator.txt": LICENCE})
    question = "Which country's laws govern the Frobnicator Public Licence?"
    traits = traits_of(retriever, retriever.prepare(question))
    found = {}
    for row in range(len(retriever.data.passages)):
        rows = retriever.sentences_of(row)
        for position, sentence in enumerate(rows):
            span = answer_span(retriever, rows, position, traits)
            text = retriever.data.sentence_text(sentence)
            found[text[:20]] = answer_beyond_title(retriever, traits, rows, span, row)
    # The opening statement holds the licence's name, which the title holds too, and nothing
    # else asked; the provision holds "laws" and "govern" beyond it ("country" it lacks).
    assert found["This program and its"] == 0.0
    assert 0.0 < found["The laws of the Repu"] < 1.0


def test_a_question_asking_only_its_document_s_subject_leaves_nothing_beyond_the_title() -> None:
    traits = traits_of_words({"frobnic": 2.0, "public": 1.0, "licens": 1.0})
    assert beyond_title("It is short.", frozenset({"frobnic", "public", "licens"}), traits) == 1.0
    assert beyond_title("It is short.", frozenset({"frobnic"}), traits) == 0.0


def traits_of_words(weights: dict[str, float]) -> QuestionTraits:
    return QuestionTraits(" ".join(weights), weights, [], set(), None, frozenset(), False)
