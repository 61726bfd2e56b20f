"""Another package adds a question type through the quizzes plugin's own hook."""

from __future__ import annotations

from typing import Any

import pytest

from lms import hookimpl
from lms.extensions import db
from lms.plugins import PluginError
from quizzes.question_types import Grade, QuestionType, get_type, registry


class Dice(QuestionType):
    """Which face of a die shows the picture? Answered with a number from 1 to 6."""

    id = "dice"
    label = "Dice face"

    def validate(self, data: Any) -> dict[str, list[Any]]:
        return {} if data.get("face") in range(1, 7) else {"face": ["1 to 6"]}

    def response_from_form(self, data: Any, form: Any, prefix: str) -> Any:
        value = str(form.get(prefix) or "").strip()
        return int(value) if value.isdigit() else None

    def grade(self, data: Any, response: Any) -> Grade:
        return Grade(1.0 if response == data["face"] else 0.0)

    def right_answer(self, data: Any) -> str:
        return str(data["face"])


class DicePlugin:
    PLUGIN_NAME = "dice_questions"

    @staticmethod
    @hookimpl
    def register_question_types():
        return [Dice()]


class Clash:
    PLUGIN_NAME = "clashing_questions"

    @staticmethod
    @hookimpl
    def register_question_types():
        class AnotherTrueFalse(Dice):
            id = "truefalse"

        return [AnotherTrueFalse()]


def test_a_plugin_adds_a_question_type_that_banks_use(make_app):
    from curriculum.services import create_manual
    from quizzes.models import QuestionBank
    from quizzes.questions import create_question

    app = make_app(plugins=(DicePlugin,))
    with app.app_context():
        assert {"dice", "multichoice", "truefalse"} <= set(registry())
        create_manual(slug="health-basics", title_en="Health Basics", actor_id=None)
        bank = QuestionBank(name="Games", manual_slug="health-basics")
        db.session.add(bank)
        db.session.flush()
        question = create_question(
            bank, qtype="dice", text="Which face?", data={"face": 4}, actor_id=None
        )
        db.session.commit()
        version = question.versions[0]
        assert get_type(version.qtype).grade(version.data, 4).fraction == 1.0
        assert get_type(version.qtype).grade(version.data, 3).fraction == 0.0


def test_two_packages_cannot_register_one_type_id(make_app):
    app = make_app(plugins=(Clash,))
    with app.app_context(), pytest.raises(PluginError):
        registry()
