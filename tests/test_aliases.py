"""Abbreviations are learned from the text, not from a list."""

from collections.abc import Callable

import numpy as np
import pytest

from qa.aliases import AliasTable, presence_with_alias_forms, with_alias_forms
from qa.conversation import resolve_follow_up
from qa.retrieval import Retriever

TEXT = (
    "The Greater Manchester Combined Authority (GMCA) met the Care Quality Commission (CQC). "
    "Brighton and Hove officials attended."
)


def test_definitions_and_ampersand_initials_are_learned() -> None:
    table = AliasTable.learn([TEXT])
    assert table.long_forms["gmca"] == "Greater Manchester Combined Authority"
    assert table.long_forms["cqc"] == "Care Quality Commission"
    assert table.long_forms["b&h"] == "Brighton and Hove"


def test_expansion_works_both_ways() -> None:
    table = AliasTable.learn([TEXT])
    assert "Greater Manchester Combined Authority" in table.expand("What did GMCA decide?")
    assert "CQC" in table.expand("what did the care quality commission find")
    assert table.expand("nothing to expand here") == "nothing to expand here"


def test_parenthesis_that_is_not_an_abbreviation_is_ignored() -> None:
    table = AliasTable.learn(["We met on Monday (briefly) and left."])
    assert "briefly" not in table.long_forms


def test_follow_up_replaces_year_and_name() -> None:
    previous = ["What was said about staff morale in Hammersmith and Fulham in 2019?"]
    assert resolve_follow_up("what about Westminster?", previous) == (
        "What was said about staff morale in Westminster in 2019?"
    )
    assert resolve_follow_up("and in 2016?", previous).endswith("in 2016?")
    assert resolve_follow_up("Who is Andrew Christie?", previous) == "Who is Andrew Christie?"


def test_an_agreement_defines_its_short_forms_in_quotes() -> None:
    table = AliasTable.learn(['between the Python Software Foundation ("PSF"), and the Licensee'])
    assert table.long_forms["psf"] == "Python Software Foundation"


AGREEMENT = (
    "This Agreement is the Eclipse Public License. Each Contributor grants rights under the "
    "Eclipse Public License to every recipient. The ACCOMPANYING PROGRAM IS provided as is."
)


def test_initials_of_a_name_the_documents_repeat_are_known_but_not_expanded() -> None:
    table = AliasTable.learn([AGREEMENT])
    assert table.shortened_names("Can I relicense EPL code? Is API use covered?") == ["EPL"]
    assert table.shortened_names("what does epl mean") == []  # only a word in capitals
    assert table.expand("Can I relicense EPL code?") == "Can I relicense EPL code?"
    assert (
        AliasTable.learn([AGREEMENT.replace("Eclipse Public License to", "it to")]).initials == {}
    )


SIF = (["singl", "inspect", "framework"], ["sif"])  # stems of "single inspection framework"/"SIF"


def test_a_text_holding_one_form_of_an_alias_whole_holds_both() -> None:
    assert with_alias_forms({"sif", "sen"}, [SIF]) == {
        "sif",
        "sen",
        "singl",
        "inspect",
        "framework",
    }
    assert with_alias_forms({"singl", "inspect", "framework"}, [SIF]) >= {"sif"}
    # Part of a form is not the form: "inspect" alone does not stand for "SIF".
    assert with_alias_forms({"inspect", "sen"}, [SIF]) == {"inspect", "sen"}
    presence = {
        "singl": np.array([True, False, False]),
        "inspect": np.array([True, True, True]),
        "framework": np.array([True, False, False]),
        "sif": np.array([False, True, False]),
    }
    held = presence_with_alias_forms(presence, [SIF])
    assert held["sif"].tolist() == [True, True, False]
    assert held["framework"].tolist() == [True, True, False]
    assert held["inspect"].tolist() == [True, True, True]
    assert presence["sif"].tolist() == [False, True, False]  # the caller's arrays stay as given


def test_a_passage_naming_the_subject_by_its_short_form_covers_the_question(
    retriever_over: Callable[[dict[str, str]], Retriever],
) -> None:
    retriever = retriever_over(
        {
            "about.txt": "The Regional Transit Authority (RTA) runs the buses and trams of the "
            "valley.\n",
            "bridges.txt": "The RTA does not inspect bridges; the county engineer inspects them "
            "every spring.\n",
        }
    )
    query = retriever.prepare("Does the Regional Transit Authority inspect bridges?")
    assert query.aliases  # the question is expanded with "RTA"
    pool = retriever.pool(query)
    texts = [retriever.data.passage_text(int(row)) for row in pool.rows]
    bridges = next(i for i, text in enumerate(texts) if "bridges" in text)
    # Every word the question asks is in that passage, one of them by its short form.
    assert pool.evidence.coverage[bridges] == pytest.approx(1.0)
