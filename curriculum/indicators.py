"""The curriculum plugin's report indicators: editions in use, and field feedback.

"Using an edition" is what the curriculum records: the edition a class is pinned to on its
page, or — for a class that is not pinned — the latest edition of its manual (which edition
that is depends on the reader's language, so those classes are counted apart). Feedback on
the manuals belongs to no region or madrasa, so it is reported only for the whole country.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import url_for
from flask_babel import format_datetime, pgettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, String, and_, case, distinct, func, literal, select, union_all

from curriculum.feedback import SOURCES, STATUSES
from curriculum.models import CohortEdition, Edition, Feedback, Manual, Module, ModuleVersion
from lms.accounts.models import User
from lms.accounts.roles import SEXES, TEACHER
from lms.cohorts.models import CLASS, Membership
from lms.config import LANGUAGES
from lms.errors import Invalid
from lms.extensions import db
from lms.reports.indicators import (
    Chart,
    Column,
    DrillPage,
    DrillRequest,
    Indicator,
    Link,
    ReportFilters,
    Row,
    Table,
    sex_columns,
)

EDITIONS_ID = "curriculum.editions"
FEEDBACK_ID = "curriculum.feedback"
NOT_PINNED = "none"


def indicators() -> list[Indicator]:
    return [
        Indicator(
            EDITIONS_ID,
            _l("Madrasas and teachers using each manual edition"),
            _l(
                "Madrasa classes running in the period, by the manual edition they teach from:"
                ' the edition pinned on the class\'s page, or "latest edition" for classes'
                " that follow the newest one. Madrasas, classes and teachers (the teachers of"
                " those classes) are counted once per row."
            ),
            compute_editions,
            drill_editions,
            order=25,
        ),
        Indicator(
            FEEDBACK_ID,
            _l("Field feedback received and resolved per module"),
            _l(
                "Feedback on the manuals sent from ToTs, monitoring visits and classrooms in"
                " the period. Triaged: accepted, rejected or deferred by an editor. Resolved:"
                " linked to the module version that answers it. Feedback belongs to no region"
                " or madrasa, so it is shown only for the whole country."
            ),
            compute_feedback,
            drill_feedback,
            order=70,
        ),
    ]


# --- editions in use -----------------------------------------------------------------------


def _classes(filters: ReportFilters) -> Any:
    """Classes in the filters with their pinned edition and their teachers (outer joins)."""
    cohorts = filters.cohorts(kind=CLASS)
    query = (
        select(literal(1))
        .select_from(cohorts)
        .outerjoin(CohortEdition, CohortEdition.cohort_id == cohorts.c.id)
        .outerjoin(Edition, Edition.id == CohortEdition.edition_id)
        .outerjoin(
            Membership, and_(Membership.cohort_id == cohorts.c.id, Membership.role == TEACHER)
        )
        .outerjoin(User, User.id == Membership.user_id)
    )
    return query, cohorts


def compute_editions(filters: ReportFilters) -> Sequence[Table]:
    """Distinct madrasas, classes and teachers per edition, per manual and in all.

    One statement. The classes in the filters, with their pinned edition and their
    teachers, are gathered once (a CTE of about one row per class) and each level is
    counted from it, rather than joining and scanning the memberships once per level. A
    teacher's sex is read by primary key for each teacher row (a correlated subquery)
    rather than by joining the user table, which the planner hashed whole (over 150,000
    users at scale 10) to look up a few thousand teachers. Editions are grouped by id, and
    their language and number joined to the few grouped rows.

    Two figures are added up instead of counted again, which is exact: the edition rows
    split the classes (a class has one manual and at most one pinned edition), so a
    manual's classes and all classes are sums of edition rows; and a teacher has exactly
    one sex (``lms_user.sex`` is NOT NULL and checked to be female or male), so the
    teachers of a row are its women plus its men, as ``sex_values`` totals elsewhere.
    """
    cohorts = filters.cohorts(kind=CLASS)
    sex = select(User.sex).where(User.id == Membership.user_id).scalar_subquery()
    base = (
        select(
            cohorts.c.manual,
            CohortEdition.edition_id,
            cohorts.c.madrasa_id,
            cohorts.c.id.label("cohort_id"),
            Membership.user_id,
            sex.label("sex"),
        )
        .select_from(cohorts)
        .outerjoin(CohortEdition, CohortEdition.cohort_id == cohorts.c.id)
        .outerjoin(
            Membership, and_(Membership.cohort_id == cohorts.c.id, Membership.role == TEACHER)
        )
        .cte("edition_classes")
    )

    def teachers(sex: str) -> Any:
        return func.count(distinct(case((base.c.sex == sex, base.c.user_id))))

    madrasas = func.count(distinct(base.c.madrasa_id))
    per_edition = (
        select(
            base.c.manual,
            base.c.edition_id,
            madrasas.label("madrasas"),
            func.count(distinct(base.c.cohort_id)).label("classes"),
            teachers("female").label("female"),
            teachers("male").label("male"),
        )
        .group_by(base.c.manual, base.c.edition_id)
        .subquery("per_edition")
    )
    none = literal(None, Integer)
    parts = [
        select(
            literal("edition"),
            per_edition.c.manual,
            per_edition.c.edition_id,
            Edition.language,
            Edition.number,
            *per_edition.c["madrasas", "classes", "female", "male"],
        ).outerjoin(Edition, Edition.id == per_edition.c.edition_id),
        select(
            literal("manual"),
            base.c.manual,
            none,
            literal(None, String),
            none,
            madrasas,
            none,
            teachers("female"),
            teachers("male"),
        ).group_by(base.c.manual),
        select(
            literal("total"),
            literal(""),
            none,
            literal(None, String),
            none,
            madrasas,
            none,
            teachers("female"),
            teachers("male"),
        ),
    ]
    labels = filters.labels
    # Ties (two manuals with one name, or two editions with one language and number under
    # one class manual) are broken by slug and edition id, so the order never depends on
    # the plan.
    rows = sorted(
        db.session.execute(union_all(*parts)).all(),
        key=lambda r: (
            labels.manual(r[1]),
            r[2] is None,
            r[3] or "",
            r[4] or 0,
            r[1] or "",
            r[2] or 0,
        ),
    )
    classes: dict[str, int] = {}
    for level, manual, _pinned, _language, _number, _madrasas, count, *_sexes in rows:
        if level == "edition":
            classes[manual] = classes.get(manual, 0) + int(count)
    by_edition: list[Row] = []
    by_manual: list[Row] = []
    total = Row(str(_l("Total")), _edition_values(0, 0, 0, 0), {}, total=True)
    for level, manual, pinned, language, number, places, count, female, male in rows:
        slug = manual or ""
        if level == "total":
            if classes:
                total = Row(
                    str(_l("Total")),
                    _edition_values(places, sum(classes.values()), female, male),
                    {},
                    total=True,
                )
        elif level == "manual":
            by_manual.append(
                Row(
                    labels.manual(slug),
                    _edition_values(places, classes.get(manual, 0), female, male),
                    {"manual": slug or "-"},
                )
            )
        else:
            edition_id = NOT_PINNED if pinned is None else str(pinned)
            if pinned is None:
                what = str(_l("latest edition (not pinned)"))
            else:
                what = str(
                    _l(
                        "edition %(number)s, %(language)s",
                        number=number,
                        language=LANGUAGES.get(language, language),
                    )
                )
            by_edition.append(
                Row(
                    f"{labels.manual(slug)}: {what}",
                    _edition_values(places, count, female, male),
                    {"manual": slug or "-", "edition": edition_id},
                )
            )
    columns = (
        Column("madrasas", _l("Madrasas"), drill={"what": "madrasas"}),
        Column("classes", _l("Classes"), drill={"what": "classes"}),
        *(
            Column(
                f"t_{c.id}", c.label, drill={**c.drill, "what": "teachers"}, group=_l("Teachers")
            )
            for c in sex_columns()
        ),
    )
    return [
        Table(
            "by_edition",
            _l("By edition"),
            _l("Edition"),
            columns,
            (*by_edition, total),
            Chart(("madrasas", "classes")),
        ),
        Table("by_manual", _l("By manual"), _l("Manual"), columns, (*by_manual, total)),
    ]


def _edition_values(madrasas: Any, classes: Any, female: Any, male: Any) -> dict[str, int]:
    """A row's values; its teachers are its women plus its men (see ``compute_editions``)."""
    women, men = int(female or 0), int(male or 0)
    return {
        "madrasas": int(madrasas or 0),
        "classes": int(classes or 0),
        "t_female": women,
        "t_male": men,
        "t_total": women + men,
    }


def drill_editions(filters: ReportFilters, request: DrillRequest) -> DrillPage:
    """The classes, madrasas or teachers behind a figure."""
    request.only("manual", "edition", "what", "sex")
    query, cohorts = _classes(filters)
    manual = request.get("manual")
    if manual is not None:
        query = query.where(cohorts.c.manual == ("" if manual == "-" else manual))
    edition = request.get("edition")
    if edition == NOT_PINNED:
        query = query.where(CohortEdition.edition_id.is_(None))
    elif edition is not None:
        query = query.where(CohortEdition.edition_id == request.get_int("edition"))
    what = request.get("what")
    labels = filters.labels
    if what == "classes":
        rows, total = request.fetch(
            query.with_only_columns(cohorts.c.id, cohorts.c.name, cohorts.c.madrasa_id)
            .distinct()
            .order_by(cohorts.c.name, cohorts.c.id)
        )
        return DrillPage(
            (_l("Class"), _l("Madrasa")),
            [
                (Link(name, url_for("cohorts.view", cohort_id=cid)), labels.madrasa(mid))
                for cid, name, mid in rows
            ],
            total,
        )
    if what == "madrasas":
        rows, total = request.fetch(
            query.with_only_columns(cohorts.c.madrasa_id, func.count(distinct(cohorts.c.id)))
            .group_by(cohorts.c.madrasa_id)
            .order_by(cohorts.c.madrasa_id)
        )
        return DrillPage(
            (_l("Madrasa"), _l("Region"), _l("Classes")),
            [
                (
                    Link(labels.madrasa(mid), url_for("organisations.madrasa", madrasa_id=mid)),
                    labels.region(labels.madrasas.get(mid, ("", None))[1]),
                    count,
                )
                for mid, count in rows
            ],
            total,
        )
    if what == "teachers":
        query = query.where(Membership.user_id.is_not(None))
        if request.sex is not None:
            query = query.where(User.sex == request.sex)
        rows, total = request.fetch(
            query.with_only_columns(
                User.id, User.name, User.sex, func.count(distinct(cohorts.c.id))
            )
            .group_by(User.id, User.name, User.sex)
            .order_by(User.name, User.id)
        )
        return DrillPage(
            (_l("Teacher"), _l("Sex"), _l("Classes")),
            [(name, str(SEXES[sex]), count) for _uid, name, sex, count in rows],
            total,
        )
    raise Invalid(_l("This figure cannot be opened."))


# --- field feedback ------------------------------------------------------------------------

_FEEDBACK_NOTE = _l(
    "Feedback on the manuals is not recorded per region, madrasa or cohort, so it is shown"
    " only with no region, madrasa or cohort chosen, to viewers who see the whole country."
)


def _feedback_query(filters: ReportFilters, *columns: Any) -> Any:
    query = (
        select(*columns)
        .select_from(Feedback)
        .join(Module, Module.id == Feedback.module_id)
        .join(Manual, Manual.id == Module.manual_id)
        .where(filters.at_times(Feedback.created_at))
    )
    if filters.manual:
        query = query.where(Manual.slug == filters.manual)
    return query


def _feedback_columns() -> tuple[Column, ...]:
    # "From" as in "sent from", not the start of a period.
    source = pgettext("feedback source", "From")
    return (
        Column("received", _l("Received")),
        *(
            Column(f"src_{key}", label, drill={"source": key}, group=source)
            for key, label in SOURCES.items()
        ),
        Column("triaged", _l("Triaged"), drill={"status": "triaged"}),
        Column("accepted", STATUSES["accepted"], drill={"status": "accepted"}),
        Column("resolved", _l("Resolved"), drill={"resolved": "1"}),
    )


def compute_feedback(filters: ReportFilters) -> Sequence[Table]:
    """Counts per module and each module's latest title, in one statement."""
    columns = _feedback_columns()
    if filters.limited:
        return [
            Table("by_module", _l("By module"), _l("Module"), columns, (), None, _FEEDBACK_NOTE),
            Table("by_manual", _l("By manual"), _l("Manual"), columns, ()),
        ]
    figures = (
        func.count(Feedback.id),
        *(func.count(case((Feedback.source == key, 1))) for key in SOURCES),
        func.count(case((Feedback.status != "new", 1))),
        func.count(case((Feedback.status == "accepted", 1))),
        func.count(Feedback.resolved_by_version_id),
    )
    grouped = (
        _feedback_query(
            filters,
            Module.id.label("module_id"),
            Manual.slug.label("slug"),
            func.max(Feedback.version_id).label("version_id"),
            *(figure.label(f"figure_{index}") for index, figure in enumerate(figures)),
        )
        .group_by(Module.id, Manual.slug)
        .subquery("feedback_counts")
    )
    found = db.session.execute(
        select(grouped, ModuleVersion.title).outerjoin(
            ModuleVersion, ModuleVersion.id == grouped.c.version_id
        )
    ).all()
    titles = {row[0]: row[-1] or "" for row in found}
    rows = [tuple(row[:-1]) for row in found]
    ids = [c.id for c in columns]
    labels = filters.labels
    totals: dict[str, list[int]] = {}
    by_module = []
    for module_id, slug, _version, *values in sorted(
        rows, key=lambda r: (labels.manual(r[1]), titles.get(r[0], ""))
    ):
        counts = [int(v) for v in values]
        by_module.append(
            Row(
                f"{labels.manual(slug)}: {titles.get(module_id, '')}",
                dict(zip(ids, counts, strict=True)),
                {"module": str(module_id)},
            )
        )
        acc = totals.setdefault(slug, [0] * len(ids))
        for index, value in enumerate(counts):
            acc[index] += value
    grand = [sum(values[i] for values in totals.values()) for i in range(len(ids))]
    total = Row(str(_l("Total")), dict(zip(ids, grand, strict=True)), {}, total=True)
    by_manual = [
        Row(labels.manual(slug), dict(zip(ids, values, strict=True)), {"manual": slug})
        for slug, values in sorted(totals.items(), key=lambda item: labels.manual(item[0]))
    ]
    return [
        Table(
            "by_module",
            _l("By module"),
            _l("Module"),
            columns,
            (*by_module, total),
            Chart(("received", "resolved")),
        ),
        Table("by_manual", _l("By manual"), _l("Manual"), columns, (*by_manual, total)),
    ]


def drill_feedback(filters: ReportFilters, request: DrillRequest) -> DrillPage:
    """The feedback items behind a figure (their text stays with the curriculum team)."""
    request.only("module", "manual", "source", "status", "resolved")
    if filters.limited:
        return DrillPage((), [], 0)
    query = _feedback_query(
        filters,
        Feedback.created_at,
        Manual.slug,
        ModuleVersion.title,
        Feedback.source,
        Feedback.status,
        Feedback.resolved_by_version_id,
    ).join(ModuleVersion, ModuleVersion.id == Feedback.version_id)
    module = request.get_int("module")
    if module is not None:
        query = query.where(Feedback.module_id == module)
    if request.get("manual") is not None:
        query = query.where(Manual.slug == request.get("manual"))
    source = request.get("source")
    if source is not None:
        query = query.where(Feedback.source == source)
    status = request.get("status")
    if status == "triaged":
        query = query.where(Feedback.status != "new")
    elif status is not None:
        query = query.where(Feedback.status == status)
    if request.get("resolved") == "1":
        query = query.where(Feedback.resolved_by_version_id.is_not(None))
    rows, total = request.fetch(query.order_by(Feedback.created_at.desc(), Feedback.id.desc()))
    labels = filters.labels
    yes = _l("yes")
    return DrillPage(
        (
            _l("Received"),
            _l("Module"),
            pgettext("feedback source", "From"),
            _l("Status"),
            _l("Resolved"),
        ),
        [
            (
                format_datetime(created, "medium"),
                f"{labels.manual(slug)}: {title}",
                str(SOURCES.get(src, src)),
                str(STATUSES.get(state, state)),
                str(yes) if resolved else "—",
            )
            for created, slug, title, src, state, resolved in rows
        ],
        total,
    )
