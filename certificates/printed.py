"""What a certificate prints, frozen at issuance.

A ``PrintedCertificate`` holds every text and date a design puts on paper, already resolved
for each language (``Localized`` maps "en"/"ru"/"ky" to text). It is stored as JSON on the
certificate when it is issued, and the PDF and the verification page are made from that
stored copy only, so renaming a cohort or a manual later never changes an issued
certificate.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

Localized = dict[str, str]


def pick(texts: Localized | None, language: str) -> str:
    """The text in ``language``, else English, else any; empty when there is none."""
    if not texts:
        return ""
    return texts.get(language) or texts.get("en") or next(iter(texts.values()), "")


@dataclass(frozen=True)
class Signatory:
    """A person who signs the certificate (a trainer, a director) and their role."""

    name: str
    role: Localized = field(default_factory=dict)


@dataclass(frozen=True)
class PrintedCertificate:
    serial: str
    #: The public verification id (base32, lowercase, no separators).
    verification_id: str
    #: The full URL of the public verification page (what the QR code opens).
    verification_url: str
    #: The same address as printed for typing: host and the id in groups of four.
    short_url: str
    #: The language the certificate was issued in (a bilingual design prints a second one).
    language: str
    recipient_name: str
    #: The achievement's title, e.g. "Training of Trainers: Health Basics".
    achievement: Localized
    #: One sentence saying what was done, e.g. "completed a 3-day Training of Trainers …".
    description: Localized
    cohort_name: str
    #: Where it took place: the region (and venue) or the madrasa.
    place: Localized
    starts_on: date | None
    ends_on: date | None
    issued_on: date
    issuer_name: Localized
    signatories: tuple[Signatory, ...] = ()
    #: True only for design previews filled with invented data.
    sample: bool = False

    def text(self, name: str, language: str | None = None) -> str:
        """A localized field in ``language`` (default: the certificate's language)."""
        return pick(getattr(self, name), language or self.language)

    @property
    def grouped_id(self) -> str:
        """The verification id in groups of four, easier to read and type from paper."""
        vid = self.verification_id
        return "-".join(vid[i : i + 4] for i in range(0, len(vid), 4))

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("starts_on", "ends_on", "issued_on"):
            value = data[key]
            data[key] = value.isoformat() if value else None
        data["signatories"] = [asdict(s) for s in self.signatories]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PrintedCertificate:
        values = dict(data)
        for key in ("starts_on", "ends_on", "issued_on"):
            raw = values.get(key)
            values[key] = date.fromisoformat(raw) if raw else None
        values["signatories"] = tuple(Signatory(**s) for s in values.get("signatories") or ())
        return cls(**values)

    @classmethod
    def sample_data(cls, language: str = "en") -> PrintedCertificate:
        """Invented data for design previews; marked as a sample on the page."""
        vid = "sample0000000000000000000000000a"
        return cls(
            serial="OSH-2026-000123",
            verification_id=vid,
            verification_url=f"https://lms.example/verify/{vid}",
            short_url="lms.example/v/" + "-".join(vid[i : i + 4] for i in range(0, 32, 4)),
            language=language,
            recipient_name="Айгүл Токтосунова",
            achievement={
                "en": "Training of Trainers: Health Basics",
                "ru": "Обучение тренеров: Основы здоровья",
                "ky": "Тренерлерди даярдоо: Ден соолуктун негиздери",
            },
            description={
                "en": "completed the three-day Training of Trainers on the Health Basics manual",
                "ru": "прошла трёхдневное обучение тренеров по пособию «Основы здоровья»",
                "ky": "«Ден соолуктун негиздери» колдонмосу боюнча үч күндүк тренерлерди "
                "даярдоодон өттү",
            },
            cohort_name="ToT: Health Basics, Osh (sample)",
            place={"en": "Osh Region", "ru": "Ошская область", "ky": "Ош облусу"},
            starts_on=date(2026, 9, 14),
            ends_on=date(2026, 9, 16),
            issued_on=date(2026, 9, 16),
            issuer_name={
                "en": "Madrasa LMS (sample issuer)",
                "ru": "Madrasa LMS (образец)",
                "ky": "Madrasa LMS (үлгү)",
            },
            signatories=(
                Signatory(
                    "Гүлнара Исмаилова",
                    {"en": "Trainer", "ru": "Тренер", "ky": "Тренер"},
                ),
            ),
            sample=True,
        )
