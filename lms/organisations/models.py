"""Regions and madrasas."""

from __future__ import annotations

from datetime import datetime

from flask_babel import get_locale
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.extensions import db
from lms.timeutil import utcnow


class Region(db.Model):
    """An oblast or a city of republican significance (Bishkek, Osh)."""

    __tablename__ = "lms_region"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(8))  # "oblast" or "city"
    name_en: Mapped[str] = mapped_column(String(100))
    name_ru: Mapped[str] = mapped_column(String(100))
    name_ky: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(default=0)

    madrasas: Mapped[list[Madrasa]] = relationship(back_populates="region")

    @property
    def name(self) -> str:
        """The name in the language of the current page."""
        locale = str(get_locale() or "en")
        return getattr(self, f"name_{locale}", None) or self.name_en

    def __str__(self) -> str:
        return self.name


class Madrasa(db.Model):
    """A madrasa where the manuals are taught."""

    __tablename__ = "lms_madrasa"
    __table_args__ = (UniqueConstraint("region_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    region_id: Mapped[int] = mapped_column(ForeignKey("lms_region.id"), index=True)
    locality: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    region: Mapped[Region] = relationship(back_populates="madrasas")

    def __str__(self) -> str:
        return self.name
