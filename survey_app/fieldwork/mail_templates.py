"""The words of invitation and reminder e-mails: a default per kind and language, edited by the
admin for each sending, with placeholders in braces filled in per invitee.

Plain text only: nothing an admin types, nor an invitee's name, can become markup in a mail
reader, and the preview shows the text as it will be read.
"""

from __future__ import annotations

import string

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

#: The placeholders a template may use, with what each stands for (shown on the form).
PLACEHOLDERS = {
    "name": _l("the invitee's name"),
    "agency": _l("the invitee's agency"),
    "survey": _l("the questionnaire's title"),
    "link": _l("the personal link"),
    "deadline": _l("the day and hour the wave closes"),
    "optout": _l("the link to receive no more e-mail"),
}


class TemplateProblem(ValueError):
    """A template that cannot be filled in, with a sentence naming the field and placeholder."""


def default_texts(kind: str, lang: str) -> tuple[str, str]:
    """The subject and body offered for a new sending, in `lang`."""
    with force_locale(lang):
        if kind == "reminder":
            subject = _("Reminder: %(survey)s", survey="{survey}")
            body = _(
                "Dear {name},\n\nWe have not yet received your answers to the survey "
                "\u201c{survey}\u201d. Your opinion counts, and the survey is anonymous: nobody "
                "can see which answers are yours.\n\n"
                "Your personal link: {link}\n\nThe survey closes on {deadline}.\n\n"
                "If you do not wish to receive more e-mail about this survey: {optout}"
            )
        else:
            subject = _("Invitation: %(survey)s", survey="{survey}")
            body = _(
                "Dear {name} ({agency}),\n\nYou are invited to answer the survey "
                "\u201c{survey}\u201d. The survey is anonymous: nobody can see which answers are "
                "yours.\n\nYour personal link (do not share it): {link}"
                "\n\nThe survey closes on {deadline}.\n\n"
                "If you do not wish to receive e-mail about this survey: {optout}"
            )
    return subject, body


def check(text: str, field: str) -> None:
    """Raise TemplateProblem naming `field` when `text` has an unknown placeholder or a stray
    brace."""
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError:
        raise TemplateProblem(
            _(
                "%(field)s: a brace { or } is not closed. Write placeholders as {name}, "
                "or double a brace to show it.",
                field=field,
            )
        ) from None
    for _literal, placeholder, spec, conversion in parts:
        if placeholder is None:
            continue
        if placeholder not in PLACEHOLDERS or spec or conversion:
            raise TemplateProblem(
                _(
                    "%(field)s: {%(placeholder)s} is not a placeholder; use %(known)s.",
                    field=field,
                    placeholder=placeholder,
                    known=", ".join("{" + key + "}" for key in PLACEHOLDERS),
                )
            )


def fill(text: str, values: dict[str, str]) -> str:
    """The template with its placeholders filled in (checked first with `check`)."""
    return text.format_map({key: values.get(key, "") for key in PLACEHOLDERS})
