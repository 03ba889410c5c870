"""Site links of a wave: made per one-stop shop or district, each with its QR code (SVG, PNG)
and a printable A4 poster in the page's language."""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from markupsafe import Markup

from ..downloads import download
from ..extensions import db
from ..fieldwork import site_links
from ..handlers import wave_view
from ..i18n import in_language
from ..models import SiteLink, Wave
from .blueprint import bp
from .forms import SiteLinkForm


def link_url(link: SiteLink, lang: str | None = None) -> str:
    """The link's full address, as the QR code holds it and the poster prints it."""
    base = (current_app.config["PUBLIC_URL"] or request.host_url).rstrip("/")
    site = site_links.format_code(link.code)
    path = url_for("respond.site_start", lang=lang or g.lang, site=site)
    return base + path


def _choices(questionnaires: dict) -> tuple[list, list, dict]:
    """The form's questionnaire and site choices, and each site value's label by questionnaire."""
    codes, sites, labels = [], [], {}
    for code, questionnaire in questionnaires.items():
        codes.append((code, in_language(questionnaire.title, g.lang, code)))
        item = site_links.site_item(questionnaire)
        labels[code] = {o.key: in_language(o.label, g.lang, o.key) for o in item.options}
        for key, label in labels[code].items():
            if (key, label) not in sites:
                sites.append((key, label))
    return codes, sites, labels


def _page(wave: Wave, form: SiteLinkForm, status: int = 200):
    questionnaires = site_links.site_questionnaires(db.session, wave)
    codes, sites, labels = _choices(questionnaires)
    form.questionnaire.choices = codes
    form.site_value.choices = sites
    rows = [
        (link, count, link_url(link), labels.get(link.questionnaire_code, {}))
        for link, count in site_links.links_of(db.session, wave.id)
    ]
    return render_template(
        "admin/sites.html",
        wave=wave,
        form=form,
        rows=rows,
        questionnaires=questionnaires,
        format_code=site_links.format_code,
    ), status


@bp.get("/waves/<wave_code>/sites")
@wave_view("admin")
def sites(wave: Wave):
    return _page(wave, SiteLinkForm(formdata=None))


@bp.post("/waves/<wave_code>/sites")
@wave_view("admin")
def site_create(wave: Wave):
    form = SiteLinkForm()
    if not form.validate_on_submit():
        return _page(wave, form, 400)
    try:
        with db.transaction() as tx:
            link = site_links.create_link(
                tx, wave, form.questionnaire.data, form.name.data, form.site_value.data
            )
            code = site_links.format_code(link.code)
    except site_links.SiteLinkInvalid as exc:
        for name, message in exc.errors.items():
            form[name].errors = [*form[name].errors, message]
        return _page(wave, form, 400)
    flash(_("Site link %(code)s made for %(name)s.", code=code, name=form.name.data), "info")
    return redirect(url_for("admin.sites", wave_code=wave.code))


def _link(wave: Wave, link_id: int) -> SiteLink:
    link = site_links.link_in_wave(db.session, wave.id, link_id)
    if link is None:
        abort(404)
    return link


@bp.get("/waves/<wave_code>/sites/<int:link_id>/qr.svg")
@wave_view("admin")
def site_qr_svg(wave: Wave, link_id: int):
    link = _link(wave, link_id)
    body = site_links.qr_svg(link_url(link))
    return download(body, f"site-{site_links.format_code(link.code)}.svg", "image/svg+xml")


@bp.get("/waves/<wave_code>/sites/<int:link_id>/qr.png")
@wave_view("admin")
def site_qr_png(wave: Wave, link_id: int):
    link = _link(wave, link_id)
    body = site_links.qr_png(link_url(link))
    return download(body, f"site-{site_links.format_code(link.code)}.png", "image/png")


@bp.get("/waves/<wave_code>/sites/<int:link_id>/poster")
@wave_view("admin")
def site_poster(wave: Wave, link_id: int):
    """An A4 page for the counter, in the language of the address (/vi/ or /en/)."""
    link = _link(wave, link_id)
    url = link_url(link)
    questionnaire = site_links.site_questionnaires(db.session, wave).get(link.questionnaire_code)
    return render_template(
        "admin/site_poster.html",
        link=link,
        wave=wave,
        url=url,
        typed=url.split("://", 1)[-1],
        code=site_links.format_code(link.code),
        questionnaire=questionnaire,
        qr=Markup(site_links.qr_inline_svg(url)),  # noqa: S704 - segno's own SVG of our URL
    )
