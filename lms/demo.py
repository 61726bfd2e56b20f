"""Demo data for trying the system on a laptop (``lms demo``). All of it is sample data:
the madrasas and people are invented; the regions are Kyrgyzstan's real ones.
"""

from __future__ import annotations

from datetime import date

from flask import current_app
from sqlalchemy import select

from lms.accounts import services as accounts
from lms.accounts.models import User
from lms.accounts.roles import PARTICIPANT, STUDENT, TEACHER, TRAINER
from lms.cohorts.models import CLASS, TOT, Cohort, Membership
from lms.extensions import db
from lms.organisations.models import Madrasa, Region

DEMO_PASSWORD = "demo-password"  # nosec B105  # the documented demo password; `lms demo` refuses production

#: (user name, full name, sex, language, role, scope, expertise, label printed by lms demo)
DEMO_STAFF = [
    ("admin", "Aigul Sadykova", "female", "ru", "admin", None, None, "administrator"),
    ("editor", "Bakyt Osmonov", "male", "ru", "editor", None, None, "curriculum editor"),
    (
        "reviewer",
        "Abdulla Mamytov",
        "male",
        "ky",
        "reviewer",
        None,
        "theology",
        "expert reviewer (theology)",
    ),
    (
        "reviewer2",
        "Cholpon Usenova",
        "female",
        "ru",
        "reviewer",
        None,
        "civic_education",
        "expert reviewer (civic education)",
    ),
    ("trainer", "Gulnara Ismailova", "female", "ru", "trainer", None, None, "trainer"),
    ("teacher", "Nurlan Abdraimov", "male", "ky", "teacher", "madrasa", None, "madrasa teacher"),
    ("student", "Aiperi Toktosunova", "female", "ky", "student", "madrasa", None, "student"),
    ("monitor", "Kanat Jumabaev", "male", "ru", "monitor", None, None, "monitoring officer"),
]

DEMO_MADRASAS = [
    ("osh-region", "Sample Madrasa “Nur” (sample)", "Kara-Suu"),
    ("osh-region", "Sample Madrasa “Ilim” (sample)", "Nookat"),
    ("jalal-abad", "Sample Madrasa “Bereke” (sample)", "Bazar-Korgon"),
    ("chuy", "Sample Madrasa “Yntymak” (sample)", "Tokmok"),
]

DEMO_PARTICIPANTS = [
    ("participant1", "Talant Beishenov", "male"),
    ("participant2", "Zhyldyz Kadyrova", "female"),
    ("participant3", "Emil Asanov", "male"),
    ("participant4", "Saltanat Orozova", "female"),
]

DEMO_STUDENTS = [
    ("student2", "Bektur Sultanov", "male"),
    ("student3", "Meerim Alieva", "female"),
    ("student4", "Adilet Kasymov", "male"),
]


def load_demo() -> tuple[list[tuple[str, str]], bool]:
    """Create the demo data once; return the log-ins to print and whether anything was made."""
    printed = [(username, label) for username, *_rest, label in DEMO_STAFF]
    if db.session.scalar(select(User.id).where(User.username == "admin")) is not None:
        return printed, False

    regions = {r.code: r for r in db.session.scalars(select(Region))}
    madrasas = []
    for region_code, name, locality in DEMO_MADRASAS:
        madrasa = Madrasa(name=name, region=regions[region_code], locality=locality)
        db.session.add(madrasa)
        madrasas.append(madrasa)
    db.session.flush()
    home = madrasas[0]

    users: dict[str, User] = {}
    for username, name, sex, lang, role, scope, expertise, _label in DEMO_STAFF:
        user = accounts.create_user(
            username=username, name=name, sex=sex, password=DEMO_PASSWORD, preferred_language=lang
        )
        accounts.grant_role(
            user,
            role,
            scope_type=scope or "",
            scope_id=home.id if scope else 0,
            expertise=expertise,
            actor_id=None,
        )
        users[username] = user
    for username, name, sex in DEMO_PARTICIPANTS:
        user = accounts.create_user(
            username=username, name=name, sex=sex, password=DEMO_PASSWORD, preferred_language="ky"
        )
        accounts.grant_role(
            user, "teacher", scope_type="madrasa", scope_id=madrasas[1].id, actor_id=None
        )
        users[username] = user
    for username, name, sex in DEMO_STUDENTS:
        users[username] = accounts.create_user(
            username=username, name=name, sex=sex, password=DEMO_PASSWORD, preferred_language="ky"
        )

    tot = Cohort(
        kind=TOT,
        name="ToT: Health Basics, Osh (sample)",
        region=regions["osh-region"],
        venue="Osh, training centre (sample)",
        starts_on=date(2026, 9, 14),
        ends_on=date(2026, 9, 16),
        manual="health-basics",
        completion_rule="marked-complete",
        created_by_id=users["trainer"].id,
    )
    db.session.add(tot)
    tot.memberships.append(Membership(user=users["trainer"], role=TRAINER))
    tot.memberships.append(Membership(user=users["teacher"], role=PARTICIPANT))
    for username, *_ in DEMO_PARTICIPANTS:
        tot.memberships.append(Membership(user=users[username], role=PARTICIPANT))

    klass = Cohort(
        kind=CLASS,
        name="Civic Education, group 1 (sample)",
        madrasa=home,
        starts_on=date(2026, 10, 1),
        ends_on=date(2027, 5, 31),
        manual="civic-education",
        completion_rule="all-required-items",
        created_by_id=users["teacher"].id,
    )
    db.session.add(klass)
    klass.memberships.append(Membership(user=users["teacher"], role=TEACHER))
    klass.memberships.append(Membership(user=users["student"], role=STUDENT))
    for username, *_ in DEMO_STUDENTS:
        klass.memberships.append(Membership(user=users[username], role=STUDENT))
    db.session.flush()

    current_app.extensions["lms"].pm.hook.load_demo_data(users=users)
    db.session.commit()
    return printed, True
