"""Calendar feeds for partners and hosts, the public visit page, and staff management of partner links."""
from __future__ import annotations

from flask import (Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, session,
                   url_for)
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.validators import InputRequired, Length, Optional

from ..auth import role_required
from ..extensions import db, limiter
from ..models import Organisation, Partner, Role
from ..security import hash_token
from ..services import feeds, region
from ..forms import LabForm

bp = Blueprint("feeds", __name__)


def _per_token() -> str:
    return hash_token(request.view_args.get("token", "")) if request.view_args else request.remote_addr or ""


def ics_response(feed: feeds.Feed, filename: str | None = None):
    """text/calendar with a strong ETag over the body and Last-Modified; conditional requests get 304."""
    response = make_response(feed.body)
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.set_etag(feed.etag)
    response.last_modified = feed.last_modified
    response.headers["Cache-Control"] = "private, max-age=900"
    if filename:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response.make_conditional(request)


@bp.route("/feeds/<token>.ics")
@limiter.limit("120 per hour", key_func=_per_token)
def partner_feed(token: str):
    feed = feeds.partner_feed(token)
    if feed is None:
        abort(404)
    return ics_response(feed)


@bp.route("/besuch/<uid>")
def visit_page(uid: str):
    entry = feeds.visit_entry(uid)
    if entry is None:
        abort(404)
    return render_template("feeds/visit.html", e=entry)


@bp.route("/besuch/<uid>.ics")
def visit_ics(uid: str):
    entry = feeds.visit_entry(uid)
    if entry is None:
        abort(404)
    return ics_response(feeds.visit_feed(entry), "innovationlab.ics")


class PartnerForm(LabForm):
    name = StringField(_l("Name"), validators=[InputRequired(_l("Bitte einen Namen angeben.")), Length(max=200)])
    districts = SelectMultipleField(_l("Landkreise (leer = ganze Tour)"), validators=[Optional()])
    organisation_id = SelectField(_l("oder nur eine Einrichtung"), coerce=int, validators=[Optional()])


def _partner_form() -> PartnerForm:
    form = PartnerForm()
    form.districts.choices = [(d, d) for d in region.districts()]
    orgs = db.session.scalars(db.select(Organisation).order_by(Organisation.name)).all()
    form.organisation_id.choices = [(0, "–")] + [(o.id, f"{o.name}, {o.town}") for o in orgs]
    return form


def _links(token: str) -> dict[str, str]:
    https = url_for("feeds.partner_feed", token=token, _external=True)
    return {"https": https, "webcal": "webcal://" + https.split("://", 1)[1]}


@bp.route("/staff/partner", methods=["GET", "POST"])
@role_required(Role.PLANNER)
def partners():
    form = _partner_form()
    if form.validate_on_submit():
        partner, token = feeds.create_partner(current_user, form.name.data, form.districts.data or [],
                                              form.organisation_id.data or None)
        session["new_feed_token"] = token
        return redirect(url_for("feeds.partner", partner_id=partner.id))
    return render_template("feeds/partners.html", form=form, partners=feeds.partners(), active=feeds.active_token)


@bp.route("/staff/partner/<int:partner_id>")
@role_required(Role.PLANNER)
def partner(partner_id: int):
    p = db.session.get(Partner, partner_id) or abort(404)
    token = session.pop("new_feed_token", None)
    return render_template("feeds/partner.html", p=p, links=_links(token) if token else None,
                           active=feeds.active_token(p), form=LabForm())


@bp.route("/staff/partner/<int:partner_id>/<action>", methods=["POST"])
@role_required(Role.PLANNER)
def partner_action(partner_id: int, action: str):
    p = db.session.get(Partner, partner_id) or abort(404)
    if action not in ("neu", "sperren") or not LabForm().validate_on_submit():
        abort(400)
    if action == "neu":
        session["new_feed_token"] = feeds.regenerate(current_user, p)
        flash(_("Neuer Link erstellt; der alte funktioniert nicht mehr."), "success")
    else:
        feeds.revoke(current_user, p)
        flash(_("Link gesperrt."), "success")
    return redirect(url_for("feeds.partner", partner_id=p.id))


def register_cli(app) -> None:
    import click

    @app.cli.command("partner-link")
    @click.argument("name")
    @click.option("--district", "districts", multiple=True, help="Limit the feed to this district (repeatable).")
    def partner_link(name: str, districts: tuple[str, ...]) -> None:
        """Create a partner and print the path of its calendar feed."""
        unknown = [d for d in districts if d not in region.districts()]
        if unknown:
            raise click.ClickException(f"unknown district(s): {', '.join(unknown)}")
        _partner, token = feeds.create_partner(None, name, list(districts))
        with current_app.test_request_context():
            click.echo(url_for("feeds.partner_feed", token=token))
