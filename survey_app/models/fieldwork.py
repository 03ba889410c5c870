"""Fieldwork: named invitees and quotas with their cells."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow


class Invitee(Base):
    """A person invited by name. Personal data: never exported unless an admin asks for it."""

    __tablename__ = "invitee"

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id", ondelete="CASCADE"), index=True)
    questionnaire_code: Mapped[str] = mapped_column(String(64))
    #: Name, e-mail and phone are emptied when the identity is erased (`erased_on` then says
    #: when); group, agency and unit stay, for response rates and the finite population.
    name: Mapped[str | None] = mapped_column(String(200))
    #: The respondent group or sub-group named in the import file (e.g. department leaders).
    group: Mapped[str] = mapped_column("invitee_group", String(100))
    agency: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    erased_on: Mapped[dt.date | None] = mapped_column(Date)


class Quota(Base):
    """Targets over cells made of profile answers, e.g. district x sex x age group."""

    __tablename__ = "quota"
    __table_args__ = (
        CheckConstraint("when_full IN ('screen_out', 'flag')", name="when_full_known"),
        UniqueConstraint("wave_id", "questionnaire_code", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id", ondelete="CASCADE"))
    questionnaire_code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    #: The item codes that define a cell, in order, e.g. ["district", "sex", "age_group"].
    variables: Mapped[list[str]] = mapped_column(JSON)
    #: What a full cell does to the next respondent: screen out, or accept and flag.
    when_full: Mapped[str] = mapped_column(String(16), default="screen_out")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    cells: Mapped[list[QuotaCell]] = relationship(
        back_populates="quota", cascade="all, delete-orphan", order_by="QuotaCell.id"
    )


class QuotaCell(Base):
    __tablename__ = "quota_cell"
    __table_args__ = (
        UniqueConstraint("quota_id", "cell_key"),
        CheckConstraint("target >= 0", name="target_not_negative"),
        CheckConstraint("complete >= 0", name="complete_not_negative"),
        # The database itself refuses a count past the target, whatever the application does.
        CheckConstraint("complete <= target", name="complete_within_target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    quota_id: Mapped[int] = mapped_column(ForeignKey("quota.id", ondelete="CASCADE"))
    #: The cell's answers joined with "|" in the quota's variable order ("can_loc|female|age18_30").
    cell_key: Mapped[str] = mapped_column(String(400))
    target: Mapped[int] = mapped_column(Integer)
    #: Complete responses counted in this cell, kept in the same transaction as each completion
    #: (the row is locked while it is checked and counted).
    complete: Mapped[int] = mapped_column(Integer, default=0)
    #: Complete responses accepted past the target and flagged (quotas that flag when full).
    over_target: Mapped[int] = mapped_column(Integer, default=0)

    quota: Mapped[Quota] = relationship(back_populates="cells")


class SiteLink(Base):
    """An open link for one site (a one-stop shop, a district) of a wave's open questionnaire:
    printed as a QR code on the counter, it answers the questionnaire's `site_item` for whoever
    comes by it. Nothing personal: every respondent at the counter shares it."""

    __tablename__ = "site_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id", ondelete="CASCADE"), index=True)
    questionnaire_code: Mapped[str] = mapped_column(String(64))
    #: The short code of the link /<lang>/v/<code>: 8 characters of Crockford's base32, shown
    #: as XXXX-XXXX; random, so the sites' links cannot be guessed from one another.
    code: Mapped[str] = mapped_column(String(16), unique=True)
    #: The site's name as printed on the poster (e.g. "Bộ phận một cửa huyện Cẩm Xuyên").
    name: Mapped[str] = mapped_column(String(200))
    #: The answer the link gives to the questionnaire's `site_item` (an option's value).
    site_value: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
