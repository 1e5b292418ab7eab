"""The access matrix, generated from the URL map: every rule x (anonymous, viewer, planner, admin, partner token,
host manage token). A new route fails here until it declares a guard (role_required / API role) or is listed as
public or token-protected below."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from app.auth import RANK
from app.extensions import db
from app.models import (Blackout, Feedback, LogisticsCheck, Module, PasswordReset, Reminder, Role, Tour, User, Visit,
                        VisitRequest)
from app.security import hash_token
from app.services import api_tokens, feeds

PUBLIC = {"web.index", "web.privacy", "web.language", "web.healthz", "static", "booking.new", "booking.done",
          "api.docs", "api.spec", "api.tour", "api.visits", "api.create_request", "staff.login", "staff.logout",
          "staff.forgot_password", "feeds.visit_page", "feeds.visit_ics"}
TOKEN = {"feeds.partner_feed": "partner", "reports.partner_report": "partner", "reports.partner_export": "partner",
         "booking.manage": "host", "booking.edit": "host", "booking.host_feed": "host", "booking.cancel": "host",
         "host.logistics": "logistics", "host.feedback": "feedback", "staff.reset_password": "reset"}
ACTORS = ("anonymous", "viewer", "planner", "admin", "partner", "host")


def _guard(app, endpoint: str):
    view = app.view_functions[endpoint]
    return getattr(view, "required_role", None), getattr(view, "api_role", None)


def test_every_route_declares_its_guard(app):
    unguarded = [r.rule for r in app.url_map.iter_rules()
                 if _guard(app, r.endpoint) == (None, None) and r.endpoint not in PUBLIC | set(TOKEN)]
    assert unguarded == [], "routes without a guard: add role_required, or list them as public/token here"


@pytest.fixture
def world(app, make_request):
    rid, manage = make_request()
    with app.app_context():
        req = db.session.get(VisitRequest, rid)
        tour = Tour(horizon_start=date(2027, 2, 1), horizon_end=date(2027, 6, 30), version=1)
        tour.visits = [Visit(request_id=rid, start=date(2027, 3, 1), end=date(2027, 3, 2))]
        blackout = Blackout(start=date(2027, 5, 3), end=date(2027, 5, 4), kind="maintenance", reason="TÜV")
        db.session.add_all([tour, blackout])
        db.session.flush()
        check = LogisticsCheck(request_id=rid, visit_uid=tour.visits[0].uid, visit_start=date(2027, 3, 1),
                               token_hash=hash_token("logistics-token"))
        feedback = Feedback(request_id=rid, visit_uid=tour.visits[0].uid, visit_start=date(2027, 3, 1),
                            token_hash=hash_token("feedback-token"))
        db.session.add_all([check, feedback])
        users = {}
        for role in Role:
            user = User(email=f"{role.value}@access.example", role=role, password_hash="x")
            db.session.add(user)
            db.session.flush()
            users[role.value] = user.id
        db.session.add(PasswordReset(user_id=users["viewer"], token_hash=hash_token("reset-token"),
                                     expires_at=datetime.now(timezone.utc) + timedelta(hours=1)))
        db.session.commit()
        partner, partner_token = feeds.create_partner(None, "Landkreis Wesermarsch", ["Wesermarsch"])
        bearer = {role: api_tokens.issue(db.session.get(User, uid), "matrix") for role, uid in users.items()}
        values = {"request_id": rid, "contact_id": req.contact_id, "check_id": check.id,
                  "reminder_id": db.session.scalar(sa.select(Reminder.id)), "module_id": db.session.scalar(
                      sa.select(Module.id)), "partner_id": partner.id, "blackout_id": blackout.id,
                  "tour_id": tour.id, "visit_id": tour.visits[0].id, "day": "2027-03-01", "action": "x",
                  "uid": tour.visits[0].uid, "lang": "en", "filename": "css/site.css", "fmt": "csv"}
    return {"values": values, "users": users, "bearer": bearer,
            "tokens": {"partner": partner_token, "host": manage, "logistics": "logistics-token",
                       "feedback": "feedback-token", "reset": "reset-token"}}


def _url(rule, values: dict, token: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: str(token if m.group(1) == "token" else values[m.group(1)]),
                  rule.rule)


def _rules(app):
    return sorted(app.url_map.iter_rules(), key=lambda r: r.rule)


@pytest.mark.parametrize("actor", ACTORS)
def test_access_matrix(app, world, actor):
    """One actor against every rule and method: what they may do answers, what they may not is refused."""
    client = app.test_client()
    failures = []
    for rule in _rules(app):
        staff_role, api_role = _guard(app, rule.endpoint)
        kind = TOKEN.get(rule.endpoint)
        token = world["tokens"][kind] if kind and (kind == actor or kind not in ("partner", "host")) else "wrong"
        url = _url(rule, world["values"], token)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if actor in world["users"]:  # logged in afresh: /staff/logout is one of the rules
                with client.session_transaction() as session:
                    session["_user_id"] = str(world["users"][actor])
                    session["_fresh"] = True
            headers = {}
            if api_role and actor in world["bearer"]:
                headers["Authorization"] = f"Bearer {world['bearer'][actor]}"
            response = client.open(url, method=method, data={}, headers=headers)
            status = response.status_code
            if status >= 500:
                failures.append((method, url, status, "server error"))
            elif staff_role:
                if method == "POST":
                    staff_role = app.view_functions[rule.endpoint].post_role
                if actor not in world["users"]:
                    ok = status == 302 and "/staff/login" in response.location
                elif RANK[Role(actor)] < RANK[staff_role]:
                    ok = status == 403
                else:
                    ok = status not in (401, 403)
                if not ok:
                    failures.append((method, url, status, f"needs {staff_role.value}"))
            elif api_role:
                expected_refusal = 401 if actor not in world["bearer"] else (
                    403 if RANK[Role(actor)] < RANK[api_role] else None)
                if (expected_refusal and status != expected_refusal) or (not expected_refusal and status >= 400
                                                                          and status != 404):
                    failures.append((method, url, status, f"API needs {api_role.value}"))
            elif kind:
                if token == "wrong" and status not in (404, 302):
                    failures.append((method, url, status, "wrong token must not open it"))
                if token != "wrong" and method == "GET" and status >= 400:
                    failures.append((method, url, status, "its own token must open it"))
            elif status in (401, 403):
                failures.append((method, url, status, "public page refused"))
    assert failures == [], failures


EVIL = '<script>alert(1)</script>"onmouseover=x'


def test_stored_markup_is_inert_on_every_page(app, make_request):
    """Everything a host types, shown on every page that can show it: escaped in HTML, never live markup."""
    from app.models import RequestStatus
    from app.services import tours
    rid, manage = make_request(org_name=EVIL, message=EVIL, occupations=EVIL, access_notes=EVIL, onsite_name=EVIL,
                               town="Brake (Unterweser)", windows=[(date(2027, 3, 1), date(2027, 3, 19))])
    with app.app_context():
        db.session.get(VisitRequest, rid).status = RequestStatus.APPROVED
        admin = User(email="admin@xss.example", role=Role.ADMIN, password_hash="x")
        db.session.add(admin)
        db.session.commit()
        tour = tours.plan_tour(admin, date(2027, 2, 1), date(2027, 6, 30))
        tours.publish(admin, tour)
        visit = tour.visits[0]
        partner, partner_token = feeds.create_partner(None, "Alle", [])
        values = {"request_id": rid, "contact_id": db.session.get(VisitRequest, rid).contact_id, "check_id": 1,
                  "reminder_id": 1, "module_id": 1, "partner_id": partner.id, "blackout_id": 1, "tour_id": tour.id,
                  "visit_id": visit.id, "day": visit.start.isoformat(), "action": "x", "uid": visit.uid,
                  "lang": "de", "filename": "css/site.css", "fmt": "csv"}
        admin_id = admin.id
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(admin_id)
        session["_fresh"] = True
    tokens = {"partner": partner_token, "host": manage}
    shown = 0
    for rule in _rules(app):
        if "GET" not in rule.methods or rule.endpoint in ("staff.reset_password", "host.logistics", "host.feedback"):
            continue
        url = _url(rule, values, tokens.get(TOKEN.get(rule.endpoint), "x"))
        response = client.get(url)
        if response.mimetype == "text/html":
            body = response.get_data(as_text=True)
            i = body.find("<script>alert(1)")
            live = re.search(r'(?<!\\)"onmouseover=x', body)  # inside JSON text it is an escaped, inert quote
            j = live.start() if live else -1
            assert i < 0 and j < 0, (url, body[max(0, j - 300):j + 50])
            shown += "&lt;script&gt;alert(1)" in body or "\\u003cscript\\u003e" in body
    assert shown >= 6, "the name did appear (escaped) on the pages that show it"
