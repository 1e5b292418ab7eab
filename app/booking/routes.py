"""Public pages for hosts: request a visit, then view, change or cancel it through the secret link."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale, gettext as _

from ..extensions import csrf, limiter
from ..pages import cached_page
from ..services import modules as module_service, requests as request_service, sitecheck
from .forms import CancelForm, RequestForm, VisitDetailsForm

bp = Blueprint("booking", __name__)


def _public_post_limit() -> str:
    return current_app.config["RATELIMIT_PUBLIC_POST"]


def _lang() -> str:
    return str(get_locale() or "de")


@bp.route("/anfrage/neu", methods=["GET", "POST"])
@csrf.exempt  # the form validates its own token, so a stale one keeps what the user typed
@limiter.limit(_public_post_limit, methods=["POST"])
@cached_page(public=True)
def new():
    form = RequestForm(modules=module_service.active(), lang=_lang())
    form.today = date.today()
    if form.validate_on_submit():
        result = request_service.submit(form.request_data(), _lang())
        if result.token:
            session["new_manage_token"] = result.token
        return redirect(url_for("booking.done"))
    return render_template("booking/new.html", form=form, warnings=sitecheck.messages(form.site_warnings()))


@bp.route("/anfrage/eingegangen")
def done():
    """Shows the manage link once: it is stored only as a hash and cannot be shown again."""
    token = session.pop("new_manage_token", None)
    link = url_for("booking.manage", token=token, _external=True) if token else None
    return render_template("booking/done.html", link=link)


def _request_or_404(token: str):
    req = request_service.find_by_token(token)
    if req is None:
        abort(404)
    return req


@bp.route("/verwalten/<token>")
def manage(token: str):
    req = _request_or_404(token)
    return render_template("booking/manage.html", req=req, token=token, cancel_form=CancelForm(),
                           editable=request_service.is_editable(req), lang=_lang(),
                           warnings=sitecheck.messages(req.site_warnings))


@bp.route("/verwalten/<token>/aendern", methods=["GET", "POST"])
@csrf.exempt  # validated by the form itself (see new())
@limiter.limit(_public_post_limit, methods=["POST"])
def edit(token: str):
    req = _request_or_404(token)
    if not request_service.is_editable(req):
        flash(_("Diese Anfrage ist schon eingeplant oder abgeschlossen und kann hier nicht mehr geändert werden. "
                "Bitte schreiben Sie dem Lab-Team."), "warning")
        return redirect(url_for("booking.manage", token=token))
    form = VisitDetailsForm(obj=None)
    form.host_state, form.host_kind, form.today = req.organisation.state, req.organisation.kind, date.today()
    if request.method == "GET":
        _fill(form, req)
    elif form.validate_on_submit():
        request_service.update_by_host(req, form.details())
        flash(_("Ihre Änderungen sind gespeichert."), "success")
        return redirect(url_for("booking.manage", token=token))
    return render_template("booking/edit.html", form=form, req=req, token=token,
                           warnings=sitecheck.messages(form.site_warnings()))


def _fill(form: VisitDetailsForm, req) -> None:
    for entry, window in zip(form.windows, req.windows):
        entry.form.start.data, entry.form.end.data = window.start, window.end
    form.half_days.data = req.duration_half_days
    for name in ("classes_per_day", "participants", "occupations", "message"):
        getattr(form, name).data = getattr(req, name)
    for name in ("space_length_m", "space_width_m", "clearance_m", "surface", "power_type", "power_distance_m",
                 "wifi", "toilets", "permit", "onsite_name", "onsite_phone", "access_notes"):
        getattr(form, name).data = getattr(req.logistics, name)
    form.confirm_site.data = bool(req.site_warnings)


@bp.route("/verwalten/<token>/stornieren", methods=["POST"])
@limiter.limit(_public_post_limit)
def cancel(token: str):
    req = _request_or_404(token)
    form = CancelForm()
    if not form.validate_on_submit():
        flash(_("Bitte bestätigen Sie die Stornierung mit dem Häkchen."), "danger")
    else:
        try:
            request_service.cancel_by_host(req)
            flash(_("Ihre Anfrage ist storniert. Danke, dass Sie uns Bescheid gegeben haben."), "success")
        except request_service.TransitionError:
            flash(_("Diese Anfrage kann nicht mehr storniert werden."), "warning")
    return redirect(url_for("booking.manage", token=token))


@bp.route("/verwalten/<token>/kalender.ics")
@limiter.limit("120 per hour")
def host_feed(token: str):
    """The host's own visits as a calendar subscription."""
    from ..feeds.routes import ics_response
    from ..services import feeds

    return ics_response(feeds.host_feed(_request_or_404(token)))
