"""Demo curriculum for ``lms demo``: the sample manuals with a review history.

Everything here is sample content written for this project. The story it sets up: every
English module was reviewed by the panel; in *hand-hygiene* the theologian asked for a
change, the editor made version 2 and the panel approved it (so the Kyrgyz and Russian
translations of version 1 are now stale); *mental-wellbeing* still awaits a decision;
edition 1 of both manuals is published in English, and in Kyrgyz and Russian with the
translated modules.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from curriculum import editions, io, review, versions
from curriculum.models import ModuleVersion
from curriculum.services import get_manual

SAMPLE = Path(__file__).resolve().parent / "sample"


def load(users: dict[str, Any]) -> None:
    editor = users["editor"]
    theologian, civic = users["reviewer"], users["reviewer2"]
    report = io.import_files(io.read_folder(SAMPLE), actor_id=editor.id)
    for version in report.created:
        versions.submit(version, actor_id=editor.id)

    for slug in ("health-basics", "civic-education"):
        manual = get_manual(slug)
        assert manual is not None  # nosec B101  # narrows a type for mypy; no security decision rests on it
        english = review.ensure_panel(manual, "en", actor_id=None)
        review.add_seat(english, theologian, "theology", actor_id=None)
        review.add_seat(english, civic, "civic_education", actor_id=None)
        review.add_seat(
            review.ensure_panel(manual, "ky", actor_id=None), theologian, "theology", actor_id=None
        )
        review.add_seat(
            review.ensure_panel(manual, "ru", actor_id=None),
            civic,
            "civic_education",
            actor_id=None,
        )

    created = {(v.module.slug, v.language): v for v in report.created}
    for (module, language), version in sorted(created.items()):
        if module == "mental-wellbeing":
            review.decide(version, theologian, "approve")  # the second seat has not decided
            continue
        if module == "hand-hygiene" and language == "en":
            _hand_hygiene_story(version, editor, theologian, civic)
            continue
        if language == "en":
            review.decide(version, theologian, "approve")
            review.decide(version, civic, "approve")
        elif language == "ky":
            review.decide(version, theologian, "approve")
        else:
            review.decide(version, civic, "approve")

    for slug in ("health-basics", "civic-education"):
        manual = get_manual(slug)
        assert manual is not None  # nosec B101  # narrows a type for mypy; no security decision rests on it
        for language in ("en", "ky", "ru"):
            editions.publish(
                manual, language, actor_id=editor.id, notes="Sample edition for the demo."
            )


def _hand_hygiene_story(first: ModuleVersion, editor: Any, theologian: Any, civic: Any) -> None:
    review.decide(first, civic, "approve")
    review.decide(
        first,
        theologian,
        "request_changes",
        "Please say that the hadith speaks first of ritual purity, and give its source.",
    )
    second = versions.new_draft_from(first, author_id=editor.id)
    text = versions.file_text(second)
    marker = "Sahih Muslim 223"
    if marker in text:
        text = text.replace(marker, "Sahih Muslim, hadith 223", 1)
    else:  # keep the story working if the sample text is reworded
        text = (
            text.rstrip("\n") + "\n\n{#p-demo02}\nSource of the hadith: Sahih Muslim, hadith 223.\n"
        )
    versions.save_draft(
        second,
        text,
        expected_lock_version=second.lock_version,
        change_summary="The hadith's source is given in full, as the theology reviewer asked.",
        actor_id=editor.id,
    )
    versions.submit(second, actor_id=editor.id)
    review.decide(second, theologian, "approve")
    review.decide(second, civic, "approve")
