"""The questionnaire file format: parse, validate, and the safe expression language."""

from .definition import Item, Option, Page, Questionnaire
from .validate import Problem, QuestionnaireInvalid, from_snapshot, load_directory

__all__ = [
    "Item",
    "Option",
    "Page",
    "Problem",
    "Questionnaire",
    "QuestionnaireInvalid",
    "from_snapshot",
    "load_directory",
]
