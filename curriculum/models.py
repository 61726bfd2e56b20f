"""Curriculum models."""

from __future__ import annotations

from datetime import datetime

from flask_babel import get_locale
from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lms.extensions import db
from lms.timeutil import utcnow


class Manual(db.Model):
    """A teachers' manual, e.g. *Civic Education* or *Health Basics*."""

    __tablename__ = "curriculum_manual"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title_en: Mapped[str] = mapped_column(String(200))
    title_ru: Mapped[str] = mapped_column(String(200), default="")
    title_ky: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_user.id", ondelete="SET NULL")
    )

    @property
    def title(self) -> str:
        """The title in the page's language, falling back to English."""
        locale = str(get_locale() or "en")
        return getattr(self, f"title_{locale}", "") or self.title_en

    def __str__(self) -> str:
        return self.title
