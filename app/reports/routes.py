"""The impact report for staff (any range) and for partners (their scope, through their secret link)."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, flash, render_template, request, url_for
from flask_babel import gettext as _

from ..auth import role_required
from ..extensions import limiter
from ..models import Role
from ..services import feeds, impact, tours

bp = Blueprint("reports", __name__)
MAX_DAYS = 3 * 366


def _range() -> tuple[date, date]:
    """From the query string, else the published tour's horizon, else the current school half-year."""
    tour = tours.published()
    default = (tour.horizon_start, tour.horizon_end) if tour else tours.half_year_of(date.today())
    raw_start, raw_end = request.args.get("start"), request.args.get("end")
    if not raw_start and not raw_end:
        return default
    try:
        start, end = date.fromisoformat(raw_start or ""), date.fromisoformat(raw_end or "")
    except ValueError:
        flash(_("Bitte geben Sie Anfang und Ende als Datum an (TT.MM.JJJJ). Gezeigt wird der Standardzeitraum."),
              "warning")
        return default
    if end < start or (end - start).days > MAX_DAYS:
        flash(_("Der Zeitraum muss vorwärts laufen und darf höchstens drei Jahre lang sein. "
                "Gezeigt wird der Standardzeitraum."), "warning")
        return default
    return start, end


def _presets() -> list[tuple[str, date, date]]:
    """Recent and coming school half-years for quick choice."""
    today = date.today()
    out = []
    for year in (today.year - 1, today.year, today.year + 1):
        for month, label in ((2, _("Sommerhalbjahr %(y)s", y=year)), (8, _("Winterhalbjahr %(y)s/%(z)s", y=year,
                                                                                    z=str(year + 1)[2:]))):
            start, end = tours.half_year_of(date(year, month, 1))
            out.append((label, start, end))
    return out


def _export(report: impact.Report, fmt: str) -> Response:
    stem = f"labtour-bericht-{report.start.isoformat()}-{report.end.isoformat()}"
    if fmt == "csv":
        return Response(impact.to_csv(report), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{stem}.csv"'})
    return Response(impact.to_xlsx(report),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{stem}.xlsx"'})


@bp.route("/staff/bericht")
@role_required(Role.VIEWER)
def staff_report():
    start, end = _range()
    report = impact.build(start, end)
    return render_template("reports/report.html", report=report, presets=_presets(),
                           bubbles=impact.district_bubbles(report),
                           export=lambda fmt: url_for("reports.staff_export", fmt=fmt, start=start, end=end))


@bp.route("/staff/bericht.<any(csv, xlsx):fmt>")
@role_required(Role.VIEWER)
def staff_export(fmt: str):
    start, end = _range()
    return _export(impact.build(start, end), fmt)


@bp.route("/partner/<token>/bericht")
@limiter.limit("120 per hour")
def partner_report(token: str):
    partner = feeds.partner_by_token(token) or abort(404)
    start, end = _range()
    report = impact.build(start, end, feeds.Scope.of(partner))
    return render_template("reports/report.html", report=report, presets=_presets(), partner=partner,
                           bubbles=impact.district_bubbles(report),
                           export=lambda fmt: url_for("reports.partner_export", token=token, fmt=fmt, start=start,
                                                      end=end))


@bp.route("/partner/<token>/bericht.<any(csv, xlsx):fmt>")
@limiter.limit("120 per hour")
def partner_export(token: str, fmt: str):
    partner = feeds.partner_by_token(token) or abort(404)
    start, end = _range()
    return _export(impact.build(start, end, feeds.Scope.of(partner)), fmt)
