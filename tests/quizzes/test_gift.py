"""The GIFT parser and writer against Moodle's own fixtures and rules.

The expected types come from the conformance notes (shared/conformance/gift/EXPECTED.md),
which were derived from Moodle's importer; the "(amb)" questions there each get a targeted
test, because they are where a plausible parser goes wrong.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

from quizzes.gift import GiftError, ParsedQuestion, parse_gift, write_gift

GIFT_DIR = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "gift"
EXAMPLES = "moodle-examples.gift.txt"
QUESTIONS = "moodle-fixture-questions.gift.txt"
IN_CATEGORY = "moodle-fixture-questions-in-category.gift.txt"


def fixture_text(name: str) -> str:
    path = GIFT_DIR / name
    if not path.is_file():
        pytest.skip(f"conformance fixture {path} is missing (clone shared/ beside the repo)")
    return path.read_text(encoding="utf-8")


def kind(question: ParsedQuestion) -> str:
    """The type as EXPECTED.md names it: multichoice is split by single/multiple answer."""
    if question.qtype == "multichoice":
        return "mc-single" if question.data["single"] else "mc-multiple"
    return question.qtype


def only(text: str) -> ParsedQuestion:
    questions = parse_gift(text).questions
    assert len(questions) == 1, questions
    return questions[0]


def problems(text: str) -> list[tuple[int, str]]:
    with pytest.raises(GiftError) as caught:
        parse_gift(text)
    return [(p.line, str(p.message)) for p in caught.value.problems]


# --- the three conformance files ------------------------------------------------------------

EXAMPLES_EXPECTED = [
    (8, "mc-single"),
    (10, "mc-single"),
    (12, "truefalse"),
    (14, "shortanswer"),
    (16, "numerical"),
    (25, "mc-single"),
    (27, "mc-single"),
    (29, "mc-single"),
    (35, "mc-single"),
    (43, "shortanswer"),
    (45, "shortanswer"),
    (49, "truefalse"),
    (51, "truefalse"),
    (55, "match"),
    (61, "match"),
    (70, "numerical"),
    (72, "numerical"),
    (74, "numerical"),
    (76, "numerical"),
    (85, "numerical"),
    (90, "shortanswer"),
    (93, "mc-single"),
    (98, "mc-single"),
    (103, "shortanswer"),
    (108, "shortanswer"),
    (113, "truefalse"),
    (115, "mc-single"),
    (117, "mc-single"),
    (123, "shortanswer"),
    (130, "mc-multiple"),
    (136, "mc-multiple"),
    (143, "mc-single"),
    (148, "mc-single"),
    (167, "mc-single"),
    (169, "mc-single"),
    (171, "truefalse"),
    (173, "shortanswer"),
    (175, "numerical"),
    (177, "match"),
    (184, "mc-single"),
    (190, "mc-single"),
    (195, "shortanswer"),
    (202, "numerical"),
]

QUESTIONS_EXPECTED = [
    (2, "essay", "Q8"),
    (5, "match", "Moodle activities"),
    (14, "mc-single", "Q2"),
    (22, "mc-multiple", "colours"),
    (31, "numerical", "Q5"),
    (34, "shortanswer", "Shortanswer"),
    (41, "truefalse", "Q1"),
    (46, "truefalse", "2-08 TSL"),
    (49, "truefalse", "2-08 TSL"),
]

IN_CATEGORY_EXPECTED = [
    (5, "match", "Moodle activities"),
    (14, "mc-single", "Greeting"),
    (22, "shortanswer", "Moodle user"),
    (27, "truefalse", "Moodle acronym"),
]


def test_examples_file_gives_43_questions_of_moodles_types():
    result = parse_gift(fixture_text(EXAMPLES))
    assert len(result.questions) == 43
    assert [(q.line, kind(q)) for q in result.questions] == EXAMPLES_EXPECTED
    assert Counter(kind(q) for q in result.questions) == {
        "mc-single": 16,
        "mc-multiple": 2,
        "shortanswer": 9,
        "numerical": 8,
        "truefalse": 5,
        "match": 3,
    }
    assert result.categories_changed == []


def test_fixture_questions_file_gives_9_questions():
    result = parse_gift(fixture_text(QUESTIONS))
    assert [(q.line, kind(q), q.name) for q in result.questions] == QUESTIONS_EXPECTED
    assert Counter(kind(q) for q in result.questions) == {
        "essay": 1,
        "match": 1,
        "mc-single": 1,
        "mc-multiple": 1,
        "numerical": 1,
        "shortanswer": 1,
        "truefalse": 3,
    }


def test_fixture_in_category_gives_4_questions_and_one_category_change():
    result = parse_gift(fixture_text(IN_CATEGORY))
    assert [(q.line, kind(q), q.name) for q in result.questions] == IN_CATEGORY_EXPECTED
    assert result.categories_changed == ["$course$/Default for New Features"]
    assert {q.category for q in result.questions} == {"$course$/Default for New Features"}
    assert {q.text_format for q in result.questions} == {"html"}
    greeting = result.questions[1]
    assert greeting.text.startswith(
        '<a href="http://demo.moodle.net/file.php/5/media/bonjour.mp3">Listen to this greeting:</a>'
    )
    moodle_user = result.questions[2]
    assert moodle_user.data["answers"] == [{"text": "Moodler", "fraction": 1.0, "feedback": ""}]
    assert result.questions[3].data["correct"] is True


@pytest.mark.parametrize("name", [EXAMPLES, QUESTIONS, IN_CATEGORY])
def test_writing_and_reading_back_gives_the_same_questions(name):
    first = parse_gift(fixture_text(name))
    again = parse_gift(write_gift(first.questions))
    assert len(again.questions) == len(first.questions)
    for original, copy in zip(first.questions, again.questions, strict=True):
        assert copy == original
    assert again.categories_changed == first.categories_changed


# --- the "(amb)" questions of EXPECTED.md, one rule each -----------------------------------


@pytest.fixture(scope="module")
def examples() -> list[ParsedQuestion]:
    return parse_gift(fixture_text(EXAMPLES)).questions


def test_numerical_missing_word_after_the_closing_brace(examples):
    # 17 and 18: the "." after } makes a missing-word question, still numerical.
    pi = examples[16]
    assert pi.qtype == "numerical"
    assert pi.text == "What is the value of pi (to 3 decimal places)? _____."
    assert pi.data["answers"] == [
        {"value": 3.1415, "tolerance": 0.0005, "fraction": 1.0, "feedback": ""}
    ]
    ranged = examples[17]
    assert ranged.text == pi.text
    assert ranged.data["answers"] == pi.data["answers"]  # 3.141..3.142 is 3.1415 ± 0.0005


def test_numerical_with_equals_answers_is_not_shortanswer(examples):
    # 19 and 43: "=" answers after a leading "#".
    for question in (examples[18], examples[42]):
        assert question.qtype == "numerical"
        values = [(a["value"], a["tolerance"], a["fraction"]) for a in question.data["answers"]]
        assert values == [(1822.0, 0.0, 1.0), (1822.0, 2.0, 0.5)]
    assert examples[42].name == "Numerical example"
    assert examples[42].data["answers"][1]["feedback"] == (
        "He was born in 1822.\nYou get 50% credit for being close."
    )
    assert only("Q {#=1822:0 =%50%1822:2}").qtype == "numerical"


def test_single_equals_answer_without_tilde_is_shortanswer(examples):
    # 21: {=China} under a "Question Name" heading.
    question = examples[20]
    assert (question.name, question.qtype) == ("Kanji Origins", "shortanswer")
    assert question.text == "Japanese characters originally\ncame from what country?"
    assert question.data == {
        "answers": [{"text": "China", "fraction": 1.0, "feedback": ""}],
        "case_sensitive": False,
    }
    assert only("Capital? {=Bishkek}").qtype == "shortanswer"


def test_truefalse_feedback_is_cut_before_the_true_false_check(examples):
    # 26: {FALSE#...}: the first # is the feedback for a wrong response (here: "true").
    question = examples[25]
    assert question.qtype == "truefalse"
    assert question.data == {
        "correct": False,
        "feedback_true": "No one is buried in Grant's tomb.",
        "feedback_false": "",
    }


def test_truefalse_wrong_and_right_feedback_and_general_feedback():
    question = parse_gift(fixture_text(QUESTIONS)).questions[6]
    assert question.qtype == "truefalse"
    assert question.text == '42 is the Absolute Answer to everything._____";'
    assert question.data == {
        "correct": False,
        "feedback_true": "42 is the Ultimate Answer.",
        "feedback_false": "You gave the right answer.",
    }
    assert question.general_feedback == (
        "This is, of course, a Hitchiker's Guide to the Galaxy reference."
    )
    true = only("Sky is blue. {T#No, it is blue.#Yes.}")
    assert true.data == {
        "correct": True,
        "feedback_true": "Yes.",
        "feedback_false": "No, it is blue.",
    }


def test_partial_credit_with_an_equals_answer_stays_single(examples):
    # 27, 28 and 41.
    fractions = {
        27: [0.0, 0.5, 1.0],
        28: [0.0, 0.25, 0.5, 1.0],
        41: [0.0, 0.5, 1.0],
    }
    for number, expected in fractions.items():
        question = examples[number - 1]
        assert question.qtype == "multichoice" and question.data["single"] is True
        assert [a["fraction"] for a in question.data["answers"]] == expected
    assert examples[27].name == "Jesus' hometown"
    assert examples[27].text == "Jesus Christ was from _____."
    assert examples[40].data["answers"][1] == {
        "text": "half credit answer",
        "format": "moodle",
        "fraction": 0.5,
        "feedback": "comment on answer",
    }


def test_no_equals_answer_makes_multiple_answer(examples):
    # 30 and 31, including negative weights.
    assert examples[29].data["single"] is False
    assert [a["fraction"] for a in examples[29].data["answers"]] == [0.0, 0.5, 0.5, 0.0]
    assert examples[30].data["single"] is False
    assert [a["fraction"] for a in examples[30].data["answers"]] == [-0.5, 0.5, 0.5, -0.5]
    colours = parse_gift(fixture_text(QUESTIONS)).questions[3]
    assert [a["fraction"] for a in colours.data["answers"]] == [0.5, -1.0, 0.5, -1.0]


def test_weighted_equals_answers_without_tilde_are_shortanswer(examples):
    # 29 and 42.
    for question in (examples[28], examples[41]):
        assert question.qtype == "shortanswer"
        assert [(a["text"], a["fraction"]) for a in question.data["answers"]] == [
            ("Nazareth", 1.0),
            ("Nazereth", 0.75),
            ("Bethlehem", 0.25),
        ]
    assert examples[28].text == "Jesus Christ was from"
    assert examples[41].text == "Jesus Christ was from _____."


def test_escaped_control_characters_are_text(examples):
    # 32: escaped "=" in the options.
    assert [(a["text"], a["fraction"]) for a in examples[31].data["answers"]] == [
        ("= 2 + 2", 0.0),
        ("= 2 + 3", 1.0),
        ("= 2 + 4", 0.0),
    ]
    # 33: every control character escaped; the right option is one backslash.
    question = examples[32]
    assert question.name == "GIFT Control Characters"
    answers = question.data["answers"]
    assert [a["text"] for a in answers] == ["~", "=", "#", "{", "}", "\\"]
    assert [a["fraction"] for a in answers] == [0.0] * 5 + [1.0]
    assert answers[0]["feedback"] == "~ is a control character."
    assert answers[5]["feedback"].startswith("Correct! \\ (backslash) is not a control character.")
    assert answers[5]["feedback"].endswith("(as shown in this example).")
    assert only(r"a\:b \\ c\n d {T}").text == "a:b \\ c\n d"


def test_numerical_with_tilde_wrong_feedback_is_numerical():
    question = parse_gift(fixture_text(QUESTIONS)).questions[4]
    assert question.qtype == "numerical"
    assert question.text == 'What is a number from 1 to 5? _____";'
    assert question.data["answers"] == [
        {"value": 3.0, "tolerance": 2.0, "fraction": 1.0, "feedback": ""},
        {"value": "*", "tolerance": 0.0, "fraction": 0.0, "feedback": "Completely wrong"},
    ]
    assert only("Q {#3:2~#wrong}").qtype == "numerical"


def test_match_with_formats_and_a_distractor():
    question = parse_gift(fixture_text(QUESTIONS)).questions[1]
    assert question.text_format == "html"
    assert question.text == "Match the <b>activity</b> to the description."
    assert question.data["pairs"][0] == {
        "left": "An activity supporting asynchronous discussions.",
        "right": "Forum",
    }
    assert question.data["pairs"][-1] == {"left": "", "right": "Chat"}
    assert len(question.data["pairs"]) == 5


# --- splitting, comments, names, formats ---------------------------------------------------


def test_blocks_comments_and_line_endings():
    text = (
        "\ufeff// only a comment\r\n\r\n// a comment first\r\nQ1 {T}\r\n   \r\nQ2 {F}\rQ2 goes on"
    )
    questions = parse_gift(text).questions
    assert [(q.line, q.text) for q in questions] == [(4, "Q1"), (6, "Q2 _____\nQ2 goes on")]


def test_names_default_to_the_start_of_the_text():
    assert only("::  My name  ::Text {T}").name == "My name"
    long = "<p>" + "word " * 40 + "</p> {T}"
    name = only(long).name
    assert len(name) <= 100 and name.startswith("word word") and "<" not in name
    assert only(r"::a\:b::Text {T}").name == "a:b"


def test_formats_and_unknown_markers():
    question = only("[markdown]**Bold** {=a#[html]<b>fb</b>}")
    assert question.text_format == "markdown" and question.text == "**Bold**"
    assert question.data["answers"][0]["feedback"] == "<b>fb</b>"
    assert only("[note] text {T}").text == "[note] text"
    options = only("Q {=[plain]a ~b}").data["answers"]
    assert [a["format"] for a in options] == ["plain", "moodle"]


def test_description_essay_and_general_feedback():
    description = only("::Intro:: Read the text below.")
    assert (description.qtype, description.default_mark, description.data) == (
        "description",
        0.0,
        {},
    )
    essay = only("Describe your madrasa. {####We look for detail.}")
    assert (essay.qtype, essay.general_feedback, essay.default_mark) == (
        "essay",
        "We look for detail.",
        1.0,
    )


def test_missing_word_at_the_start_and_text_after_the_braces():
    assert only("{=Bishkek ~Osh} is the capital.").text == "_____ is the capital."
    assert only("Capital: {=Bishkek ~Osh}").text == "Capital:"


# --- problems are reported by line --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("// c\nWhat?\n{\n=a ~b\n\nNext {T}", 3, "not closed"),
        ("Q1 {T}\n\nWhat? } {T}", 3, "without a {"),
        ("A {=a ~b} B {=b ~c}", 1, "only one answer part"),
        ("Q {a ~b =c}", 1, "must start with ~"),
        ("Q {~a}", 1, "at least two options"),
        ("Q {\n~a\n~ #feedback\n=c}", 3, "option of the multiple-choice question is empty"),
        ("Q {=%50%a ~b}", 1, "~%50%"),
        ("Q {\n~%5O%a\n=b}", 2, "%5O% is not a number"),
        ("Q {~%150%a =b}", 1, "outside -100% to 100%"),
        ("Q {#\n=1822\n=abc}", 3, "“abc” is not a number"),
        ("Q {#3,14}", 1, "write decimals with a dot, like 3.14"),
        ("Q {#3:-1}", 1, "negative"),
        ("Q {#5..3}", 1, "larger than the second"),
        ("Q {#}", 1, "no answer"),
        ("Q {=a -> b}", 1, "at least two pairs"),
        ("Q {=a -> b = -> c}", 1, "at least two pairs"),
        ("Q {\n=a -> b\n=c d\n=e -> f}", 3, "“c d” is not a pair"),
        ("Q {\n=a -> b\n=c ->\n=e -> f}", 3, "nothing after ->"),
        ("::name Q {T}", 1, "name is not closed"),
        ("::n::{T}", 1, "no text"),
        ("$CATEGORY: a\nQ {T}", 1, "blank line after the $CATEGORY"),
        ("Q {=}", 1, "accepted answer is empty"),
    ],
)
def test_malformed_gift_is_reported_with_its_line(text, line, words):
    found = problems(text)
    assert any(n == line and words in message for n, message in found), found


def test_every_problem_in_the_file_is_reported():
    text = "Good {T}\n\nBad {#x}\n\nAlso good {=a ~b}\n\nBad too {~a}\n\nUnclosed {=a ~b"
    assert [line for line, _ in problems(text)] == [3, 7, 9]


def test_a_blank_line_inside_braces_is_explained():
    found = problems("Q {\n=a\n\n~b}")
    assert [line for line, _ in found] == [1, 4]
    assert all("blank line" in message for _, message in found)


# --- writing -------------------------------------------------------------------------------


def test_writer_escapes_and_marks_what_would_otherwise_be_syntax():
    tricky = [
        ParsedQuestion(
            qtype="multichoice",
            name="a::b # {c}",
            text="[x] 50% ~ = Line one\nline two",
            data={
                "single": True,
                "answers": [
                    {"text": "%50% of them", "format": "moodle", "fraction": 1.0, "feedback": ""},
                    {"text": "[tag]", "format": "html", "fraction": 1.0, "feedback": "[a]"},
                    {"text": "c\\", "format": "moodle", "fraction": -0.3333333, "feedback": "x"},
                ],
                "shuffle": True,
            },
            general_feedback="gen # eral",
        ),
        ParsedQuestion(
            qtype="numerical",
            name="n",
            text="_____ is the answer",
            data={
                "answers": [
                    {"value": "*", "tolerance": 0.0, "fraction": 0.5, "feedback": "any"},
                    {"value": 1e-7, "tolerance": 0.0, "fraction": 1.0, "feedback": ""},
                    {"value": "*", "tolerance": 0.0, "fraction": 0.0, "feedback": ""},
                ]
            },
            category="Top/Sub",
        ),
        ParsedQuestion(
            qtype="shortanswer",
            name="s",
            text="Say %",
            data={
                "answers": [{"text": "%x%", "fraction": 0.1, "feedback": ""}],
                "case_sensitive": False,
            },
            category="Top/Sub",
        ),
        ParsedQuestion(
            qtype="truefalse",
            name="t",
            text="True?",
            data={"correct": True, "feedback_true": "right", "feedback_false": ""},
            general_feedback="g",
            category="Other",
        ),
        ParsedQuestion(qtype="essay", name="e", text="Write _____", category="Other"),
        ParsedQuestion(
            qtype="description", name="d", text="{not} answers", default_mark=0.0, category="Other"
        ),
    ]
    written = write_gift(tricky)
    assert "::a\\:\\:b \\# \\{c\\}::" in written
    assert "$CATEGORY: Top/Sub" in written and "$CATEGORY: Other" in written
    result = parse_gift(written)
    assert result.questions == tricky
    assert result.categories_changed == ["Top/Sub", "Other"]


def test_writer_keeps_single_and_multiple_answer():
    all_right = only("Q {=a ~%100%b}")
    assert all_right.data["single"] is True
    assert only(write_gift([all_right])) == all_right
    multiple = only("Q {~%100%a ~b}")
    assert multiple.data["single"] is False
    assert only(write_gift([multiple])) == multiple


def test_writer_handles_what_only_one_form_can_express():
    arrow = only("Q {a->b#see x->y}")  # no "=": short answer, which "=" would make a match
    assert arrow.qtype == "shortanswer"
    assert only(write_gift([arrow])) == arrow
    categorised = parse_gift("$CATEGORY: a\\nb \\\\ c\n\nQ {T}")
    assert categorised.questions[0].category == "a\nb \\ c"
    again = parse_gift(write_gift(categorised.questions))
    assert again.questions == categorised.questions


TOKENS = [
    *("a", "b c", " ", "~", "=", "#", "->", "T", "FALSE", "1.5", "..", ":", "3:1", "*"),
    *("\\#", "\\=", "\\~", "\\{", "\\}", "\\\\", "\\n", "\n"),
    *("%50%", "%-25%", "%100%", "%", "####", "[html]", "[x]", "_____"),
]


def test_random_gift_reads_back_the_same_after_writing():
    """Whatever the parser accepts, the writer must express: a seeded sample of odd input."""
    rng = random.Random(20240611)
    accepted = 0
    for _ in range(3000):
        inner = "".join(rng.choice(TOKENS) for _ in range(rng.randint(0, 12)))
        head = rng.choice(["", "::n::", "::a\\:b::", "[html]", "[markdown]"])
        text = head + rng.choice(["Q ", "Text _____ x ", "[y] Q"]) + "{"
        text += rng.choice(["", "#", "=", "~"]) + inner + "}" + rng.choice(["", ".", " tail"])
        try:
            first = parse_gift(text)
        except GiftError:
            continue
        accepted += 1
        assert parse_gift(write_gift(first.questions)).questions == first.questions, text
    assert accepted > 500
