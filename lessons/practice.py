"""Stage III practice lessons: the rubric they are scored on, the scores, and the averages.

Each cohort may adapt the default rubric. Criteria removed after someone scored on them
are kept as "retired", so earlier scores still count and show under their label; the scale
is fixed once anything has been scored, so averages never mix scales. Every change of a
lesson's scores appends a ledger record for the participant with the overall average.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from lessons.models import PracticeLesson, PracticeRubric, PracticeScore
from lms.accounts.models import User
from lms.accounts.roles import PARTICIPANT, TRAINER
from lms.audit import services as audit
from lms.cohorts.models import Cohort, Membership
from lms.errors import Conflict, Invalid, NotAllowed, NotFound
from lms.extensions import db
from lms.progress import api as progress
from lms.timeutil import utcnow

ITEM_TYPE = "lessons.practice"
CONTENT, METHODOLOGY = "content", "methodology"
DIMENSIONS: dict[str, Any] = {CONTENT: _l("Content"), METHODOLOGY: _l("Methodology")}
#: Roles of a score: the cohort's trainer, or another participant.
TRAINER_ROLE, PEER_ROLE = "trainer", "peer"
#: Widest scale a cohort may choose.
SCALE_LIMITS = (0, 10)
MAX_LABEL, MAX_COMMENT = 200, 5000

DEFAULT_CRITERIA: tuple[tuple[str, Any, str], ...] = (
    ("objectives", _l("The objectives are clear"), CONTENT),
    ("accuracy", _l("The content is accurate and complete"), CONTENT),
    ("faithful", _l("Faithful to the manual"), CONTENT),
    ("examples", _l("The examples fit the audience"), CONTENT),
    ("interactive", _l("Uses interactive methods"), METHODOLOGY),
    ("timing", _l("Manages the time well"), METHODOLOGY),
    ("involves_all", _l("Involves all participants"), METHODOLOGY),
    ("understanding", _l("Checks understanding"), METHODOLOGY),
)
#: A stored criterion with an empty label uses this one, so it stays translated.
DEFAULT_LABELS: dict[str, Any] = {cid: label for cid, label, _dim in DEFAULT_CRITERIA}


# --- the rubric ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Criterion:
    id: str
    label: Any
    dimension: str
    #: Removed from the rubric after being scored on: not asked any more, still counted.
    retired: bool = False


@dataclass(frozen=True)
class Rubric:
    criteria: tuple[Criterion, ...]
    scale_min: int = 1
    scale_max: int = 5

    @property
    def active(self) -> list[Criterion]:
        return [c for c in self.criteria if not c.retired]

    @property
    def scale(self) -> list[int]:
        return list(range(self.scale_min, self.scale_max + 1))


DEFAULT_RUBRIC = Rubric(tuple(Criterion(cid, label, dim) for cid, label, dim in DEFAULT_CRITERIA))


def _criterion(data: Mapping[str, Any]) -> Criterion:
    cid = str(data.get("id", ""))
    return Criterion(
        id=cid,
        label=data.get("label") or DEFAULT_LABELS.get(cid, cid),
        dimension=str(data.get("dimension", CONTENT)),
        retired=bool(data.get("retired", False)),
    )


def get_rubric(cohort_id: int) -> Rubric:
    """The cohort's rubric, or the default one when it has not been adapted."""
    row = db.session.get(PracticeRubric, cohort_id)
    if row is None:
        return DEFAULT_RUBRIC
    return Rubric(tuple(_criterion(c) for c in row.criteria or ()), row.scale_min, row.scale_max)


@dataclass
class CriterionInput:
    """One line of the rubric form; an empty ``id`` is a new criterion."""

    id: str = ""
    label: str = ""
    dimension: str = CONTENT
    remove: bool = False


def _scored_criteria(cohort_id: int) -> set[str] | None:
    """Criterion ids used by any score in the cohort (None: nothing scored yet)."""
    rows = list(
        db.session.scalars(
            select(PracticeScore.scores)
            .join(PracticeLesson, PracticeLesson.id == PracticeScore.practice_id)
            .where(PracticeLesson.cohort_id == cohort_id)
        )
    )
    if not rows:
        return None
    return {cid for scores in rows for cid in scores or {}}


def has_scores(cohort_id: int) -> bool:
    """Whether any practice lesson of the cohort has been scored (the scale is then fixed)."""
    return _scored_criteria(cohort_id) is not None


def _new_id(taken: set[str]) -> str:
    n = 1
    while f"c{n}" in taken:
        n += 1
    taken.add(f"c{n}")
    return f"c{n}"


def save_rubric(
    cohort: Cohort,
    rows: Iterable[CriterionInput],
    *,
    scale_min: int | None,
    scale_max: int | None,
    actor_id: int | None,
) -> Rubric:
    """Replace the cohort's criteria and scale; the edits apply to scores given from now on."""
    current = get_rubric(cohort.id)
    known = {c.id: c for c in current.criteria}
    used = _scored_criteria(cohort.id)
    errors: dict[str, list[Any]] = {}
    taken = set(known)
    kept: list[dict[str, Any]] = []
    removed: list[str] = []
    seen: set[str] = set()
    for number, row in enumerate(rows, start=1):
        cid = row.id if row.id in known and not known[row.id].retired else ""
        if cid in seen:
            cid = ""  # the same criterion twice: the second is a new one
        seen.add(cid)
        label = " ".join((row.label or "").split())
        if not cid and not label:
            continue  # an empty line for adding one
        if row.remove:
            if cid:
                removed.append(cid)
            continue
        if not label:
            errors.setdefault("criteria", []).append(
                _l("Line %(n)s: give the criterion a label.", n=number)
            )
        elif len(label) > MAX_LABEL:
            errors.setdefault("criteria", []).append(
                _l("Line %(n)s: use at most %(max)s characters.", n=number, max=MAX_LABEL)
            )
        if row.dimension not in DIMENSIONS:
            errors.setdefault("criteria", []).append(
                _l("Line %(n)s: choose content or methodology.", n=number)
            )
        default = DEFAULT_LABELS.get(cid)
        stored = "" if default is not None and label == str(default) else label
        kept.append({"id": cid or _new_id(taken), "label": stored, "dimension": row.dimension})
    if not kept and not errors:
        errors["criteria"] = [_l("Keep at least one criterion.")]
    low, high = SCALE_LIMITS
    if scale_min is None or scale_max is None or not low <= scale_min < scale_max <= high:
        errors["scale_min"] = [
            _l(
                "Give a scale from a lower to a higher number, between %(a)s and %(b)s.",
                a=low,
                b=high,
            )
        ]
    elif used is not None and (scale_min, scale_max) != (current.scale_min, current.scale_max):
        errors["scale_min"] = [_l("The scale cannot change once a practice lesson is scored.")]
    if errors:
        raise Invalid(field_errors=errors)
    kept_ids = {c["id"] for c in kept}
    retired = [
        {"id": c.id, "label": _stored_label(c), "dimension": c.dimension, "retired": True}
        for c in current.criteria
        if c.id not in kept_ids and used is not None and c.id in used
    ]
    row = db.session.get(PracticeRubric, cohort.id)
    if row is None:
        row = PracticeRubric(cohort_id=cohort.id)
        db.session.add(row)
    row.criteria = kept + retired
    row.scale_min, row.scale_max = scale_min, scale_max
    audit.record(
        "practice.rubric",
        "cohort",
        cohort.id,
        actor_id=actor_id,
        details={
            "criteria": [c["id"] for c in kept],
            "removed": removed,
            "scale": [scale_min, scale_max],
        },
    )
    return get_rubric(cohort.id)


def _stored_label(criterion: Criterion) -> str:
    default = DEFAULT_LABELS.get(criterion.id)
    return "" if default is not None and criterion.label is default else str(criterion.label)


# --- practice lessons ----------------------------------------------------------------------


def practice_lessons(cohort: Cohort) -> list[PracticeLesson]:
    """The cohort's practice lessons with participants and scores (three queries)."""
    return list(
        db.session.scalars(
            select(PracticeLesson)
            .where(PracticeLesson.cohort_id == cohort.id)
            .options(
                joinedload(PracticeLesson.participant),
                selectinload(PracticeLesson.scores).joinedload(PracticeScore.scorer),
            )
            .order_by(PracticeLesson.taught_on, PracticeLesson.id)
        ).unique()
    )


def get_practice(practice_id: int) -> tuple[PracticeLesson, Cohort]:
    practice = db.session.scalar(
        select(PracticeLesson)
        .where(PracticeLesson.id == practice_id)
        .options(
            joinedload(PracticeLesson.participant),
            selectinload(PracticeLesson.scores).joinedload(PracticeScore.scorer),
        )
    )
    if practice is None:
        raise NotFound()
    cohort = db.session.get(Cohort, practice.cohort_id)
    assert cohort is not None  # nosec B101  # narrows a type for mypy; no security decision rests on it
    return practice, cohort


def participants(cohort: Cohort) -> list[User]:
    """Who may teach a practice lesson: the cohort's participants, by name."""
    return list(
        db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.cohort_id == cohort.id, Membership.role == PARTICIPANT)
            .order_by(User.name, User.id)
        )
    )


def add_practice(
    cohort: Cohort,
    *,
    participant_id: int | None,
    module_version_id: int | None,
    taught_on: date | None,
    module_ids: Iterable[int],
    actor_id: int | None,
) -> PracticeLesson:
    """Record that a participant teaches (or taught) a module of the cohort's edition."""
    errors: dict[str, list[Any]] = {}
    if participant_id not in {p.id for p in participants(cohort)}:
        errors["participant_id"] = [_l("Choose a participant of this cohort.")]
    if module_version_id not in set(module_ids):
        errors["module_version_id"] = [_l("Choose a module of the cohort's edition.")]
    if taught_on is None:
        errors["taught_on"] = [_l("Enter the date.")]
    if errors:
        raise Invalid(field_errors=errors)
    assert participant_id is not None and taught_on is not None  # nosec B101  # narrows a type for mypy; no security decision rests on it
    practice = PracticeLesson(
        cohort_id=cohort.id,
        participant_id=participant_id,
        module_version_id=module_version_id,
        taught_on=taught_on,
    )
    db.session.add(practice)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Conflict(
            _l("This participant already has a practice lesson on this module."),
            field_errors={"module_version_id": [_l("Already taught by this participant.")]},
        ) from None
    audit.record(
        "practice.add",
        "cohort",
        cohort.id,
        actor_id=actor_id,
        details={"practice": practice.id, "participant": participant_id},
    )
    return practice


# --- scoring -------------------------------------------------------------------------------


def scorer_role(practice: PracticeLesson, user: User) -> str:
    """ "trainer" or "peer"; anyone else (and the participant) may not score."""
    if user.id == practice.participant_id:
        raise NotAllowed(_l("You cannot score your own practice lesson."))
    role = db.session.scalar(
        select(Membership.role).where(
            Membership.cohort_id == practice.cohort_id, Membership.user_id == user.id
        )
    )
    if role == TRAINER:
        return TRAINER_ROLE
    if role == PARTICIPANT:
        return PEER_ROLE
    raise NotAllowed()


def score_of(practice: PracticeLesson, user: User) -> PracticeScore | None:
    return next((s for s in practice.scores if s.scorer_id == user.id), None)


def submit_score(
    practice: PracticeLesson,
    scorer: User,
    values: Mapping[str, int | None],
    comment: str = "",
) -> PracticeScore:
    """Save the scorer's scores on the current rubric, replacing any they gave before."""
    role = scorer_role(practice, scorer)
    rubric = get_rubric(practice.cohort_id)
    errors: dict[str, list[Any]] = {}
    scores: dict[str, int] = {}
    for criterion in rubric.active:
        value = values.get(criterion.id)
        if value is None or value not in rubric.scale:
            errors[criterion.id] = [
                _l("Choose a score from %(a)s to %(b)s.", a=rubric.scale_min, b=rubric.scale_max)
            ]
        else:
            scores[criterion.id] = value
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        errors["comment"] = [_l("Use at most %(n)s characters.", n=MAX_COMMENT)]
    if errors:
        raise Invalid(field_errors=errors)
    score = score_of(practice, scorer)
    if score is None:
        score = PracticeScore(scorer_id=scorer.id, role=role, scores=scores, comment=comment)
        practice.scores.append(score)
        try:
            with db.session.begin_nested():
                db.session.flush()
        except IntegrityError:
            raise Conflict() from None
    else:
        score.role, score.scores, score.comment = role, scores, comment
        score.updated_at = utcnow()
        db.session.flush()
    audit.record(
        "practice.score",
        "practice",
        practice.id,
        actor_id=scorer.id,
        details={"role": role, "scores": scores},
    )
    _record_progress(practice, rubric, actor_id=scorer.id)
    return score


def _record_progress(practice: PracticeLesson, rubric: Rubric, *, actor_id: int | None) -> None:
    result = summarise(rubric, practice.scores)
    progress.record(
        user_id=practice.participant_id,
        cohort_id=practice.cohort_id,
        item_type=ITEM_TYPE,
        item_id=practice.id,
        outcome="scored",
        score=result.overall,
        source="lessons",
        recorded_by_id=actor_id,
        details={
            "content": result.dimension(CONTENT).all,
            "methodology": result.dimension(METHODOLOGY).all,
            "scores": len(practice.scores),
        },
    )


# --- averages ------------------------------------------------------------------------------


def _mean(values: list[int]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


@dataclass(frozen=True)
class Averages:
    """Trainer, peers and everyone, each None when nobody in that group scored."""

    trainer: float | None
    peers: float | None
    all: float | None


@dataclass
class Summary:
    criteria: list[tuple[Criterion, Averages]]
    dimensions: dict[str, Averages]
    overall: float | None
    trainer_count: int = 0
    peer_count: int = 0
    comments: list[PracticeScore] = field(default_factory=list)

    def dimension(self, key: str) -> Averages:
        return self.dimensions.get(key, Averages(None, None, None))


def summarise(rubric: Rubric, scores: Iterable[PracticeScore]) -> Summary:
    """Averages per criterion and per dimension, trainer and peers apart and together.

    A dimension's average is the mean of every score given on its criteria, so each
    scorer weighs the same when everyone scored the same rubric.
    """
    scores = sorted(scores, key=lambda s: (s.role != TRAINER_ROLE, s.created_at, s.id or 0))
    per: dict[tuple[str, str], list[int]] = {}
    dims: dict[tuple[str, str], list[int]] = {}
    dimension_of = {c.id: c.dimension for c in rubric.criteria}
    for score in scores:
        for cid, value in (score.scores or {}).items():
            if cid not in dimension_of:
                continue
            per.setdefault((cid, score.role), []).append(value)
            dims.setdefault((dimension_of[cid], score.role), []).append(value)

    def averages(table: dict[tuple[str, str], list[int]], key: str) -> Averages:
        trainer, peers = table.get((key, TRAINER_ROLE), []), table.get((key, PEER_ROLE), [])
        return Averages(_mean(trainer), _mean(peers), _mean(trainer + peers))

    everything = [v for values in dims.values() for v in values]
    return Summary(
        criteria=[
            (c, averages(per, c.id))
            for c in rubric.criteria
            if not c.retired or (c.id, TRAINER_ROLE) in per or (c.id, PEER_ROLE) in per
        ],
        dimensions={key: averages(dims, key) for key in DIMENSIONS},
        overall=_mean(everything),
        trainer_count=sum(1 for s in scores if s.role == TRAINER_ROLE),
        peer_count=sum(1 for s in scores if s.role == PEER_ROLE),
        comments=[s for s in scores if s.comment],
    )
