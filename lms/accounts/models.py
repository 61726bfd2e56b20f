"""People and what they may do."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.extensions import db
from lms.timeutil import utcnow


class User(UserMixin, db.Model):
    """A person who logs in: reviewer, editor, trainer, teacher, student, officer or admin."""

    __tablename__ = "lms_user"
    __table_args__ = (CheckConstraint("sex IN ('female', 'male')", name="sex"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    sex: Mapped[str] = mapped_column(String(8))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    preferred_language: Mapped[str] = mapped_column(String(8), default="ru")
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    #: Bumped on password change and disabling, so older sessions stop being valid.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="user",
        cascade="all, delete-orphan",
        order_by="RoleGrant.id",
        foreign_keys="RoleGrant.user_id",
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        # The session version rides along, so bumping it logs out every session at once.
        return f"{self.id}:{self.session_version}"

    def get_session_identity(self) -> str:
        """What a log-in session and a remember-me cookie hold (Flask-Login's ``id_attribute``):
        the id, the session version and when it was issued ("id:version:unix-time"), so the
        server refuses copies after a log-out and remember-me cookies older than their term.
        """
        from lms.accounts.sessions import now

        return f"{self.get_id()}:{int(now())}"

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class RoleGrant(db.Model):
    """One role held by one person, everywhere (empty scope) or in one madrasa/cohort/manual."""

    __tablename__ = "lms_role_grant"
    __table_args__ = (
        UniqueConstraint("user_id", "role", "scope_type", "scope_id"),
        CheckConstraint(
            "(scope_type = '' AND scope_id = 0) OR (scope_type <> '' AND scope_id > 0)",
            name="scope_complete",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    scope_type: Mapped[str] = mapped_column(String(16), default="")
    scope_id: Mapped[int] = mapped_column(default=0)
    #: For expert reviewers: theology, public_policy, civic_education, methodology, health.
    expertise: Mapped[str | None] = mapped_column(String(32))
    granted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_user.id", ondelete="SET NULL")
    )
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="grants", foreign_keys=[user_id])

    @property
    def is_global(self) -> bool:
        return self.scope_type == ""
