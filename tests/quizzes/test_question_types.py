"""The built-in question types grade as Moodle does (plus the leniencies learners here need).

These are pure functions of (data, response): no app or database, except where a
translated message is checked.
"""

from __future__ import annotations

import unicodedata

import pytest
from werkzeug.datastructures import MultiDict

from quizzes.question_types.base import Grade
from quizzes.question_types.builtin import (
    Description,
    Essay,
    Match,
    MultiChoice,
    Numerical,
    ShortAnswer,
    TrueFalse,
    builtin_types,
    normalise_text,
    parse_number,
    wildcard_match,
)

MC = MultiChoice()
TF = TrueFalse()
SA = ShortAnswer()
NUM = Numerical()
MATCH = Match()


def mc(single: bool, *fractions: float) -> dict:
    return {
        "single": single,
        "shuffle": True,
        "answers": [
            {"text": f"A{i}", "format": "moodle", "fraction": f, "feedback": f"fb{i}"}
            for i, f in enumerate(fractions)
        ],
    }


def test_the_seven_builtin_types_have_moodles_ids():
    ids = [t.id for t in builtin_types()]
    assert ids == [
        "multichoice",
        "truefalse",
        "shortanswer",
        "numerical",
        "match",
        "essay",
        "description",
    ]
    assert [t.id for t in builtin_types() if t.manual] == ["essay"]
    assert [t.id for t in builtin_types() if not t.answerable] == ["description"]


def test_the_registry_offers_the_builtins(app):
    from quizzes.question_types import get_type, registry

    assert set(registry()) >= {t.id for t in builtin_types()}
    assert isinstance(get_type("numerical"), Numerical)
    with pytest.raises(KeyError):
        get_type("calculated")


# --- multichoice -----------------------------------------------------------------------


def test_single_choice_scores_the_chosen_answer():
    data = mc(True, 1, 0.5, 0)
    assert MC.grade(data, [0]) == Grade(1.0, "fb0")
    assert MC.grade(data, [1]) == Grade(0.5, "fb1")
    assert MC.grade(data, [2]).fraction == 0.0
    assert MC.grade(data, None) == Grade(0.0)
    assert MC.grade(data, []) == Grade(0.0)


def test_single_choice_negative_fraction_is_clamped_and_two_answers_earn_nothing():
    data = mc(True, 1, -0.5)
    assert MC.grade(data, [1]).fraction == 0.0
    assert MC.grade(data, [0, 1]).fraction == 0.0


def test_multiple_choice_adds_fractions_and_clamps():
    data = mc(False, 0.5, 0.5, -0.5, -1)
    assert MC.grade(data, [0]).fraction == 0.5
    assert MC.grade(data, [0, 1]) == Grade(1.0, "fb0\nfb1")
    assert MC.grade(data, [0, 1, 2]).fraction == 0.5
    # Ticking everything earns nothing, and never less than nothing.
    assert MC.grade(data, [0, 1, 2, 3]).fraction == 0.0
    assert MC.grade(data, [3]).fraction == 0.0
    assert MC.grade(data, []).fraction == 0.0


def test_multiple_choice_sum_above_one_is_clamped():
    data = mc(False, 0.75, 0.75)
    assert MC.grade(data, [0, 1]).fraction == 1.0


def test_multichoice_ignores_unknown_and_repeated_indexes():
    data = mc(False, 0.5, 0.5)
    assert MC.grade(data, [0, 0, 7, "x", True]).fraction == 0.5
    assert MC.grade(data, ["1"]).fraction == 0.5


def test_multichoice_choices_are_answer_indexes():
    assert MC.choices(mc(True, 1, 0, 0)) == [0, 1, 2]


def test_multichoice_reads_the_form():
    single = mc(True, 1, 0)
    assert MC.response_from_form(single, MultiDict({"q1": "1"}), "q1") == [1]
    assert MC.response_from_form(single, MultiDict({}), "q1") is None
    assert MC.response_from_form(single, MultiDict({"q1": "9"}), "q1") is None
    multiple = mc(False, 0.5, 0.5, 0)
    form = MultiDict([("q1", "2"), ("q1", "0")])
    assert MC.response_from_form(multiple, form, "q1") == [0, 2]


def test_multichoice_right_answer():
    assert MC.right_answer(mc(True, 0, 1, 0.5)) == "A1"
    assert MC.right_answer(mc(False, 0.5, -1, 0.5)) == "A0; A2"
    answer = {"text": "<b>x</b> &amp; y", "format": "html", "fraction": 1}
    html = {"single": True, "answers": [answer]}
    assert MC.right_answer(html) == "x & y"


def test_multichoice_validation():
    assert MC.validate(mc(True, 1, 0)) == {}
    assert MC.validate(mc(False, -0.5, 0.5, 0.5)) == {}
    assert "answers" in MC.validate(mc(True, 1))
    assert "answers" in MC.validate(mc(True, 0, 0))
    assert "answers" in MC.validate(mc(True, 0, -0.5))
    assert "answers.1.fraction" in MC.validate(mc(True, 1, 1.5))
    bad = mc(True, 1, 0)
    bad["answers"][1]["text"] = "  "
    bad["answers"][0]["fraction"] = "1"
    errors = MC.validate(bad)
    assert set(errors) >= {"answers.1.text", "answers.0.fraction"}
    assert "answers" in MC.validate({})


# --- truefalse -------------------------------------------------------------------------


def test_truefalse_is_all_or_nothing_with_feedback_by_response():
    data = {"correct": False, "feedback_true": "No: it is false.", "feedback_false": "Yes."}
    assert TF.grade(data, False) == Grade(1.0, "Yes.")
    assert TF.grade(data, True) == Grade(0.0, "No: it is false.")
    assert TF.grade(data, None) == Grade(0.0)
    assert TF.validate(data) == {}
    assert "correct" in TF.validate({"correct": "yes"})


def test_truefalse_reads_the_form_and_names_the_right_answer(app):
    assert TF.response_from_form({}, MultiDict({"q": "true"}), "q") is True
    assert TF.response_from_form({}, MultiDict({"q": "0"}), "q") is False
    assert TF.response_from_form({}, MultiDict({}), "q") is None
    assert TF.right_answer({"correct": True}) == "True"


# --- shortanswer -----------------------------------------------------------------------


def sa(*answers: tuple[str, float], case_sensitive: bool = False) -> dict:
    return {
        "case_sensitive": case_sensitive,
        "answers": [{"text": t, "fraction": f, "feedback": f"fb:{t}"} for t, f in answers],
    }


def test_shortanswer_takes_the_best_matching_answer():
    data = sa(("Bish*", 0.5), ("Bishkek", 1.0), ("*", 0.0))
    assert SA.grade(data, "Bishkek") == Grade(1.0, "fb:Bishkek")
    assert SA.grade(data, "Bishkekk") == Grade(0.5, "fb:Bish*")
    assert SA.grade(data, "Osh") == Grade(0.0, "fb:*")
    assert SA.grade(data, "") == Grade(0.0)
    assert SA.grade(data, None) == Grade(0.0)


def test_shortanswer_ignores_case_and_whitespace_unless_case_sensitive():
    data = sa(("Ala-Too square", 1.0))
    assert SA.grade(data, "  ala-too   SQUARE ").fraction == 1.0
    assert SA.grade(data, "ala-too\tsquare\n").fraction == 1.0
    strict = sa(("Ala-Too", 1.0), case_sensitive=True)
    assert SA.grade(strict, " Ala-Too ").fraction == 1.0
    assert SA.grade(strict, "ala-too").fraction == 0.0


def test_shortanswer_wildcards_as_moodle():
    assert wildcard_match("long*", "Longest")
    assert wildcard_match("long*", "long")
    assert wildcard_match("*a*b*", "xxaYYb")
    assert wildcard_match("a**b", "a-b")
    assert not wildcard_match("long", "longer")
    # \* is a literal asterisk; regular-expression characters mean themselves.
    assert wildcard_match(r"2\*3", "2*3")
    assert not wildcard_match(r"2\*3", "2x3")
    assert wildcard_match("a.b (c)", "A.B (C)")
    assert not wildcard_match("a.b", "axb")


def test_shortanswer_kyrgyz_letters_compare_in_any_case_and_normal_form():
    # Ө, ү and ң have no decomposition; й and ё do (и + U+0306, е + U+0308).
    composed = "Кайрымдуулук өмүр"
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed  # the test means something
    data = sa((composed, 1.0))
    assert SA.grade(data, decomposed).fraction == 1.0
    assert SA.grade(sa((decomposed, 1.0)), composed).fraction == 1.0
    assert SA.grade(data, "КАЙРЫМДУУЛУК ӨМҮР").fraction == 1.0
    assert SA.grade(data, "кайрымдуулук омур").fraction == 0.0
    assert SA.grade(sa(("жаңы", 1.0)), "ЖАҢЫ").fraction == 1.0
    assert SA.grade(sa(("жаңы", 1.0)), "жаны").fraction == 0.0
    assert SA.grade(sa(("жаңы", 1.0), case_sensitive=True), "ЖАҢЫ").fraction == 0.0


def test_shortanswer_arabic_compares():
    word = "الصلاة"
    data = sa((word, 1.0))
    assert SA.grade(data, f"  {word} ").fraction == 1.0
    assert SA.grade(data, "الصلاـة").fraction == 1.0  # with a tatweel
    assert SA.grade(data, "الزكاة").fraction == 0.0
    # Presentation forms (as some old keyboards type them) are the same letters.
    assert normalise_text("\ufefb") == normalise_text("لا")


def test_shortanswer_validation_and_right_answer():
    assert SA.validate(sa(("x", 1.0))) == {}
    assert "answers" in SA.validate(sa())
    assert "answers" in SA.validate(sa(("x", 0.0)))
    assert "answers.0.fraction" in SA.validate(sa(("x", -0.5), ("y", 1.0)))
    assert "answers.0.text" in SA.validate(sa(("", 1.0)))
    assert SA.right_answer(sa(("Osh", 0.5), ("Bishkek", 1.0), ("Frunze", 1.0))) == (
        "Bishkek / Frunze"
    )


# --- numerical -------------------------------------------------------------------------


def num(*answers: tuple[float, float, float]) -> dict:
    return {
        "answers": [
            {"value": v, "tolerance": t, "fraction": f, "feedback": f"fb:{v}"}
            for v, t, f in answers
        ]
    }


def test_numerical_tolerance_is_inclusive():
    data = num((3.5, 0.1, 1.0))
    assert NUM.grade(data, "3.5") == Grade(1.0, "fb:3.5")
    assert NUM.grade(data, "3.4").fraction == 1.0  # 0.10000000000000009 away in floats
    assert NUM.grade(data, "3.6").fraction == 1.0
    assert NUM.grade(data, "3.61").fraction == 0.0
    assert NUM.grade(data, 3.45).fraction == 1.0
    exact = num((1e6, 0, 1.0))
    assert NUM.grade(exact, "1000000").fraction == 1.0
    assert NUM.grade(exact, "1000000.5").fraction == 0.0


def test_numerical_best_fraction_among_overlapping_ranges():
    data = num((10, 5, 0.5), (10, 1, 1.0), (100, 0, 1.0))
    assert NUM.grade(data, "10.5") == Grade(1.0, "fb:10")
    assert NUM.grade(data, "13").fraction == 0.5
    assert NUM.grade(data, "16").fraction == 0.0


def test_numerical_accepts_comma_decimals_and_spaces():
    data = num((3.5, 0, 1.0), (1000, 0, 1.0), (-2, 0, 1.0))
    assert NUM.grade(data, "3,5").fraction == 1.0
    assert NUM.grade(data, " 3,50 ").fraction == 1.0
    assert NUM.grade(data, "1 000").fraction == 1.0
    assert NUM.grade(data, "1\u00a0000").fraction == 1.0
    assert NUM.grade(data, "−2").fraction == 1.0


@pytest.mark.parametrize("text", ["abc", "3,5.1", "1,2,3", "nan", "inf", "1_000", "3..5", "--1"])
def test_numerical_non_numbers_score_nothing_and_say_so(app, text):
    grade = NUM.grade(num((3.5, 0, 1.0)), text)
    assert grade.fraction == 0.0
    assert grade.feedback == "That is not a number."


def test_numerical_not_a_number_message_is_translated(app):
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("ru"):
        feedback = NUM.grade(num((3.5, 0, 1.0)), "abc").feedback
    assert feedback  # a message in Russian when the catalogue has it, else the English one


def test_parse_number():
    assert parse_number("3,5") == 3.5
    assert parse_number(" -0.25 ") == -0.25
    assert parse_number("1e3") == 1000.0
    assert parse_number(".5") == 0.5
    assert parse_number("٣") == 3.0  # Arabic-Indic digit
    assert parse_number(True) is None
    assert parse_number("") is None
    assert parse_number(None) is None


def test_numerical_validation_and_right_answer():
    assert NUM.validate(num((3.5, 0.1, 1.0))) == {}
    bad = {"answers": [{"value": "x", "tolerance": -1, "fraction": 1.0}]}
    assert set(NUM.validate(bad)) == {"answers.0.value", "answers.0.tolerance"}
    assert "answers" in NUM.validate({"answers": []})
    assert "answers" in NUM.validate(num((1, 0, 0.0)))
    assert NUM.right_answer(num((3.5, 0.1, 1.0), (4, 0, 0.5))) == "3.5 ± 0.1"
    assert NUM.right_answer(num((2, 0, 1.0))) == "2"


# --- match -----------------------------------------------------------------------------

PAIRS = {
    "pairs": [
        {"left": "Kyrgyzstan", "right": "Bishkek"},
        {"left": "Kazakhstan", "right": "Astana"},
        {"left": "Uzbekistan", "right": "Tashkent"},
        {"left": "", "right": "Dushanbe"},
    ]
}


def test_match_scores_each_real_pair_equally():
    all_right = {"0": "Bishkek", "1": "Astana", "2": "Tashkent"}
    assert MATCH.grade(PAIRS, all_right).fraction == 1.0
    two = {"0": "Bishkek", "1": "Astana", "2": "Dushanbe"}
    assert MATCH.grade(PAIRS, two).fraction == pytest.approx(2 / 3)
    assert MATCH.grade(PAIRS, {0: "Bishkek"}).fraction == pytest.approx(1 / 3)
    assert MATCH.grade(PAIRS, {"3": "Dushanbe"}).fraction == 0.0  # the distractor is no pair
    assert MATCH.grade(PAIRS, None).fraction == 0.0
    assert MATCH.grade(PAIRS, {}).fraction == 0.0


def test_match_choices_include_distractors_once():
    data = {"pairs": [*PAIRS["pairs"], {"left": "Kazakh SSR", "right": "Astana"}]}
    assert MATCH.choices(data) == ["Bishkek", "Astana", "Tashkent", "Dushanbe"]
    response = {"1": "Astana", "4": "Astana"}
    assert MATCH.grade(data, response).fraction == pytest.approx(2 / 4)


def test_match_reads_the_form():
    form = MultiDict({"q-0": "Bishkek", "q-1": "", "q-2": "Paris", "q-3": "Dushanbe"})
    assert MATCH.response_from_form(PAIRS, form, "q") == {"0": "Bishkek"}
    assert MATCH.response_from_form(PAIRS, MultiDict({}), "q") is None


def test_match_validation_and_right_answer():
    assert MATCH.validate(PAIRS) == {}
    one = {"pairs": [{"left": "a", "right": "b"}, {"left": "", "right": "c"}]}
    assert "pairs" in MATCH.validate(one)
    missing = {"pairs": [{"left": "a", "right": "b"}, {"left": "c", "right": " "}]}
    assert "pairs.1.right" in MATCH.validate(missing)
    assert MATCH.right_answer(PAIRS).startswith("Kyrgyzstan → Bishkek; ")


# --- essay and description -------------------------------------------------------------


def test_essay_waits_for_a_teacher():
    essay = Essay()
    assert essay.manual
    assert essay.grade({}, "My answer") == Grade(None)
    assert essay.grade({}, None).fraction is None
    assert essay.response_from_form({}, MultiDict({"q": "  text "}), "q") == "text"
    assert essay.response_from_form({}, MultiDict({"q": "  "}), "q") is None
    assert essay.validate({}) == {}


def test_description_is_not_answerable():
    description = Description()
    assert not description.answerable
    assert description.response_from_form({}, MultiDict({"q": "x"}), "q") is None
    assert description.grade({}, None).fraction is None
    assert description.right_answer({}) == ""


def test_numerical_catch_all_answer_gives_its_feedback(app):
    """GIFT's `~#feedback` in a numerical question is Moodle's "*" answer (fixture Q5)."""
    from quizzes.question_types import get_type

    data = {
        "answers": [
            {"value": 1492, "tolerance": 0, "fraction": 1.0, "feedback": "Right."},
            {"value": "*", "tolerance": 0, "fraction": 0.0, "feedback": "Think of Columbus."},
        ]
    }
    numerical = get_type("numerical")
    assert numerical.validate(data) == {}
    assert numerical.grade(data, "1492").fraction == 1.0
    wrong = numerical.grade(data, "1500")
    assert wrong.fraction == 0.0 and wrong.feedback == "Think of Columbus."
