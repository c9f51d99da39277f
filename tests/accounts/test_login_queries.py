"""How many queries a login costs: a bound that fails when a change adds queries to every login.

These count statements, not time (speed is measured by bench/login.py). Transaction control
(savepoints, begin, commit) is left out: inside a test it differs from a served request.
"""

import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apps.accounts.mfa.services import has_second_factor
from apps.siem.models import SecurityEvent
from tests.accounts.mfa_support import give_totp
from tests.conftest import make_person
from tests.support import STRONG_PASSWORD

pytestmark = pytest.mark.django_db

CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK", "BEGIN", "COMMIT")

# Measured when this test was written: the form 1 (the social apps listed on it); the post 12
# (the account behind the identifier, the user, its addresses, one query for any second factor,
# the new session's key check and insert, last_login, the security event, allauth's session list
# (two) and its new entry, the session's final save).
FORM_QUERY_BOUND = 1
POST_QUERY_BOUND = 12


def statements(captured) -> list[str]:
    return [q["sql"] for q in captured if not q["sql"].startswith(TRANSACTION_CONTROL)]


def test_a_password_login_stays_within_its_query_bound():
    person = make_person("bounded@example.com")
    browser = Client(enforce_csrf_checks=True, REMOTE_ADDR="198.51.100.30")
    browser.get("/healthz")  # the blocklist is read once per change, not per request

    with CaptureQueriesContext(connection) as form_queries:
        form = browser.get("/accounts/login/")
    token = CSRF_FIELD.search(form.content.decode()).group(1)
    with CaptureQueriesContext(connection) as post_queries:
        response = browser.post(
            "/accounts/login/",
            {"login": person.email, "password": STRONG_PASSWORD, "csrfmiddlewaretoken": token},
        )

    assert response.status_code == 302
    assert response["Location"] == "/account/"
    assert browser.session[SESSION_KEY] == str(person.pk)
    assert SecurityEvent.objects.filter(event_type="auth.login.success").count() == 1
    assert len(statements(form_queries.captured_queries)) <= FORM_QUERY_BOUND, statements(
        form_queries.captured_queries
    )
    assert len(statements(post_queries.captured_queries)) <= POST_QUERY_BOUND, statements(
        post_queries.captured_queries
    )


@pytest.mark.parametrize("with_device", [False, True])
def test_whether_a_user_has_a_second_factor_is_one_query(with_device):
    person = make_person("devices@example.com")
    if with_device:
        give_totp(person)

    with CaptureQueriesContext(connection) as queries:
        answer = has_second_factor(person)

    assert answer is with_device
    assert len(queries.captured_queries) == 1
