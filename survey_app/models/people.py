"""People who run the survey: users with roles, and the audit log of what they did."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, CheckConstraint, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow

#: admin, statistician and monitor run the survey; an interviewer enters paper questionnaires; unit
#: officers and appraisers take part in the appraisal of units.
ROLES = ("admin", "statistician", "monitor", "interviewer", "officer", "appraiser")


class User(Base):
    __tablename__ = "app_user"
    __table_args__ = (
        CheckConstraint(
            "role IN ('admin', 'statistician', 'monitor', 'interviewer', 'officer', 'appraiser')",
            name="role_known",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored lower-cased, so logins are case-insensitive.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    #: werkzeug's scrypt hash; the password itself is never stored.
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(default=True)
    #: Copied into each session at login; raised by logout, a password change or disabling the
    #: account, which so ends every session of the user, on every device.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    #: An officer's unit: the one unit whose appraisal they see and fill in. (An appraiser's
    #: units and blocks are `AppraiserScope` rows.)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("rated_unit.id", ondelete="SET NULL"))

    # Flask-Login's protocol.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)


class AuditEvent(Base):
    """Who did what, when: logins, imports, quota changes, exports."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    #: Kept as written at the time, so the log still reads after a user is deleted.
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ip: Mapped[str | None] = mapped_column(String(64))
