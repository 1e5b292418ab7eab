"""Answers of a host through the secret links of the reminder e-mails: logistics check and feedback."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from ..extensions import limiter
from ..services import reminders
from .forms import FeedbackForm, LogisticsForm

bp = Blueprint("host", __name__, url_prefix="/gastgeber")


def _limit() -> str:
    return current_app.config["RATELIMIT_PUBLIC_POST"]


@bp.route("/logistik/<token>", methods=["GET", "POST"])
@limiter.limit(_limit, methods=["POST"])
def logistics(token: str):
    check = reminders.logistics_by_token(token)
    if check is None:
        abort(404)
    form = LogisticsForm(obj=check if check.answered_at else None)
    if form.validate_on_submit():
        reminders.answer_logistics(check, space_ok=form.space_ok.data, power_ok=form.power_ok.data,
                                   access_ok=form.access_ok.data, problem=form.problem.data or "")
        flash(_("Danke! Das Lab-Team kümmert sich um das gemeldete Problem.") if check.flagged
              else _("Danke! Der Standplatz ist bestätigt."), "success")
        return redirect(url_for("host.logistics", token=token))
    return render_template("host/logistics.html", check=check, req=check.request, form=form)


@bp.route("/rueckmeldung/<token>", methods=["GET", "POST"])
@limiter.limit(_limit, methods=["POST"])
def feedback(token: str):
    fb = reminders.feedback_by_token(token)
    if fb is None:
        abort(404)
    form = FeedbackForm(obj=fb if fb.submitted_at else None)
    if form.validate_on_submit():
        reminders.submit_feedback(fb, rating=form.rating.data, comments=form.comments.data or "",
                                  participants_reached=form.participants_reached.data)
        flash(_("Vielen Dank für Ihre Rückmeldung!"), "success")
        return redirect(url_for("host.feedback", token=token))
    return render_template("host/feedback.html", fb=fb, req=fb.request, form=form)
