"""Staff area: log in, review requests, manage blackouts and the module catalogue."""
from __future__ import annotations

import json
import os
from datetime import date, timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from ..auth import can, role_required
from ..extensions import db, limiter
from ..models import Blackout, BlackoutKind, Contact, LogisticsCheck, Module, Reminder, ReminderStatus, Role
from ..services import audit, blackouts as blackout_service, geo, modules as module_service, region
from ..services import outbox, privacy, reminders, requests as request_service, sitecheck, users
from ..booking.forms import PERMIT_CHOICES, POWER_CHOICES, SURFACE_CHOICES
from .forms import (BLACKOUT_LABELS, GEO_LABELS, KIND_LABELS, STATUS_LABELS, TOUR_STATUS_LABELS, BlackoutForm,
                    DecisionForm, DeleteForm, FilterForm, ForgotForm, ImportForm, LoginForm, ModuleForm, PinForm,
                    ResetForm)

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.app_context_processor
def _labels():
    return {"STATUS_LABELS": STATUS_LABELS, "KIND_LABELS": KIND_LABELS, "BLACKOUT_LABELS": BLACKOUT_LABELS,
            "POWER_LABELS": dict(POWER_CHOICES), "SURFACE_LABELS": dict(SURFACE_CHOICES),
            "PERMIT_LABELS": dict(PERMIT_CHOICES), "TOUR_STATUS_LABELS": TOUR_STATUS_LABELS,
            "site_messages": sitecheck.messages, "GEO_LABELS": GEO_LABELS, "can": can, "Role": Role}


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = users.authenticate(form.email.data, form.password.data)
        if user:
            login_user(user)
            return redirect(url_for("staff.requests"))
        flash(_("E-Mail oder Passwort stimmen nicht."), "danger")
    return render_template("staff/login.html", form=form)


@bp.route("/passwort-vergessen", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])
def forgot_password():
    form = ForgotForm()
    if form.validate_on_submit():
        users.request_reset(form.email.data)
        flash(_("Wenn es zu dieser Adresse ein Konto gibt, ist ein Link zum Zurücksetzen unterwegs. "
                "Er gilt eine Stunde."), "info")
        return redirect(url_for("staff.login"))
    return render_template("staff/forgot.html", form=form)


@bp.route("/passwort-neu/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])
def reset_password(token: str):
    if users.valid_reset(token) is None:
        flash(_("Dieser Link ist abgelaufen oder wurde schon benutzt. Fordern Sie bitte einen neuen an."), "warning")
        return redirect(url_for("staff.forgot_password"))
    form = ResetForm()
    if form.validate_on_submit() and users.reset_password(token, form.password.data):
        flash(_("Ihr neues Passwort gilt. Bitte melden Sie sich an."), "success")
        return redirect(url_for("staff.login"))
    return render_template("staff/reset.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    flash(_("Sie sind abgemeldet."), "info")
    return redirect(url_for("web.index"))


@bp.route("/")
@role_required(Role.VIEWER)
def home():
    return redirect(url_for("staff.requests"))


@bp.route("/anfragen")
@role_required(Role.VIEWER)
def requests():
    form = FilterForm(request.args)
    form.district.choices = [("", _("alle"))] + [(d, d) for d in region.districts()] + [
        (region.OTHER_DISTRICT, _("anderer Landkreis"))]
    filters = request_service.Filters()
    if form.validate():
        filters = request_service.Filters(form.status.data or "", form.kind.data or "", form.district.data or "",
                                          form.date_from.data, form.date_to.data, form.q.data or "")
    page = request.args.get("page", 1, type=int) or 1
    pagination = request_service.search(filters, max(page, 1))
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("staff/requests.html", form=form, pagination=pagination, args=args,
                           counts=request_service.status_counts())


@bp.route("/anfragen/<int:request_id>")
@role_required(Role.VIEWER)
def request_detail(request_id: int):
    req = request_service.get(request_id) or abort(404)
    return _detail(req, DecisionForm())


def _detail(req, form, status=200, pin_form=None):
    pin_form = pin_form or PinForm(lat=req.organisation.lat, lon=req.organisation.lon)
    return render_template("staff/request_detail.html", req=req, form=form, pin_form=pin_form,
                           events=audit.events_for("visit_request", req.id), checks=reminders.checks_for(req),
                           feedback=reminders.feedback_for(req), resolve_form=DeleteForm(),
                           warnings=sitecheck.messages(req.site_warnings)), status


@bp.route("/anfragen/<int:request_id>/entscheidung", methods=["POST"])
@role_required(Role.PLANNER)
def decide(request_id: int):
    req = request_service.get(request_id) or abort(404)
    form = DecisionForm()
    if not form.validate_on_submit():
        return _detail(req, form, 400)
    try:
        request_service.decide(req, form.action.data, current_user, form.reason.data or "")
    except request_service.TransitionError as exc:
        if str(exc) == "reason":
            form.reason.errors = [_("Bitte begründen Sie die Ablehnung; die anfragende Person erhält die Begründung.")]
        else:
            flash(_("Das geht im Status „%(status)s“ nicht.", status=STATUS_LABELS[req.status.value]), "warning")
        return _detail(req, form, 409)
    flash(_("Entscheidung gespeichert; die anfragende Person wird per E-Mail informiert."), "success")
    return redirect(url_for("staff.request_detail", request_id=req.id))


@bp.route("/anfragen/<int:request_id>/position", methods=["POST"])
@role_required(Role.PLANNER)
def pin(request_id: int):
    req = request_service.get(request_id) or abort(404)
    form = PinForm()
    if not form.validate_on_submit():
        return _detail(req, DecisionForm(), 400, pin_form=form)
    geo.pin(current_user, req.organisation, form.lat.data, form.lon.data)
    flash(_("Position gespeichert: Die Einrichtung steht jetzt genau an dieser Stelle auf der Karte."), "success")
    return redirect(url_for("staff.request_detail", request_id=req.id))


@bp.route("/sperrzeiten", methods=["GET", "POST"])
@role_required(Role.VIEWER, post=Role.PLANNER)
def blackouts():
    year = request.args.get("jahr", date.today().year, type=int)
    year = min(max(year, 2000), 2100)
    form = BlackoutForm()
    if request.method == "POST":
        if form.validate_on_submit():
            blackout_service.add_blackout(current_user, form.start.data, form.end.data,
                                          BlackoutKind(form.kind.data), form.reason.data)
            flash(_("Sperrzeit gespeichert."), "success")
            return redirect(url_for("staff.blackouts", jahr=year))
    start, end = date(year, 1, 1), date(year, 12, 31)
    holidays = blackout_service.holiday_ranges(start, end, tuple(current_app.config["PLANNING"]["states"]))
    return render_template("staff/blackouts.html", form=form, year=year, holidays=holidays,
                           manual=blackout_service.manual_blackouts(start - timedelta(days=366), end),
                           delete_form=DeleteForm(), import_form=ImportForm())


@bp.route("/sperrzeiten/import", methods=["POST"])
@role_required(Role.PLANNER)
def blackout_import():
    from ..services import blackout_import as importer

    form = ImportForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            flash(" ".join(map(str, errors)), "danger")
        return redirect(url_for("staff.blackouts"))
    try:
        if form.file.data:
            label = os.path.basename(form.file.data.filename or "upload.ics")
            data = form.file.data.read(importer.MAX_BYTES + 1)
            if len(data) > importer.MAX_BYTES:
                raise importer.ImportError_(_("Der Kalender ist größer als 2 MB."))
        else:
            label, data = form.url.data.strip(), importer.fetch(form.url.data.strip())
        result = importer.import_calendar(current_user, data, label)
    except importer.ImportError_ as exc:
        flash(str(exc), "danger")
    else:
        flash(_("Import aus „%(label)s“: %(a)d neu, %(u)d geändert, %(r)d entfernt.", label=label, a=result.added,
                u=result.updated, r=result.removed), "success")
    return redirect(url_for("staff.blackouts"))


@bp.route("/sperrzeiten/<int:blackout_id>", methods=["GET", "POST"])
@role_required(Role.PLANNER)
def blackout_edit(blackout_id: int):
    blackout = db.session.get(Blackout, blackout_id) or abort(404)
    form = BlackoutForm(obj=blackout if request.method == "GET" else None)
    if request.method == "GET":
        form.kind.data = blackout.kind.value
    if form.validate_on_submit():
        blackout_service.update_blackout(current_user, blackout, form.start.data, form.end.data,
                                         BlackoutKind(form.kind.data), form.reason.data)
        flash(_("Sperrzeit gespeichert."), "success")
        return redirect(url_for("staff.blackouts", jahr=blackout.start.year))
    return render_template("staff/blackout_edit.html", form=form, blackout=blackout)


@bp.route("/sperrzeiten/<int:blackout_id>/loeschen", methods=["POST"])
@role_required(Role.PLANNER)
def blackout_delete(blackout_id: int):
    blackout = db.session.get(Blackout, blackout_id) or abort(404)
    if DeleteForm().validate_on_submit():
        year = blackout.start.year
        blackout_service.delete_blackout(current_user, blackout)
        flash(_("Sperrzeit gelöscht."), "success")
        return redirect(url_for("staff.blackouts", jahr=year))
    abort(400)


@bp.route("/module", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def modules():
    form = ModuleForm()
    if form.validate_on_submit() and _save_module(form, None):
        flash(_("Modul gespeichert."), "success")
        return redirect(url_for("staff.modules"))
    return render_template("staff/modules.html", form=form, modules=module_service.all_modules())


@bp.route("/module/<int:module_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def module_edit(module_id: int):
    module = db.session.get(Module, module_id) or abort(404)
    form = ModuleForm(obj=module)
    if form.validate_on_submit() and _save_module(form, module):
        flash(_("Modul gespeichert."), "success")
        return redirect(url_for("staff.modules"))
    return render_template("staff/module_edit.html", form=form, module=module)


def _save_module(form: ModuleForm, module: Module | None) -> bool:
    data = {f: getattr(form, f).data for f in module_service.FIELDS}
    try:
        module_service.save(current_user, data, module)
    except module_service.ModuleError:
        form.code.errors = [_("Dieses Kürzel ist schon vergeben.")]
        return False
    return True


@bp.route("/logistik/<int:check_id>/erledigt", methods=["POST"])
@role_required(Role.PLANNER)
def logistics_resolved(check_id: int):
    check = db.session.get(LogisticsCheck, check_id) or abort(404)
    if DeleteForm().validate_on_submit():
        reminders.resolve_logistics(current_user, check)
        flash(_("Als erledigt markiert."), "success")
    return redirect(url_for("staff.request_detail", request_id=check.request_id))


@bp.route("/postausgang")
@role_required(Role.VIEWER)
def outbox_list():
    """Every queued, sent, failed or skipped mail: staff see what reached whom and what did not."""
    status = request.args.get("status", "")
    query = db.select(Reminder).order_by(Reminder.id.desc())
    if status in {s.value for s in ReminderStatus}:
        query = query.where(Reminder.status == status)
    pagination = db.paginate(query, per_page=50, error_out=False)
    return render_template("staff/outbox.html", pagination=pagination, status=status, counts=outbox.counts(),
                           form=DeleteForm())


@bp.route("/postausgang/<int:reminder_id>/erneut", methods=["POST"])
@role_required(Role.PLANNER)
def outbox_resend(reminder_id: int):
    row = db.session.get(Reminder, reminder_id) or abort(404)
    if DeleteForm().validate_on_submit() and outbox.resend(current_user, row):
        flash(_("Die E-Mail wird erneut versandt."), "success")
    else:
        flash(_("Diese E-Mail kann nicht erneut versandt werden (nur fehlgeschlagene mit erhaltenem Text)."),
              "warning")
    return redirect(url_for("staff.outbox_list", status=request.args.get("status", "")))


@bp.route("/kontakte/<int:contact_id>/auskunft.json")
@role_required(Role.ADMIN)
def contact_export(contact_id: int):
    """DSGVO Art. 15: everything about one contact, to hand over."""
    contact = db.session.get(Contact, contact_id) or abort(404)
    audit.record(current_user, "contact", contact.id, "exported", None, None)
    db.session.commit()
    response = current_app.response_class(
        json.dumps(privacy.export(contact), ensure_ascii=False, indent=2), mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="auskunft-kontakt-{contact.id}.json"'
    return response


@bp.route("/kontakte/<int:contact_id>/loeschen", methods=["POST"])
@role_required(Role.ADMIN)
def contact_erase(contact_id: int):
    """DSGVO Art. 17: the person goes, the statistics stay."""
    contact = db.session.get(Contact, contact_id) or abort(404)
    request_id = request.form.get("request_id", type=int)
    if DeleteForm().validate_on_submit():
        n = privacy.erase(current_user, contact)
        flash(_("Die Kontaktdaten sind gelöscht (%(n)s Anfragen anonymisiert); Zahlen für die Statistik bleiben.",
                n=n), "success")
    if request_id:
        return redirect(url_for("staff.request_detail", request_id=request_id))
    return redirect(url_for("staff.requests"))
