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
