"""Issuing, revoking and reissuing certificates.

Issuing freezes a certificate: the texts it prints, a serial number, a verification id, the
signed Open Badges credential, the compact signed token for the QR code and a status-list
slot are all decided and stored in one transaction, with one audit entry per certificate.
The PDF is rendered afterwards from that frozen record (``certificates.rendering``).

Races are left to the database: the cohort row is locked (PostgreSQL) or the write lock
taken (SQLite) before anyone's eligibility is read, serials and slots come from atomic
updates, and a partial unique index keeps one valid certificate per person and cohort.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from certificates import addresses
from certificates.credentials import (
    build_credential,
    certificate_claims,
    sign,
    sign_compact,
    status_entry,
)
from certificates.designs import CertificateTemplate, all_templates
from certificates.issuer import issuer_names, issuer_profile_summary
from certificates.keys import ActiveKey, active_key
from certificates.models import (
    BASIS_COMPLETION,
    BASIS_MANUAL,
    BASIS_REISSUE,
    REPLACED,
    REVOKED,
    VALID,
    Certificate,
    CohortDesign,
    SerialCounter,
)
from certificates.printed import Localized, PrintedCertificate, Signatory
from certificates.status import allocate_slots, set_revoked
from lms.accounts.models import User
from lms.accounts.roles import LEADER_ROLES, LEARNER_ROLES, TRAINER
from lms.audit import services as audit
from lms.cohorts.models import TOT, Cohort, Membership
from lms.db import begin_write, is_sqlite
from lms.errors import Conflict, Invalid, NotFound
from lms.extensions import db
from lms.organisations.models import Region
from lms.progress.api import evaluate_completion
from lms.timeutil import utcnow

LANGUAGES = ("en", "ru", "ky")

#: Serial prefixes per region code: three letters a reader recognises.
REGION_PREFIXES = {
    "bishkek": "BIS",
    "osh-city": "OSC",
    "osh-region": "OSH",
    "batken": "BAT",
    "chuy": "CHU",
    "issyk-kul": "ISK",
    "jalal-abad": "JAL",
    "naryn": "NAR",
    "talas": "TAL",
}
DEFAULT_PREFIX = "KGZ"

#: Which design kinds suit which cohort kind.
KINDS_FOR_COHORT = {TOT: ("tot-completion",), "class": ("course-completion", "graduate")}

MAX_NAME_LENGTH = 300
MAX_REASON_LENGTH = 2000


# --- reading ----------------------------------------------------------------------------


def get_certificate(certificate_id: int) -> Certificate:
    found = db.session.get(Certificate, certificate_id)
    if found is None:
        raise NotFound()
    return found


def valid_recipients(cohort_id: int) -> set[int]:
    return set(
        db.session.scalars(
            select(Certificate.recipient_id).where(
                Certificate.cohort_id == cohort_id, Certificate.status == VALID
            )
        )
    )


def designs_for(cohort: Cohort) -> list[CertificateTemplate]:
    kinds = KINDS_FOR_COHORT.get(cohort.kind, ())
    return [design for design in all_templates().values() if design.kind in kinds]


def cohort_design(cohort: Cohort) -> tuple[CertificateTemplate, str] | None:
    """The design and language chosen for the cohort, or a sensible default."""
    chosen = db.session.get(CohortDesign, cohort.id)
    designs = all_templates()
    if chosen is not None and chosen.design_id in designs:
        return designs[chosen.design_id], chosen.language
    suitable = designs_for(cohort)
    if not suitable:
        return None
    return suitable[0], "ru" if "ru" in suitable[0].languages else suitable[0].languages[0]


def choose_design(cohort: Cohort, design_id: str, language: str, *, actor: User) -> None:
    design = all_templates().get(design_id)
    if design is None or design not in designs_for(cohort):
        raise Invalid(field_errors={"design": [_l("Choose one of the designs listed.")]})
    if language not in design.languages:
        raise Invalid(
            field_errors={"language": [_l("This design is not available in that language.")]}
        )
    chosen = db.session.get(CohortDesign, cohort.id)
    if chosen is None:
        chosen = CohortDesign(cohort_id=cohort.id, design_id=design_id, language=language)
        db.session.add(chosen)
    chosen.design_id, chosen.language = design_id, language
    chosen.updated_at, chosen.updated_by_id = utcnow(), actor.id
    audit.record(
        "certificates.design_chosen",
        "cohort",
        cohort.id,
        actor_id=actor.id,
        details={"design": design_id, "language": language},
    )


@dataclass(frozen=True)
class Eligibility:
    """Who in a cohort may get a certificate now, and who already has one."""

    completed: list[User]
    certified: set[int]
    not_completed: list[tuple[User, tuple[object, ...]]]

    @property
    def to_issue(self) -> list[User]:
        return [user for user in self.completed if user.id not in self.certified]


def eligibility(cohort: Cohort) -> Eligibility:
    results = evaluate_completion(cohort)
    learners = {
        user.id: user
        for user in db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.cohort_id == cohort.id, Membership.role.in_(LEARNER_ROLES))
            .order_by(User.name, User.id)
        )
    }
    completed = [learners[uid] for uid in learners if results.get(uid) and results[uid].completed]
    not_completed = [
        (learners[uid], results[uid].missing if uid in results else ())
        for uid in learners
        if not (results.get(uid) and results[uid].completed)
    ]
    return Eligibility(completed, valid_recipients(cohort.id), not_completed)


# --- issuing ------------------------------------------------------------------------------


def _lock_cohort(cohort: Cohort) -> None:
    """Serialise issuance per cohort: a row lock on PostgreSQL, the write lock on SQLite."""
    begin_write()
    if not is_sqlite():
        db.session.execute(select(Cohort.id).where(Cohort.id == cohort.id).with_for_update())


def issue_to_completers(cohort: Cohort, *, actor: User) -> list[Certificate]:
    """Issue a certificate to everyone who has completed the cohort and has none yet."""
    _lock_cohort(cohort)
    found = eligibility(cohort)
    if not found.to_issue:
        return []
    return _issue(cohort, found.to_issue, basis=BASIS_COMPLETION, actor=actor)


def issue_manually(cohort: Cohort, recipient: User, *, reason: str, actor: User) -> Certificate:
    """Issue to one member by hand (whether or not the rule says completed), with a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(field_errors={"reason": [_l("Say why this certificate is issued by hand.")]})
    if len(reason) > MAX_REASON_LENGTH:
        raise Invalid(field_errors={"reason": [_l("The reason is too long.")]})
    _lock_cohort(cohort)
    role = db.session.scalar(
        select(Membership.role).where(
            Membership.cohort_id == cohort.id, Membership.user_id == recipient.id
        )
    )
    if role not in LEARNER_ROLES:
        raise Invalid(_l("Certificates are issued to the learners of a cohort only."))
    if recipient.id in valid_recipients(cohort.id):
        raise Conflict(
            _l("%(name)s already has a valid certificate for this cohort.", name=recipient.name)
        )
    (certificate,) = _issue(cohort, [recipient], basis=BASIS_MANUAL, actor=actor, reason=reason)
    return certificate


def reissue(certificate: Certificate, *, name: str, reason: str, actor: User) -> Certificate:
    """Issue a corrected certificate that replaces ``certificate`` (which then verifies as
    replaced). Only a valid certificate can be replaced, and only once."""
    name = " ".join((name or "").split())
    reason = (reason or "").strip()
    errors: dict[str, list[object]] = {}
    if not name:
        errors["name"] = [_l("Write the name as it should be printed.")]
    elif len(name) > MAX_NAME_LENGTH:
        errors["name"] = [_l("The name is too long.")]
    if not reason:
        errors["reason"] = [_l("Say why the certificate is reissued.")]
    elif len(reason) > MAX_REASON_LENGTH:
        errors["reason"] = [_l("The reason is too long.")]
    if errors:
        raise Invalid(field_errors=errors)
    cohort = certificate.cohort
    _lock_cohort(cohort)
    replaced = db.session.execute(
        update(Certificate)
        .where(Certificate.id == certificate.id, Certificate.status == VALID)
        .values(status=REPLACED)
    ).rowcount
    if replaced != 1:
        raise Conflict(_l("This certificate is no longer valid, so it cannot be replaced."))
    key = active_key(actor_id=actor.id)
    (new,) = _issue(
        cohort,
        [certificate.recipient],
        basis=BASIS_REISSUE,
        actor=actor,
        reason=reason,
        names={certificate.recipient_id: name},
        replaces=certificate,
        key=key,
        design_language=(certificate.design_id, certificate.language),
    )
    # After issuing: locks are always taken cohort → serial counter → status list → audit.
    set_revoked(certificate.status_list_id, certificate.status_index, key)
    audit.record(
        "certificate.replaced",
        "certificate",
        certificate.id,
        actor_id=actor.id,
        details={"serial": certificate.serial, "replaced_by": new.serial, "reason": reason},
    )
    db.session.expire(certificate)
    return new


def revoke(certificate: Certificate, *, reason: str, actor: User) -> None:
    """Revoke with a reason that the public verification page shows."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise Invalid(
            field_errors={"reason": [_l("Give the reason the verification page will show.")]}
        )
    if len(reason) > MAX_REASON_LENGTH:
        raise Invalid(field_errors={"reason": [_l("The reason is too long.")]})
    begin_write()
    changed = db.session.execute(
        update(Certificate)
        .where(Certificate.id == certificate.id, Certificate.status == VALID)
        .values(
            status=REVOKED, revoked_at=utcnow(), revoked_by_id=actor.id, revocation_reason=reason
        )
    ).rowcount
    if changed != 1:
        raise Conflict(_l("This certificate is no longer valid, so it cannot be revoked."))
    set_revoked(certificate.status_list_id, certificate.status_index)
    audit.record(
        "certificate.revoked",
        "certificate",
        certificate.id,
        actor_id=actor.id,
        details={"serial": certificate.serial, "reason": reason},
    )
    db.session.expire(certificate)


# --- the frozen record --------------------------------------------------------------------


def new_verification_id() -> str:
    """160 random bits as 32 lowercase base32 letters and digits (easy to type from paper)."""
    return base64.b32encode(secrets.token_bytes(20)).decode().lower()


def local_today() -> date:
    from flask_babel import to_user_timezone

    return to_user_timezone(datetime.now(UTC)).date()


def serial_prefix(cohort: Cohort) -> str:
    region_id = cohort.effective_region_id
    region = db.session.get(Region, region_id) if region_id else None
    return REGION_PREFIXES.get(region.code, DEFAULT_PREFIX) if region else DEFAULT_PREFIX


def allocate_serials(prefix: str, year: int, count: int) -> list[str]:
    """``count`` consecutive serials, taken by one atomic update (gap-free per prefix/year)."""
    table = SerialCounter.__table__
    if is_sqlite():
        from sqlalchemy.dialects.sqlite import insert as upsert
    else:
        from sqlalchemy.dialects.postgresql import insert as upsert
    db.session.execute(
        upsert(table).values(prefix=prefix, year=year, last=0).on_conflict_do_nothing()
    )
    last = db.session.scalar(
        update(SerialCounter)
        .where(SerialCounter.prefix == prefix, SerialCounter.year == year)
        .values(last=SerialCounter.last + count)
        .returning(SerialCounter.last)
    )
    assert last is not None  # nosec B101  # narrows a type for mypy; no security decision rests on it
    return [f"{prefix}-{year}-{n:06d}" for n in range(last - count + 1, last + 1)]


def _in_each_language(message: str, **values: object) -> Localized:
    texts: Localized = {}
    for language in LANGUAGES:
        with force_locale(language):
            texts[language] = _(message, **values)
    return texts


def _manual_titles(cohort: Cohort) -> Localized:
    from curriculum.api import get_manual

    manual = get_manual(cohort.manual) if cohort.manual else None
    if manual is None:
        return {language: cohort.name for language in LANGUAGES}
    return {language: manual.title_in(language) for language in LANGUAGES}


def _place(cohort: Cohort) -> Localized:
    region_id = cohort.effective_region_id
    region = db.session.get(Region, region_id) if region_id else None
    names = {
        language: (getattr(region, f"name_{language}", "") or region.name_en) if region else ""
        for language in LANGUAGES
    }
    local = cohort.madrasa.name if cohort.madrasa is not None else cohort.venue
    return {
        language: ", ".join(part for part in (local, names[language]) if part)
        for language in LANGUAGES
    }


def _dates(cohort: Cohort, language: str) -> str:
    with force_locale(language):
        if cohort.starts_on and cohort.ends_on and cohort.starts_on != cohort.ends_on:
            return _(
                "from %(start)s to %(end)s",
                start=format_date(cohort.starts_on, "long"),
                end=format_date(cohort.ends_on, "long"),
            )
        day = cohort.ends_on or cohort.starts_on
        return _("on %(day)s", day=format_date(day, "long")) if day else ""


def achievement_texts(cohort: Cohort, kind: str) -> tuple[Localized, Localized]:
    """The achievement's title and one sentence describing it, in every language."""
    manuals = _manual_titles(cohort)
    titles: Localized = {}
    descriptions: Localized = {}
    for language in LANGUAGES:
        with force_locale(language):
            manual = manuals[language]
            when = _dates(cohort, language)
            if kind == "tot-completion":
                titles[language] = _("Training of Trainers: %(manual)s", manual=manual)
                descriptions[language] = _(
                    "completed the Training of Trainers on the manual “%(manual)s” %(when)s",
                    manual=manual,
                    when=when,
                )
            elif kind == "graduate":
                titles[language] = _("One-year course: %(manual)s", manual=manual)
                descriptions[language] = _(
                    "graduated from the one-year course on the manual “%(manual)s” %(when)s",
                    manual=manual,
                    when=when,
                )
            else:
                titles[language] = _("Course: %(manual)s", manual=manual)
                descriptions[language] = _(
                    "completed the course on the manual “%(manual)s” %(when)s",
                    manual=manual,
                    when=when,
                )
    return titles, descriptions


def _signatories(cohort: Cohort) -> tuple[Signatory, ...]:
    leaders = db.session.execute(
        select(User.name, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.cohort_id == cohort.id, Membership.role.in_(LEADER_ROLES))
        .order_by(Membership.id)
        .limit(2)
    ).all()
    return tuple(
        Signatory(
            name,
            _in_each_language("Trainer") if role == TRAINER else _in_each_language("Teacher"),
        )
        for name, role in leaders
    )


def _issue(
    cohort: Cohort,
    recipients: Sequence[User],
    *,
    basis: str,
    actor: User,
    reason: str = "",
    names: dict[int, str] | None = None,
    replaces: Certificate | None = None,
    key: ActiveKey | None = None,
    design_language: tuple[str, str] | None = None,
) -> list[Certificate]:
    """Freeze and store certificates for ``recipients`` in the caller's transaction."""
    base = addresses.public_url(strict=True)
    if design_language is not None:
        design = all_templates().get(design_language[0])
        language = design_language[1]
        if design is None:
            raise Invalid(_l("The design of this certificate is no longer installed."))
    else:
        chosen = cohort_design(cohort)
        if chosen is None:
            raise Invalid(_l("No certificate design suits this cohort."))
        design, language = chosen
    key = key or active_key(actor_id=actor.id)
    issued_on = local_today()
    issued_at = utcnow()
    serials = allocate_serials(serial_prefix(cohort), issued_on.year, len(recipients))
    status_list, slots = allocate_slots(len(recipients), key)
    list_url = addresses.status_list_url(status_list.id, base)
    titles, descriptions = achievement_texts(cohort, design.kind)
    place = _place(cohort)
    signatories = _signatories(cohort)
    issuers = issuer_names()
    issuer_url = addresses.issuer_url(base)
    achievement_id = f"{base}/certificates/achievements/{design.kind}/{cohort.manual or 'none'}"
    rows = []
    for recipient, serial, slot in zip(recipients, serials, slots, strict=True):
        verification_id = new_verification_id()
        name = (names or {}).get(recipient.id) or recipient.name
        verify_url = addresses.verification_url(verification_id, base)
        printed = PrintedCertificate(
            serial=serial,
            verification_id=verification_id,
            verification_url=verify_url,
            short_url=addresses.short_url(verification_id, base),
            language=language,
            recipient_name=name,
            achievement=titles,
            description=descriptions,
            cohort_name=cohort.name,
            place=place,
            starts_on=cohort.starts_on,
            ends_on=cohort.ends_on,
            issued_on=issued_on,
            issuer_name=issuers,
            signatories=signatories,
        )
        unsigned = build_credential(
            credential_id=f"{verify_url}.json",
            issuer_url=issuer_url,
            issuer_name=issuers[language],
            valid_from=issued_at.replace(tzinfo=UTC),
            recipient_name=name,
            achievement_id=achievement_id,
            achievement_name=titles[language],
            achievement_description=descriptions[language],
            criteria_narrative=descriptions[language],
            language=language,
            credential_status=status_entry(list_url, slot),
            credential_name=f"{titles[language]} — {serial}",
        )
        unsigned["issuer"] = {**issuer_profile_summary(language), **unsigned["issuer"]}
        signed = sign(
            unsigned,
            key.private_key,
            verification_method=addresses.key_url(key.key_id, base),
            created=unsigned["validFrom"],
            proof_as_list=True,
        )
        token = sign_compact(
            certificate_claims(
                verification_id=verification_id,
                name=name,
                achievement=titles[language],
                issued_on=issued_on,
                serial=serial,
                issuer_url=issuer_url,
                status_list_url=list_url,
                status_index=slot,
            ),
            key.private_key,
            kid=key.key_id,
        )
        rows.append(
            {
                "serial": serial,
                "verification_id": verification_id,
                "recipient_id": recipient.id,
                "cohort_id": cohort.id,
                "design_id": design.id,
                "language": language,
                "name_as_printed": name,
                "printed": printed.to_json(),
                "status": VALID,
                "basis": basis,
                "reason": reason,
                "issued_on": issued_on,
                "issued_at": issued_at,
                "issued_by_id": actor.id,
                "replaces_id": replaces.id if replaces is not None else None,
                "revocation_reason": "",
                "key_id": key.key_id,
                "status_list_id": status_list.id,
                "status_index": slot,
                "credential": _json_text(signed),
                "token": token,
            }
        )
    try:
        with db.session.begin_nested():
            db.session.execute(insert(Certificate), rows)
    except IntegrityError:
        raise Conflict(
            _l("Someone issued these certificates at the same time. Reload and check the list.")
        ) from None
    made = list(
        db.session.scalars(
            select(Certificate).where(Certificate.serial.in_(serials)).order_by(Certificate.serial)
        )
    )
    audit.record_many(
        "certificate.issued",
        "certificate",
        [
            (
                certificate.id,
                {
                    "serial": certificate.serial,
                    "cohort": cohort.id,
                    "recipient": certificate.recipient_id,
                    "basis": basis,
                    **({"reason": reason} if reason else {}),
                },
            )
            for certificate in made
        ],
        actor_id=actor.id,
    )
    return made


def _json_text(document: dict[str, object]) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))
