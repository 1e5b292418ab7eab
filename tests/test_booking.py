"""A school requests a visit, then views, changes and cancels it through its secret link."""
from __future__ import annotations

import email
from email import policy
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import (Contact, Organisation, Reminder, ReminderStatus, RequestStatus, RequestWindow, VisitRequest)
from app.security import hash_token

from .conftest import drain, make_app, manage_link, valid_form


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_form_is_german_by_default_and_english_on_request(client):
    page = client.get("/anfrage/neu").get_data(as_text=True)
    assert "Besuch des InnovationLabs anfragen" in page
    assert "Postleitzahl" in page and "Wesermarsch" in page
    client.get("/sprache/en?next=/anfrage/neu")
    page = client.get("/anfrage/neu").get_data(as_text=True)
    assert "Request a visit of the InnovationLab" in page
    assert "Postcode" in page


def test_submit_shows_manage_link_once_and_queues_mail(app, client):
    response = client.post("/anfrage/neu", data=valid_form())
    assert response.status_code == 302 and response.location.endswith("/anfrage/eingegangen")
    page = client.get("/anfrage/eingegangen").get_data(as_text=True)
    link = manage_link(page)
    token = link.rsplit("/", 1)[1]
    assert "/verwalten/" not in client.get("/anfrage/eingegangen").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(Reminder)).status == ReminderStatus.QUEUED
    assert drain(app).sent == 1
    with app.app_context():
        req = db.session.scalar(sa.select(VisitRequest))
        assert req.manage_token_hash == hash_token(token) and token not in req.manage_token_hash
        assert req.status == RequestStatus.REQUESTED
        assert [(w.start.isoformat(), w.end.isoformat()) for w in req.windows] == [("2027-03-01", "2027-03-19")]
        assert [m.code for m in req.modules] == ["robotik", "additiv"]
        assert req.organisation.state == "NI" and req.organisation.lat and req.contact.consent_at
        row = db.session.scalar(sa.select(Reminder))
        assert row.kind == "request_received" and row.sent_at is not None
        assert row.body == "", "the manage link must not stay in the database after sending"
    files = list((Path(app.instance_path) / "mail").glob("*.eml"))
    assert len(files) == 1
    msg = email.message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert msg["To"] == "imke.dierks@schule.example"
    assert "BBS Weserufer Brake" in msg["Subject"]
    assert token in msg.get_body(("plain",)).get_content()
    assert f"href=\"http://127.0.0.1:5000/verwalten/{token}\"" in msg.get_body(("html",)).get_content()
    page = client.get(link).get_data(as_text=True)
    assert "BBS Weserufer Brake" in page and "angefragt" in page


def test_english_requester_gets_english_mail(app, client):
    client.get("/sprache/en")
    client.post("/anfrage/neu", data=valid_form())
    drain(app)
    msg = email.message_from_bytes(next((Path(app.instance_path) / "mail").glob("*.eml")).read_bytes(), policy=policy.default)
    assert msg["Subject"].startswith("Your request for the InnovationLab")


def test_double_submit_stores_one_request(app, client):
    form = valid_form(submission_key="a" * 32)
    first = client.post("/anfrage/neu", data=form)
    second = client.post("/anfrage/neu", data=form)
    assert first.status_code == second.status_code == 302
    with app.app_context():
        assert count(VisitRequest) == 1 and count(Contact) == 1 and count(Reminder) == 1


def test_same_organisation_is_reused_but_not_edited(app, client):
    client.post("/anfrage/neu", data=valid_form())
    client.post("/anfrage/neu", data=valid_form(street="Hackerweg 1", contact_name="Ole Kruse"))
    with app.app_context():
        assert count(Organisation) == 1 and count(VisitRequest) == 2
        assert db.session.scalar(sa.select(Organisation.street)) == "Schulstraße 4"


@pytest.mark.parametrize("field,value,message", [
    ("postcode", "2691", "fünf Ziffern"),
    ("postcode", "abcde", "fünf Ziffern"),
    ("email", "imke-at-schule", "gültige E-Mail-Adresse"),
    ("participants", "0", "1 bis 200"),
    ("participants", "201", "1 bis 200"),
    ("participants", "viele", "ganze Zahl"),
    ("classes_per_day", "9", "1 bis 8"),
    ("org_name", "x" * 201, "2 bis 200 Zeichen"),
    ("occupations", "y" * 1001, "Höchstens 1000 Zeichen"),
    ("kind", "university", "Not a valid choice"),
    ("half_days", "3", "Not a valid choice"),
    ("power_type", "nuclear", "Not a valid choice"),
    ("space_length_m", "lang", "Zahl ein"),
    ("windows-0-start", "2027-02-30", "Not a valid date"),
    ("windows-0-start", "2026-01-05", "Vergangenheit"),
    ("windows-0-end", "2027-02-20", "vor dem Beginn"),
    ("consent", None, "Einwilligung"),
    ("onsite_phone", "", "Telefonnummer für den Anreisetag"),
])
def test_bad_input_is_refused_clearly_and_keeps_what_was_typed(app, client, field, value, message):
    form = valid_form(**{field: value})
    if field == "windows-0-start" and value.startswith("2026"):
        form["windows-0-end"] = "2026-01-20"
    response = client.post("/anfrage/neu", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Bitte prüfen Sie die markierten Felder" in page
    if "valid" in message:  # WTForms' own messages arrive translated
        assert "Keine gültige" in page or "Ungültige Auswahl" in page or "gültiges Datum" in page, page
    else:
        assert message in page
    assert 'value="Imke Dierks"' in page and 'value="BBS Weserufer Brake"' in page or field == "org_name"
    with app.app_context():
        assert count(VisitRequest) == 0 and count(Organisation) == 0 and count(Contact) == 0


def test_window_only_in_school_holidays_is_refused_for_a_school(client):
    # Osterferien 2027 in Lower Saxony: 22 March – 3 April
    page = client.post("/anfrage/neu", data=valid_form(**{
        "windows-0-start": "2027-03-22", "windows-0-end": "2027-04-02"})).get_data(as_text=True)
    assert "nur Wochenenden, Feiertage, Ferien oder Sperrzeiten" in page


def test_window_too_short_for_the_stay(client):
    # Thursday to the next Tuesday: never three consecutive working days
    page = client.post("/anfrage/neu", data=valid_form(**{
        "half_days": "6", "windows-0-start": "2027-03-04", "windows-0-end": "2027-03-09"})).get_data(as_text=True)
    assert "zu kurz für 3 Tage" in page


def test_sme_may_come_in_school_holidays(app, client):
    response = client.post("/anfrage/neu", data=valid_form(**{
        "kind": "kmu", "org_name": "Kutter Metallbau GmbH", "half_days": "1",
        "windows-0-start": "2027-03-22", "windows-0-end": "2027-03-26"}))
    assert response.status_code == 302


def test_site_that_does_not_fit_needs_confirmation_and_is_flagged(app, client):
    small = valid_form(space_length_m="12,5", power_type="schuko")
    page = client.post("/anfrage/neu", data=small).get_data(as_text=True)
    assert "kürzer, als der Truck braucht" in page and "CEE-Anschluss" in page
    assert 'value="12.5"' in page
    with app.app_context():
        assert count(VisitRequest) == 0
    response = client.post("/anfrage/neu", data={**small, "confirm_site": "y"})
    assert response.status_code == 302
    with app.app_context():
        req = db.session.scalar(sa.select(VisitRequest))
        assert req.site_flagged and set(req.site_warnings.split(",")) == {"space_length", "power_type"}
        assert req.logistics.space_length_m == 12.5


def test_manage_link_changes_windows_and_participants(app, client, make_request):
    request_id, token = make_request()
    page = client.get(f"/verwalten/{token}/aendern").get_data(as_text=True)
    assert 'value="2027-03-01"' in page
    form = valid_form(**{"windows-0-start": "2027-04-12", "windows-0-end": "2027-04-30",
                         "windows-1-start": "2027-05-31", "windows-1-end": "2027-06-11", "participants": "45"})
    response = client.post(f"/verwalten/{token}/aendern", data=form)
    assert response.status_code == 302
    with app.app_context():
        req = db.session.get(VisitRequest, request_id)
        assert [(w.start.isoformat(), w.end.isoformat()) for w in req.windows] == [
            ("2027-04-12", "2027-04-30"), ("2027-05-31", "2027-06-11")]
        assert req.participants == 45
        assert count(RequestWindow) == 2


def test_manage_change_with_bad_window_keeps_the_old_one(app, client, make_request):
    request_id, token = make_request()
    page = client.post(f"/verwalten/{token}/aendern", data=valid_form(**{
        "windows-0-start": "2025-01-01", "windows-0-end": "2025-01-10"})).get_data(as_text=True)
    assert "Vergangenheit" in page
    with app.app_context():
        req = db.session.get(VisitRequest, request_id)
        assert req.windows[0].start.isoformat() == "2027-03-01"


def test_cancel_through_manage_link(app, client, make_request):
    request_id, token = make_request()
    client.post(f"/verwalten/{token}/stornieren", data={})
    with app.app_context():
        assert db.session.get(VisitRequest, request_id).status == RequestStatus.REQUESTED
    client.post(f"/verwalten/{token}/stornieren", data={"confirm": "y"})
    with app.app_context():
        assert db.session.get(VisitRequest, request_id).status == RequestStatus.CANCELLED
    assert "storniert" in client.get(f"/verwalten/{token}").get_data(as_text=True)
    assert client.get(f"/verwalten/{token}/aendern").status_code == 302


def test_planned_request_cannot_be_changed_by_the_host(app, client, make_request):
    request_id, token = make_request()
    with app.app_context():
        db.session.get(VisitRequest, request_id).status = RequestStatus.PLANNED
        db.session.commit()
    response = client.post(f"/verwalten/{token}/aendern", data=valid_form(participants="12"))
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(VisitRequest, request_id).participants == 60


@pytest.mark.parametrize("token", ["unknown", "A" * 43, "../../etc/passwd", "%00", "x" * 500])
def test_unknown_or_tampered_token_is_404(client, make_request, token):
    _id, real = make_request()
    assert client.get(f"/verwalten/{token}").status_code == 404
    assert client.get(f"/verwalten/{real[:-1]}{'A' if real[-1] != 'A' else 'B'}").status_code == 404
    assert client.post(f"/verwalten/{token}/stornieren", data={"confirm": "y"}).status_code == 404


def test_missing_csrf_token_keeps_the_form(backend, tmp_path):
    app = make_app(backend, tmp_path, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    page = client.post("/anfrage/neu", data=valid_form()).get_data(as_text=True)
    assert "Das Formular war zu lange geöffnet" in page
    assert 'value="BBS Weserufer Brake"' in page
    with app.app_context():
        assert count(VisitRequest) == 0
    token = client.get("/anfrage/neu").get_data(as_text=True).split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    assert client.post("/anfrage/neu", data={**valid_form(), "csrf_token": token}).status_code == 302
    response = client.post("/staff/login", data={"email": "a@b.example", "password": "x"}, headers={})
    assert response.status_code in (200, 400)


def test_public_posts_are_rate_limited(backend, tmp_path):
    app = make_app(backend, tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_PUBLIC_POST="3 per hour")
    client = app.test_client()
    codes = [client.post("/anfrage/neu", data=valid_form(participants="0")).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert "Zu viele Anfragen" in client.post("/anfrage/neu", data=valid_form()).get_data(as_text=True)
