"""JSON API /api/v1: public tour with ETag, paging, staff tokens, request creation with the form's checks."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import Role, User, VisitRequest
from app.services import api_tokens

from .conftest import service_data


def _token(app, make_user, role: Role) -> str:
    _id, email, _pw = make_user(role, email=f"api-{role.value}@labtour.example")
    with app.app_context():
        return api_tokens.issue(db.session.scalar(sa.select(User).where(User.email == email)), "test")


def test_tour_is_public_with_an_etag(app, client, published, approved):
    response = client.get("/api/v1/tour")
    assert response.status_code == 200 and response.headers["ETag"]
    body = response.get_json()
    assert len(body["visits"]) == 3 and {"uid", "start", "organisation", "district"} <= set(body["visits"][0])
    assert "email" not in str(body) and "Imke" not in str(body), "public fields only"
    again = client.get("/api/v1/tour", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_visits_are_paged(client, published):
    page = client.get("/api/v1/visits?per_page=2").get_json()
    assert (page["total"], page["pages"], len(page["items"])) == (3, 2, 2)
    assert client.get("/api/v1/visits?per_page=2&page=2").get_json()["items"][0]["uid"]
    bad = client.get("/api/v1/visits?per_page=0")
    assert bad.status_code == 400 and "per_page" in bad.get_json()["message"]
    assert client.get("/api/v1/visits?district=Cuxhaven").get_json()["total"] == 1


def test_staff_endpoints_need_a_token_of_a_staff_account(app, client, make_user, make_request):
    make_request()
    assert client.get("/api/v1/requests").status_code == 401
    assert client.get("/api/v1/requests", headers={"Authorization": "Bearer falsch"}).status_code == 401
    token = _token(app, make_user, Role.VIEWER)
    body = client.get("/api/v1/requests", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert body["total"] == 1 and body["items"][0]["organisation"] == "BBS Weserufer Brake"
    one = client.get(f"/api/v1/requests/{body['items'][0]['id']}", headers={"Authorization": f"Bearer {token}"})
    assert one.get_json()["windows"] == [{"start": "2027-03-01", "end": "2027-03-19"}]
    assert client.get("/api/v1/requests/999", headers={"Authorization": f"Bearer {token}"}).status_code == 404
    orgs = client.get("/api/v1/organisations", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert orgs["items"][0]["district"] == "Wesermarsch"
    bad = client.get("/api/v1/requests?status=nope", headers={"Authorization": f"Bearer {token}"})
    assert bad.status_code == 400 and "status" in bad.get_json()["errors"]


def _payload(**overrides) -> dict:
    data = service_data()
    body = {k: v for k, v in data.items() if k not in ("windows", "submission_key", "module_ids")}
    body.update(windows=[{"start": "2027-03-01", "end": "2027-03-19"}], module_ids=[1], consent=True,
                phone="04401 1234", onsite_phone="04401 654321")
    body.update(overrides)
    return body


def test_create_request_like_the_form(app, client):
    bad = client.post("/api/v1/requests", json=_payload(postcode="2691", participants=0, consent=False))
    assert bad.status_code == 400
    errors = bad.get_json()["errors"]
    assert "fünf Ziffern" in errors["postcode"][0] and "participants" in errors and "consent" in errors
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(VisitRequest)) == 0, "nothing half-saved"
    ok = client.post("/api/v1/requests", json=_payload(language="en"))
    assert ok.status_code == 201, ok.get_json()
    manage = ok.get_json()["manage_url"]
    assert "/verwalten/" in manage
    assert "BBS Weserufer Brake" in client.get(manage.split("labtour.test", 1)[1]).get_data(as_text=True)
    assert client.post("/api/v1/requests", data="kein json", content_type="application/json").status_code == 400
    windows = client.post("/api/v1/requests", json=_payload(windows=[{"start": "2027-03-19", "end": "2027-03-01"}]))
    assert windows.status_code == 400 and any(k.startswith("windows") for k in windows.get_json()["errors"])


def test_openapi_description_and_docs(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.") and "/tour" in spec["paths"] and "/requests" in spec["paths"]
    docs = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/organisations" in docs and "Authorization: Bearer" in docs
