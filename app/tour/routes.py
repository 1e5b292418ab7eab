"""Tour workspace for staff: plan a horizon, see and adjust the draft, compare, publish, day sheets."""
from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user

from ..auth import can, role_required
from ..extensions import db
from ..models import Role, Tour, TourStatus, Visit
from ..pages import cached_page
from ..services import tours
from ..security import csp_nonce
from ..services.region import OBERZENTREN
from .forms import ActionForm, MoveForm, PlanForm

bp = Blueprint("tour", __name__, url_prefix="/staff/touren")

REASON_LABELS = {
    "no_working_day_in_window": _l("Nach Wochenenden, Feiertagen und Ferien bleibt im Wunschzeitraum kein möglicher "
                                   "Tag."),
    "window_shorter_than_stay": _l("Der Wunschzeitraum ist kürzer als der Aufenthalt."),
    "outside_horizon": _l("Der Wunschzeitraum liegt außerhalb des Planungszeitraums."),
    "conflicts_with_fixed": _l("Alle möglichen Tage sind durch festgehaltene Besuche belegt."),
    "capacity": _l("Alle möglichen Tage sind schon an andere Besuche vergeben."),
    "removed": _l("Von Hand aus dem Entwurf genommen."),
}


@bp.app_context_processor
def _reasons():
    return {"REASON_LABELS": REASON_LABELS, "OBERZENTREN": OBERZENTREN}


def _tour(tour_id: int) -> Tour:
    return db.session.get(Tour, tour_id) or abort(404)


def _visit(tour: Tour, visit_id: int) -> Visit:
    visit = db.session.get(Visit, visit_id)
    if visit is None or visit.tour_id != tour.id:
        abort(404)
    return visit


@bp.route("/", methods=["GET", "POST"])
@role_required(Role.VIEWER, post=Role.PLANNER)
def index():
    form = PlanForm()
    if request.method == "GET" and not form.start.data:
        form.start.data, form.end.data = tours.next_half_year(date.today())
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                tour = tours.plan_tour(current_user, form.start.data, form.end.data)
            except tours.TourError as exc:
                form.end.errors = [str(exc)]
            else:
                flash(_("Entwurf Version %(v)d geplant: %(n)d Besuche, %(km).0f km.", v=tour.version,
                        n=len(tour.visits), km=tour.km), "success")
                return redirect(url_for("tour.detail", tour_id=tour.id))
    return render_template("tour/index.html", form=form, tours=tours.tours(), published=tours.published())


@bp.route("/<int:tour_id>")
@role_required(Role.VIEWER)
def detail(tour_id: int):
    tour = _tour(tour_id)
    return render_template("tour/detail.html", tour=tour, days=tours.days_of(tour), legs=_legs_by_target(tour),
                           form=ActionForm(), move_form=MoveForm(), rural=tours.rural_share(tour))


def _legs_by_target(tour: Tour) -> dict[int, object]:
    """The transfer that brings the truck to each visit."""
    return {leg.to_request_id: leg for leg in tour.legs if leg.to_request_id is not None}


@bp.route("/<int:tour_id>/besuch/<int:visit_id>/verschieben", methods=["POST"])
@role_required(Role.PLANNER)
def move(tour_id: int, visit_id: int):
    tour = _tour(tour_id)
    visit = _visit(tour, visit_id)
    form = MoveForm()
    if not form.validate_on_submit():
        flash(_("Bitte ein gültiges Datum angeben."), "danger")
    else:
        try:
            tours.move(current_user, tour, visit, form.start.data, form.half.data or None, form.lock.data)
            flash(_("Besuch verschoben."), "success")
        except tours.TourError as exc:
            flash(_("Nicht verschoben: %(why)s", why=str(exc)), "danger")
    return redirect(url_for("tour.detail", tour_id=tour.id))


@bp.route("/<int:tour_id>/besuch/<int:visit_id>/<action>", methods=["POST"])
@role_required(Role.PLANNER)
def visit_action(tour_id: int, visit_id: int, action: str):
    tour = _tour(tour_id)
    visit = _visit(tour, visit_id)
    if action not in ("festhalten", "loesen", "entfernen") or not ActionForm().validate_on_submit():
        abort(400)
    try:
        if action == "entfernen":
            tours.remove(current_user, tour, visit)
        else:
            tours.set_locked(current_user, tour, visit, action == "festhalten")
    except tours.TourError as exc:
        flash(str(exc), "danger")
    return redirect(url_for("tour.detail", tour_id=tour.id))


@bp.route("/<int:tour_id>/<action>", methods=["POST"])
@role_required(Role.PLANNER)
def tour_action(tour_id: int, action: str):
    tour = _tour(tour_id)
    if action not in ("neu-planen", "veroeffentlichen", "verwerfen") or not ActionForm().validate_on_submit():
        abort(400)
    try:
        if action == "neu-planen":
            tours.replan(current_user, tour)
            flash(_("Neu geplant um die festgehaltenen Besuche."), "success")
        elif action == "veroeffentlichen":
            counts = tours.publish(current_user, tour)
            flash(_("Version %(v)d ist veröffentlicht. Benachrichtigt: %(a)d neu, %(m)d verschoben, %(c)d abgesagt.",
                    v=tour.version, a=counts["added"], m=counts["moved"], c=counts["cancelled"]), "success")
        else:
            tours.discard(current_user, tour)
            flash(_("Entwurf verworfen."), "info")
            return redirect(url_for("tour.index"))
    except tours.TourError as exc:
        flash(str(exc), "danger")
    return redirect(url_for("tour.detail", tour_id=tour.id))


@bp.route("/<int:tour_id>/vergleich")
@role_required(Role.VIEWER)
def compare(tour_id: int):
    tour = _tour(tour_id)
    pub = tours.published()
    other = pub if pub and pub.id != tour.id else None
    return render_template("tour/compare.html", tour=tour, pub=other, cmp=tours.compare(tour, other))


def _tour_day(tour: Tour, day: str) -> date:
    """The date in the URL, when the tour has a visit on it (404 otherwise)."""
    try:
        when = date.fromisoformat(day)
    except ValueError:
        abort(404)
    if not any(v.start <= when <= v.end for v in tour.visits):
        abort(404)
    return when


@bp.route("/<int:tour_id>/tag/<day>")
@role_required(Role.VIEWER)
def day_sheet(tour_id: int, day: str):
    tour = _tour(tour_id)
    when = _tour_day(tour, day)
    visits = [v for d, vs in tours.days_of(tour) if d == when for v in vs]
    legs = _legs_by_target(tour)
    return render_template("tour/day.html", tour=tour, day=when, visits=visits, legs=legs)


@bp.route("/kalender")
@cached_page()
@role_required(Role.VIEWER)
def calendar():
    """Month, week or list view of the published tour, or of a chosen version (drafts for planners)."""
    from ..services import tour_calendar

    tour = tours.published()
    version = request.args.get("version", type=int)
    if version:
        chosen = db.session.get(Tour, version) or abort(404)
        if chosen.status == TourStatus.DRAFT and not can(current_user, Role.PLANNER):
            abort(403)
        tour = chosen
    view = request.args.get("ansicht", "monat")
    if view not in ("monat", "woche", "liste"):
        view = "monat"
    try:
        anchor = date.fromisoformat(request.args.get("datum", ""))
    except ValueError:
        anchor = tour.visits[0].start if tour and tour.visits else date.today()
    args = {"version": version} if version else {}
    if view == "woche":
        monday = anchor - timedelta(days=anchor.weekday())
        return render_template("tour/calendar_week.html", tour=tour, days=tour_calendar.week(tour, monday),
                               prev=monday - timedelta(days=7), next=monday + timedelta(days=7), args=args)
    if view == "liste":
        return render_template("tour/calendar_list.html", tour=tour, days=tours.days_of(tour) if tour else [],
                               args=args)
    first = anchor.replace(day=1)
    prev = (first - timedelta(days=1)).replace(day=1)
    nxt = (first + timedelta(days=32)).replace(day=1)
    return render_template("tour/calendar_month.html", tour=tour, weeks=tour_calendar.month(tour, first.year,
                                                                                          first.month),
                           first=first, prev=prev, next=nxt, args=args)


@bp.route("/<int:tour_id>/karte")
@cached_page()
@role_required(Role.VIEWER)
def tour_map(tour_id: int):
    from ..services import tour_maps

    tour = _tour(tour_id)
    rendered = tour_maps.tour_map(tour).with_nonce(csp_nonce())
    return render_template("tour/map.html", tour=tour, map=rendered, legend=tour_maps.week_legend(tour), day=None)


@bp.route("/<int:tour_id>/karte/<day>")
@cached_page()
@role_required(Role.VIEWER)
def day_map(tour_id: int, day: str):
    from ..services import tour_maps

    tour = _tour(tour_id)
    when = _tour_day(tour, day)
    rendered = tour_maps.tour_map(tour, when).with_nonce(csp_nonce())
    return render_template("tour/map.html", tour=tour, map=rendered, legend=[], day=when)


@bp.route("/region")
@cached_page()
@role_required(Role.VIEWER)
def region_map():
    from ..services import tour_maps

    return render_template("tour/region.html", map=tour_maps.region_map().with_nonce(csp_nonce()))
