"""Abbreviations are learned from the text, not from a list."""

from qa.aliases import AliasTable
from qa.conversation import resolve_follow_up

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
