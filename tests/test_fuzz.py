"""Bad input never 500s and never leaves half a record: generated inputs against the public and staff forms."""
from __future__ import annotations

import os

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings, strategies as st

from app.extensions import db
from app.models import Blackout, RequestWindow, Role, SiteLogistics, VisitRequest

from .conftest import PG_URL, valid_form

EXAMPLES = int(os.environ.get("LABTOUR_FUZZ_EXAMPLES", "2500"))
NASTY = st.sampled_from(["", " ", "0", "-1", "1e309", "nan", "2027-02-30", "0001-01-01", "9999-12-31", "2027-13-01",
                         "<script>alert(1)</script>", "=HYPERLINK(\"x\")", "\x00", "a\x00b", "\r\nBcc: x@y", "'; DROP TABLE visit_request; --",
                         "../../etc/passwd", "ä" * 300, "9" * 40, "y", "on", "cee32", "bbs", "Wesermarsch"])
VALUE = st.one_of(NASTY, st.text(max_size=80), st.integers(-10**12, 10**12).map(str))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture(params=["postgresql"] if PG_URL else ["sqlite"])
def backend(request) -> str:
    """The fuzzing runs once, on PostgreSQL where it is available (stricter: it refuses NUL bytes, for one)."""
    return request.param


def _counts() -> tuple[int, int, int]:
    return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(m))
                 for m in (VisitRequest, RequestWindow, SiteLogistics))


@FUZZ
@given(st.dictionaries(st.sampled_from(sorted(valid_form())), VALUE, max_size=10))
def test_request_form_answers_every_input_without_5xx_or_half_records(app, client, overrides):
    with app.app_context():
        before = _counts()
    response = client.post("/anfrage/neu", data={**valid_form(submission_key=""), **overrides})
    assert response.status_code < 500, overrides
    with app.app_context():
        after = _counts()
        requests, windows, sites = (a - b for a, b in zip(after, before))
        assert requests in (0, 1) and sites == requests and (windows >= 1) == (requests == 1), overrides


@FUZZ
@given(body=st.dictionaries(st.sampled_from(sorted(valid_form()) + ["windows", "module_ids", "language"]),
                            st.one_of(VALUE, st.booleans(), st.none(), st.lists(VALUE, max_size=3),
                                      st.lists(st.dictionaries(st.sampled_from(["start", "end"]), VALUE), max_size=4)),
                            max_size=12))
def test_json_api_answers_every_body_with_json_and_no_5xx(app, client, body):
    response = client.post("/api/v1/requests", json=body)
    assert response.status_code < 500, body
    assert response.is_json and "message" in response.get_json() or response.status_code == 201


@FUZZ
@given(st.dictionaries(st.sampled_from(["start", "end", "kind", "reason"]), VALUE, max_size=4))
def test_staff_blackout_form_answers_every_input_without_5xx(app, client, login, data):
    if not getattr(client, "_logged_in", False):
        login(Role.PLANNER)
        client._logged_in = True
    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.count()).select_from(Blackout))
    response = client.post("/staff/sperrzeiten", data=data)
    assert response.status_code < 500, data
    with app.app_context():
        added = db.session.scalar(sa.select(sa.func.count()).select_from(Blackout)) - before
    assert added in (0, 1)


@FUZZ
@given(st.dictionaries(st.sampled_from(sorted(valid_form())), VALUE, max_size=8))
def test_manage_link_changes_answer_every_input_without_5xx(app, client, make_request, data):
    if not hasattr(app, "_fuzz_token"):
        app._fuzz_token = make_request()[1]
    response = client.post(f"/verwalten/{app._fuzz_token}/aendern", data=data)
    assert response.status_code < 500, data
