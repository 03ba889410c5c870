"""Tables, as SQLAlchemy 2.0 typed mappings, split by domain. Invariants live in the database."""

from .analysis import RUN_STATUSES, AnalysisRun, StoredFile
from .appraisal import (
    AppraisalReturn,
    AppraisalRound,
    AppraiserScope,
    CriterionScore,
    Evidence,
    PointChange,
    RatedUnit,
)
from .base import NAMING, Base, utcnow
from .core import (
    INVITATION_STATUSES,
    RESPONSE_MODES,
    RESPONSE_STATUSES,
    WAVE_STATUSES,
    Answer,
    Invitation,
    QuestionnaireVersion,
    Response,
    Wave,
    WaveQuestionnaire,
)
from .fieldwork import Invitee, Quota, QuotaCell, SiteLink
from .mailing import MailDelivery, Mailing, MailLink, MailOptOut
from .people import ROLES, AuditEvent, User

__all__ = [
    "INVITATION_STATUSES",
    "NAMING",
    "RESPONSE_MODES",
    "RESPONSE_STATUSES",
    "ROLES",
    "RUN_STATUSES",
    "WAVE_STATUSES",
    "AnalysisRun",
    "Answer",
    "AppraisalReturn",
    "AppraisalRound",
    "AppraiserScope",
    "CriterionScore",
    "Evidence",
    "PointChange",
    "RatedUnit",
    "AuditEvent",
    "Base",
    "Invitation",
    "Invitee",
    "MailDelivery",
    "MailLink",
    "MailOptOut",
    "Mailing",
    "QuestionnaireVersion",
    "Quota",
    "QuotaCell",
    "Response",
    "SiteLink",
    "StoredFile",
    "User",
    "Wave",
    "WaveQuestionnaire",
    "utcnow",
]
