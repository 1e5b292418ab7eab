"""JSON API /api/v1: the published tour (public), requests (create: public; read: staff by API token)."""
from __future__ import annotations

import hashlib
from datetime import date
from functools import wraps

import sqlalchemy as sa
from flask import Blueprint, current_app, g, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from ..auth import can
from ..extensions import csrf, db, limiter
from ..models import Organisation, RequestStatus, Role, Visit, VisitRequest
from ..services import api_tokens, modules as module_service, requests as request_service, tours
from .spec import openapi

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # no cookies: token or nothing


def error(status: int, message: str, errors: dict | None = None):
    body = {"message": message}
    if errors:
        body["errors"] = errors
    return jsonify(body), status


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    if exc.code == 429:
        return error(429, _("Zu viele Anfragen. Bitte versuchen Sie es später noch einmal."))
    return error(exc.code or 500, exc.description or exc.name)


def staff(role: Role):
    """An API token (Authorization: Bearer …) of a staff account with at least `role`."""
    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            header = request.headers.get("Authorization", "")
            token = header[7:].strip() if header.lower().startswith("bearer ") else ""
            user = api_tokens.user_for(token) if token else None
            if user is None:
                return error(401, _("Bitte melden Sie sich mit einem gültigen API-Token an."))
            if not can(user, role):
                return error(403, _("Ihre Rolle erlaubt das nicht."))
            g.api_user = user
            return view(*args, **kwargs)
        wrapped.api_role = role  # read by the access-matrix test
        return wrapped
    return decorate


def _page() -> tuple[int, int]:
    try:
        page, per_page = int(request.args.get("page", 1)), int(request.args.get("per_page", 50))
    except ValueError:
        page, per_page = 0, 0
    if not 1 <= page <= 100_000 or not 1 <= per_page <= 200:
        raise _BadPage()
    return page, per_page


class _BadPage(Exception):
    pass


@bp.errorhandler(_BadPage)
def _bad_page(_exc):
    return error(400, _("page muss zwischen 1 und 100000 liegen, per_page zwischen 1 und 200."))


def _paged(query, render) -> dict:
    page, per_page = _page()
    result = db.paginate(query, page=page, per_page=per_page, error_out=False)
    return {"items": [render(item) for item in result.items], "page": page, "per_page": per_page,
            "total": result.total, "pages": result.pages}


def _visit(v: Visit) -> dict:
    org = v.request.organisation
    return {"uid": v.uid, "start": v.start.isoformat(), "end": v.end.isoformat(), "half": v.half,
            "organisation": org.name, "kind": org.kind.value, "town": org.town, "district": org.district,
            "lat": org.lat, "lon": org.lon}


@bp.route("/openapi.json")
def spec():
    return jsonify(openapi(url_for("api.spec", _external=True).rsplit("/", 1)[0]))


@bp.route("/docs")
def docs():
    return render_template("api/docs.html", spec=openapi(url_for("api.spec", _external=True).rsplit("/", 1)[0]))


@bp.route("/tour")
@limiter.limit("600 per hour")
def tour():
    published = tours.published()
    if published is None:
        return error(404, _("Es ist noch keine Tour veröffentlicht."))
    etag = hashlib.sha256(f"{published.id}:{published.published_at.isoformat()}".encode()).hexdigest()[:32]
    if etag in request.if_none_match:
        response = current_app.response_class(status=304)
        response.set_etag(etag)
        return response
    response = jsonify({"version": published.version, "published_at": published.published_at.isoformat(),
                        "horizon_start": published.horizon_start.isoformat(),
                        "horizon_end": published.horizon_end.isoformat(), "km": round(published.km, 1),
                        "visits": [_visit(v) for v in published.visits]})
    response.set_etag(etag)
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


@bp.route("/visits")
@limiter.limit("600 per hour")
def visits():
    published = tours.published()
    query = sa.select(Visit).where(Visit.tour_id == (published.id if published else -1)).order_by(Visit.start,
                                                                                                  Visit.id)
    district = request.args.get("district")
    if district:
        query = query.join(VisitRequest).join(Organisation).where(Organisation.district == district)
    return jsonify(_paged(query, _visit))


@bp.route("/requests", methods=["POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_PUBLIC_POST"])
def create_request():
    """The same validation as the public form: the JSON is read into the form, so the checks cannot drift."""
    from ..booking.forms import RequestForm

    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return error(400, _("Bitte senden Sie ein JSON-Objekt."))
    lang = body.get("language") if body.get("language") in ("de", "en") else "de"
    form = RequestForm(formdata=_formdata(body), modules=module_service.active(), lang=lang, meta={"csrf": False})
    form.today = date.today()
    if not form.validate():
        return error(400, _("Bitte prüfen Sie die markierten Felder."), _field_errors(form))
    result = request_service.submit(form.request_data(), lang)
    manage = url_for("booking.manage", token=result.token, _external=True) if result.token else None
    return jsonify({"id": result.request.public_id, "manage_url": manage}), 201


def _formdata(body: dict) -> MultiDict:
    data = MultiDict()
    for key, value in body.items():
        if key == "windows" and isinstance(value, list):
            for i, window in enumerate(value[:3]):
                if isinstance(window, dict):
                    data.add(f"windows-{i}-start", str(window.get("start", "")))
                    data.add(f"windows-{i}-end", str(window.get("end", "")))
        elif key == "module_ids" and isinstance(value, list):
            for item in value:
                data.add("module_ids", str(item))
        elif isinstance(value, bool):
            if value:
                data.add(key, "y")
        elif value is not None and not isinstance(value, (dict, list)):
            data.add(key, str(value))
    return data


def _field_errors(form) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, messages in form.errors.items():
        if name == "windows":
            for i, sub in enumerate(messages):
                for field, msgs in (sub or {}).items() if isinstance(sub, dict) else ():
                    out[f"windows[{i}].{field}"] = [str(m) for m in msgs]
            continue
        out[name] = [str(m) for m in (messages if isinstance(messages, list) else [messages])]
    return out


def _request(req: VisitRequest) -> dict:
    org = req.organisation
    return {"id": req.id, "status": req.status.value, "organisation_id": org.id, "organisation": org.name,
            "town": org.town, "district": org.district,
            "windows": [{"start": w.start.isoformat(), "end": w.end.isoformat()} for w in req.windows],
            "half_days": req.duration_half_days, "participants": req.participants,
            "classes_per_day": req.classes_per_day, "created_at": req.created_at.isoformat()}


@bp.route("/requests")
@limiter.limit("1200 per hour")
@staff(Role.VIEWER)
def list_requests():
    query = sa.select(VisitRequest).order_by(VisitRequest.id)
    status = request.args.get("status")
    if status:
        if status not in {s.value for s in RequestStatus}:
            return error(400, _("Unbekannter Status."), {"status": [", ".join(s.value for s in RequestStatus)]})
        query = query.where(VisitRequest.status == status)
    return jsonify(_paged(query, _request))


@bp.route("/requests/<int:request_id>")
@limiter.limit("1200 per hour")
@staff(Role.VIEWER)
def get_request(request_id: int):
    req = db.session.get(VisitRequest, request_id)
    if req is None:
        return error(404, _("Diese Anfrage gibt es nicht."))
    return jsonify(_request(req))


@bp.route("/organisations")
@limiter.limit("1200 per hour")
@staff(Role.VIEWER)
def organisations():
    return jsonify(_paged(sa.select(Organisation).order_by(Organisation.id), lambda o: {
        "id": o.id, "name": o.name, "kind": o.kind.value, "postcode": o.postcode, "town": o.town,
        "district": o.district, "state": o.state, "lat": o.lat, "lon": o.lon}))
