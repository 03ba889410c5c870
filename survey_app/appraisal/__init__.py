"""Appraisal on the web: units score themselves, the council re-scores, the index follows.

Rules and transactions in `operations`, the round's criteria in `criteria`, evidence checks in
`evidence_file`, what a URL names and who may see it in `access`; the views register themselves
on `bp` when imported: `unit` (officers), `council` (appraisers), `rounds` (admins, and the
pages every appraisal role shares).
"""

from . import council, rounds, unit  # noqa: F401
from .blueprint import bp

__all__ = ["bp"]
