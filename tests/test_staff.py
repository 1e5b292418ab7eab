"""Staff log in, review requests (approve, decline with reason, waiting list), manage blackouts and modules."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent, Blackout, LogisticsCheck, Module, Reminder, RequestStatus, Role, Tour, Visit, VisitRequest
from app.services import demo

from .conftest import drain

# Every staff route with the least role it needs. A new route must be added here (see test_every_rule_listed).
STAFF_ROUTES = [
    ("GET", "/staff/", Role.VIEWER),
    ("GET", "/staff/anfragen", Role.VIEWER),
    ("GET", "/staff/anfragen/{rid}", Role.VIEWER),
    ("POST", "/staff/anfragen/{rid}/entscheidung", Role.PLANNER),
    ("POST", "/staff/anfragen/{rid}/position", Role.PLANNER),
    ("GET", "/staff/sperrzeiten", Role.VIEWER),
    ("POST", "/staff/sperrzeiten", Role.PLANNER),
    ("POST", "/staff/sperrzeiten/import", Role.PLANNER),
    ("GET", "/staff/sperrzeiten/{bid}", Role.PLANNER),
    ("POST", "/staff/sperrzeiten/{bid}/loeschen", Role.PLANNER),
    ("GET", "/staff/module", Role.ADMIN),
    ("GET", "/staff/module/{mid}", Role.ADMIN),
    ("GET", "/staff/touren/", Role.VIEWER),
    ("POST", "/staff/touren/", Role.PLANNER),
    ("GET", "/staff/touren/{tid}", Role.VIEWER),
    ("GET", "/staff/touren/{tid}/vergleich", Role.VIEWER),
    ("GET", "/staff/touren/{tid}/tag/2027-03-01", Role.VIEWER),
    ("POST", "/staff/touren/{tid}/besuch/{vid}/verschieben", Role.PLANNER),
    ("POST", "/staff/touren/{tid}/besuch/{vid}/festhalten", Role.PLANNER),
    ("POST", "/staff/touren/{tid}/neu-planen", Role.PLANNER),
    ("GET", "/staff/touren/kalender", Role.VIEWER),
    ("GET", "/staff/touren/region", Role.VIEWER),
    ("GET", "/staff/partner", Role.PLANNER),
    ("POST", "/staff/partner", Role.PLANNER),
    ("GET", "/staff/partner/{pid}", Role.PLANNER),
    ("POST", "/staff/partner/{pid}/sperren", Role.PLANNER),
    ("GET", "/staff/touren/{tid}/karte", Role.VIEWER),
    ("GET", "/staff/touren/{tid}/karte/2027-03-01", Role.VIEWER),
    ("GET", "/staff/postausgang", Role.VIEWER),
    ("POST", "/staff/postausgang/{remid}/erneut", Role.PLANNER),
    ("POST", "/staff/logistik/{cid}/erledigt", Role.PLANNER),
    ("GET", "/staff/kontakte/{coid}/auskunft.json", Role.ADMIN),
    ("POST", "/staff/kontakte/{coid}/loeschen", Role.ADMIN),
    ("GET", "/staff/bericht", Role.VIEWER),
    ("GET", "/staff/bericht.csv", Role.VIEWER),
]
RANK = {Role.VIEWER: 1, Role.PLANNER: 2, Role.ADMIN: 3}


def test_every_rule_listed(app):
    listed = {re.sub(r"\{\w+\}|2027-03-01|festhalten|neu-planen|sperren|(?<=bericht\.)csv", "X", path) for _m, path, _r in STAFF_ROUTES}
    rules = {re.sub(r"<[^>]+>", "X", r.rule) for r in app.url_map.iter_rules() if r.rule.startswith("/staff/")}
    public = {"/staff/login", "/staff/logout", "/staff/passwort-vergessen", "/staff/passwort-neu/X"}
    assert rules - public <= listed


@pytest.fixture
def ids(app, make_request):
    rid, _token = make_request()
    with app.app_context():
        blackout = Blackout(start=__import__("datetime").date(2027, 5, 3), end=__import__("datetime").date(2027, 5, 4),
                            kind="maintenance", reason="TÜV")
        db.session.add(blackout)
        req = db.session.get(VisitRequest, rid)
        req.status = RequestStatus.APPROVED
        tour = Tour(horizon_start=__import__("datetime").date(2027, 2, 1),
                    horizon_end=__import__("datetime").date(2027, 6, 30), version=1)
        tour.visits = [Visit(request_id=rid, start=__import__("datetime").date(2027, 3, 1),
                             end=__import__("datetime").date(2027, 3, 2))]
        db.session.add(tour)
        db.session.commit()
        from app.services import feeds
        partner, _token = feeds.create_partner(None, "Bündnis", [])
        check = LogisticsCheck(request_id=rid, visit_uid=tour.visits[0].uid, visit_start=tour.visits[0].start,
                               token_hash="0" * 64)
        db.session.add(check)
        db.session.commit()
        remid = db.session.scalar(sa.select(Reminder.id))
        coid = db.session.get(VisitRequest, rid).contact_id
        return {"coid": coid, "cid": check.id, "remid": remid, "pid": partner.id, "rid": rid, "bid": blackout.id, "mid": db.session.scalar(sa.select(Module.id)), "tid": tour.id,
                "vid": tour.visits[0].id}


@pytest.mark.parametrize("method,path,least", STAFF_ROUTES)
def test_staff_routes_refuse_anonymous_and_lower_roles(app, client, make_user, ids, method, path, least):
    url = path.format(**ids)
    response = client.open(url, method=method, data={})
    assert response.status_code == 302 and "/staff/login" in response.location
    for role in Role:
        _id, email, password = make_user(role, email=f"{role.value}-{method}@labtour.example")
        client.post("/staff/login", data={"email": email, "password": password})
        response = client.open(url, method=method, data={})
        if RANK[role] < RANK[least]:
            assert response.status_code == 403, (role, url)
        else:
            assert response.status_code in (200, 302, 400, 404), (role, url, response.status_code)
        client.post("/staff/logout")


def test_login_with_wrong_password_or_unknown_user_gives_the_same_message(client, make_user):
    _id, email, _pw = make_user(Role.VIEWER)
    wrong = client.post("/staff/login", data={"email": email, "password": "nope-nope-nope"}).get_data(as_text=True)
    unknown = client.post("/staff/login", data={"email": "x@y.example", "password": "nope"}).get_data(as_text=True)
    assert "E-Mail oder Passwort stimmen nicht." in wrong and "E-Mail oder Passwort stimmen nicht." in unknown
    assert client.get("/staff/anfragen").status_code == 302


def test_login_is_rate_limited(backend, tmp_path):
    from .conftest import make_app
    app = make_app(backend, tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="3 per minute")
    client = app.test_client()
    codes = [client.post("/staff/login", data={"email": "a@b.example", "password": "x"}).status_code
             for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_passwords_are_hashed(app, make_user):
    make_user(Role.ADMIN)
    with app.app_context():
        stored = db.session.scalar(sa.text("SELECT password_hash FROM \"user\""))
    assert "correct-horse-42" not in stored and stored.startswith(("scrypt:", "pbkdf2:"))


def test_list_filters(app, client, login, make_request):
    make_request()
    make_request(kind="kmu", org_name="Kutter Metallbau GmbH", postcode="27472", town="Cuxhaven",
                 district="Cuxhaven", half_days=1, windows=[(__import__("datetime").date(2027, 5, 10),
                                                             __import__("datetime").date(2027, 5, 14))])
    login(Role.VIEWER)
    page = client.get("/staff/anfragen").get_data(as_text=True)
    assert "BBS Weserufer Brake" in page and "Kutter Metallbau GmbH" in page
    def names(query):
        page = client.get("/staff/anfragen?" + query).get_data(as_text=True)
        return {n for n in ("BBS Weserufer Brake", "Kutter Metallbau GmbH") if n in page}
    assert names("kind=kmu") == {"Kutter Metallbau GmbH"}
    assert names("district=Wesermarsch") == {"BBS Weserufer Brake"}
    assert names("date_from=2027-05-01&date_to=2027-05-31") == {"Kutter Metallbau GmbH"}
    assert names("q=weserufer") == {"BBS Weserufer Brake"}
    assert names("q=%25") == set()
    assert names("status=approved") == set()
    assert names("status=requested") == {"BBS Weserufer Brake", "Kutter Metallbau GmbH"}
    assert client.get("/staff/anfragen?status=bogus&date_from=nodate&page=-3").status_code == 200


def test_approve_writes_audit_and_tells_requester(app, client, login, make_request):
    rid, _token = make_request()
    login(Role.PLANNER)
    response = client.post(f"/staff/anfragen/{rid}/entscheidung", data={"action": "approve"})
    assert response.status_code == 302
    drain(app)
    with app.app_context():
        req = db.session.get(VisitRequest, rid)
        assert req.status == RequestStatus.APPROVED
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "approve"))
        assert event.actor == "planner@labtour.example"
        assert event.before["status"] == "requested" and event.after["status"] == "approved"
        mail = db.session.scalar(sa.select(Reminder).where(Reminder.kind == "decision_approve"))
        assert mail.sent_at and "Zusage" in mail.subject
    page = client.get(f"/staff/anfragen/{rid}").get_data(as_text=True)
    assert "approve" in page and "planner@labtour.example" in page


def test_decline_needs_a_reason_that_reaches_the_requester(app, client, login, make_request):
    rid, token = make_request(lang="en")
    login(Role.PLANNER)
    response = client.post(f"/staff/anfragen/{rid}/entscheidung", data={"action": "decline", "reason": " "})
    assert response.status_code == 409
    assert "Bitte begründen Sie die Ablehnung" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(VisitRequest, rid).status == RequestStatus.REQUESTED
    client.post(f"/staff/anfragen/{rid}/entscheidung", data={"action": "decline", "reason": "Kein Termin frei"})
    drain(app)
    with app.app_context():
        assert db.session.get(VisitRequest, rid).status == RequestStatus.DECLINED
        mail = db.session.scalar(sa.select(Reminder).where(Reminder.kind == "decision_decline"))
        assert mail.subject.startswith("InnovationLab request declined") and "Kein Termin frei" in mail.body
    assert "Kein Termin frei" in client.get(f"/verwalten/{token}").get_data(as_text=True)
    import email
    from email import policy
    eml = [email.message_from_bytes(p.read_bytes(), policy=policy.default).get_body(("plain",)).get_content()
           for p in (Path(app.instance_path) / "mail").glob("*.eml")]
    assert any("Kein Termin frei" in text for text in eml)


def test_waitlist_then_approve_and_impossible_transition(app, client, login, make_request):
    rid, _token = make_request()
    login(Role.ADMIN)
    client.post(f"/staff/anfragen/{rid}/entscheidung", data={"action": "waitlist"})
    client.post(f"/staff/anfragen/{rid}/entscheidung", data={"action": "approve"})
    with app.app_context():
        assert db.session.get(VisitRequest, rid).status == RequestStatus.APPROVED
        db.session.get(VisitRequest, rid).status = RequestStatus.CANCELLED
        db.session.commit()
    response = client.post(f"/staff/anfragen/{rid}/entscheidung", data={"action": "approve"})
    assert response.status_code == 409 and "storniert" in response.get_data(as_text=True)
    assert client.post(f"/staff/anfragen/{rid}/entscheidung", data={"action": "delete"}).status_code == 400
    assert client.get("/staff/anfragen/999999").status_code == 404


def test_manual_blackouts_crud_and_holidays_listed(app, client, login):
    login(Role.PLANNER)
    page = client.get("/staff/sperrzeiten?jahr=2026").get_data(as_text=True)
    assert "Herbstferien" in page and "Reformationstag" in page
    bad = client.post("/staff/sperrzeiten", data={"start": "2027-05-10", "end": "2027-05-03", "kind": "maintenance",
                                                  "reason": "TÜV"})
    assert "Das Ende liegt vor dem Beginn" in bad.get_data(as_text=True)
    client.post("/staff/sperrzeiten", data={"start": "2027-05-03", "end": "2027-05-07", "kind": "maintenance",
                                            "reason": "TÜV-Prüfung"})
    with app.app_context():
        blackout = db.session.scalar(sa.select(Blackout))
        assert (blackout.start.isoformat(), blackout.end.isoformat()) == ("2027-05-03", "2027-05-07")
        bid = blackout.id
    client.post(f"/staff/sperrzeiten/{bid}", data={"start": "2027-05-03", "end": "2027-05-04", "kind": "absence",
                                                    "reason": "Urlaub"})
    with app.app_context():
        assert db.session.get(Blackout, bid).reason == "Urlaub"
    client.post(f"/staff/sperrzeiten/{bid}/loeschen")
    with app.app_context():
        assert db.session.get(Blackout, bid) is None
        assert [e.action for e in db.session.scalars(sa.select(AuditEvent).where(AuditEvent.entity == "blackout"))] \
            == ["created", "updated", "deleted"]


def test_manual_blackout_closes_the_request_form_window(app, client, login):
    login(Role.PLANNER)
    client.post("/staff/sperrzeiten", data={"start": "2027-03-01", "end": "2027-03-19", "kind": "maintenance",
                                            "reason": "Werkstatt"})
    from .conftest import valid_form
    page = client.post("/anfrage/neu", data=valid_form()).get_data(as_text=True)
    assert "Sperrzeiten des Labs" in page


def test_admin_edits_module_catalogue(app, client, login):
    login(Role.ADMIN)
    client.post("/staff/module", data={"code": "drohnen", "name_de": "Drohnen", "name_en": "Drones",
                                       "description_de": "", "description_en": "", "position": "5", "active": "y"})
    dup = client.post("/staff/module", data={"code": "drohnen", "name_de": "X", "name_en": "X", "position": "1"})
    assert "schon vergeben" in dup.get_data(as_text=True)
    assert "Drohnen" in client.get("/anfrage/neu").get_data(as_text=True)
    with app.app_context():
        mid = db.session.scalar(sa.select(Module.id).where(Module.code == "drohnen"))
    client.post(f"/staff/module/{mid}", data={"code": "drohnen", "name_de": "Drohnen", "name_en": "Drones",
                                              "position": "5"})
    assert "Drohnen" not in client.get("/anfrage/neu").get_data(as_text=True)


def test_demo_data_requests_are_shown(app, client, login):
    with app.app_context():
        demo.seed()
    login(Role.VIEWER)
    page = client.get("/staff/anfragen?district=Cuxhaven").get_data(as_text=True)
    assert "Cuxhaven" in page and "Seite 1 von" in page


def test_admin_exports_and_erases_a_contact(app, client, login, make_request):
    import json
    rid, token = make_request(message="Bitte Parkplatz am Hintereingang nutzen")
    login(Role.ADMIN)
    with app.app_context():
        contact_id = db.session.get(VisitRequest, rid).contact_id
    export = client.get(f"/staff/kontakte/{contact_id}/auskunft.json")
    assert export.status_code == 200 and "attachment" in export.headers["Content-Disposition"]
    data = json.loads(export.data)
    assert data["contact"]["email"] == "imke.dierks@schule.example"
    assert data["requests"][0]["message"] == "Bitte Parkplatz am Hintereingang nutzen"
    assert data["requests"][0]["site"]["onsite_name"] == "Hauke Gerdes"
    assert data["emails"][0]["kind"] == "request_received"
    page = client.post(f"/staff/kontakte/{contact_id}/loeschen", data={"request_id": rid}, follow_redirects=True)
    assert "Die Kontaktdaten sind gelöscht" in page.get_data(as_text=True)
    with app.app_context():
        req = db.session.get(VisitRequest, rid)
        assert req.contact.email.endswith("@invalid") and req.contact.name == "" and req.message == ""
        assert req.logistics.onsite_name == "" and req.participants == 60, "the statistics stay"
    assert "imke.dierks" not in client.get(f"/staff/anfragen/{rid}").get_data(as_text=True)


def test_password_reset_by_mail_is_single_use_and_expires(app, client, make_user):
    import email
    from datetime import datetime, timedelta, timezone
    from email import policy

    from app.models import PasswordReset
    _id, mail_addr, _pw = make_user(Role.PLANNER)
    known = client.post("/staff/passwort-vergessen", data={"email": mail_addr.upper()}, follow_redirects=True)
    unknown = client.post("/staff/passwort-vergessen", data={"email": "niemand@labtour.example"},
                          follow_redirects=True)
    assert "Wenn es zu dieser Adresse ein Konto gibt" in known.get_data(as_text=True)
    assert "Wenn es zu dieser Adresse ein Konto gibt" in unknown.get_data(as_text=True)
    drain(app)
    [path] = list((Path(app.instance_path) / "mail").glob("*.eml"))
    text = email.message_from_bytes(path.read_bytes(), policy=policy.default).get_body(("plain",)).get_content()
    link = re.search(r"http://127\.0\.0\.1:5000(/staff/passwort-neu/\S+)", text).group(1)
    with app.app_context():
        row = db.session.scalar(sa.select(Reminder).where(Reminder.kind == "password_reset"))
        assert row.body == "", "the link does not stay in the outbox"
    mismatch = client.post(link, data={"password": "ein-neues-passwort", "confirm": "anders"})
    assert "stimmen nicht überein" in mismatch.get_data(as_text=True)
    client.post(link, data={"password": "ein-neues-passwort", "confirm": "ein-neues-passwort"})
    assert client.post("/staff/login", data={"email": mail_addr, "password": "ein-neues-passwort"}).status_code == 302
    again = client.get(link, follow_redirects=True).get_data(as_text=True)
    assert "abgelaufen oder wurde schon benutzt" in again
    client.post("/staff/logout")
    client.post("/staff/passwort-vergessen", data={"email": mail_addr})
    later = datetime.now(timezone.utc) + timedelta(hours=1, minutes=1)  # the mail server was down for an hour
    drain(app, later)
    assert len(list((Path(app.instance_path) / "mail").glob("*.eml"))) == 1, "an expired reset mail is not sent"
    with app.app_context():
        newest = db.session.scalar(sa.select(PasswordReset).order_by(PasswordReset.id.desc()))
        assert newest.expires_at < later and newest.used_at is None
