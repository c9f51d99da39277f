"""The playbook action "require a fresh second factor", as the new-country rule uses it.

Olivia is staff with an authenticator app. She is signed in from London in a browser and holds
API tokens; then someone signs in as her from New York. The worker runs the rule's playbook:
every session she already has must pass her second factor again before it reaches anything,
and her API tokens stop working. Casey, a customer without a second factor, is signed out.
"""

import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.accounts.security_actions import require_fresh_second_factor
from apps.api.models import TokenSession
from apps.core.mail import queue_email
from apps.siem.models import ActorCountry, Incident, PlaybookAction, SecurityEvent
from apps.siem.tasks import run_playbook
from tests.accounts.mfa_support import TotpClock, give_totp
from tests.api.conftest import api_as, password_login
from tests.conftest import make_person
from tests.support import STRONG_PASSWORD

LONDON, NEW_YORK = "81.2.69.160", "8.8.8.8"
RULE = "admin-login-from-new-country"
ACTION = "require_second_factor"


def wait_until(condition, *, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} not reached within {timeout} s")


class Olivia:
    """Staff with an authenticator; each sign-in uses the code of a new 30-second step."""

    def __init__(self, monkeypatch):
        self.user = make_person("olivia@example.com", is_staff=True)
        self.authenticator = give_totp(self.user)
        self.clock = TotpClock(monkeypatch)

    def next_code(self) -> str:
        self.clock.advance(30)
        return self.authenticator.at(self.clock.now)

    def sign_in(self, client, ip):
        answer = client.post(
            reverse("account_login"),
            {"login": self.user.email, "password": STRONG_PASSWORD},
            REMOTE_ADDR=ip,
        )
        assert answer.status_code == 302
        assert answer.url == reverse("mfa_authenticate")
        client.post(reverse("mfa_authenticate"), {"code": self.next_code()}, REMOTE_ADDR=ip)
        assert client.session.get("_auth_user_id") == str(self.user.pk)

    def tokens(self) -> dict:
        answer = password_login(self.user.email, otp=self.next_code())
        assert answer.status_code == 200, answer.content
        return answer.json()


def account_page(client, ip=LONDON):
    return client.get(reverse("account_overview"), REMOTE_ADDR=ip)


def challenge_url(next_path) -> str:
    return f"{reverse('mfa_reauthenticate')}?next={next_path.replace('/', '%2F')}"


@pytest.fixture
def olivia_challenged(client, monkeypatch, celery_worker, alert_webhook):
    """Olivia signed in from London (browser and API), then a login as her from New York."""
    from django.test import Client

    olivia = Olivia(monkeypatch)
    olivia.sign_in(client, LONDON)
    wait_until(
        lambda: ActorCountry.objects.filter(actor=f"user:{olivia.user.pk}").exists(),
        what="London recorded as Olivia's country",
    )
    olivia.api = olivia.tokens()
    assert account_page(client).status_code == 200

    olivia.new_york = Client()
    olivia.sign_in(olivia.new_york, NEW_YORK)
    wait_until(
        lambda: PlaybookAction.objects.filter(action=ACTION, state="done").exists(),
        what="the second factor demanded by the playbook",
    )
    olivia.incident = Incident.objects.get(rule__name=RULE)
    return olivia


def settle(mailbox):
    """Wait until the worker has worked through everything queued so far."""
    queue_email(recipients=["witness@example.com"], subject="witness", body_text="-")
    mailbox.wait_for("witness@example.com")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_signed_in_session_is_sent_to_the_second_factor_after_the_playbook(
    client, olivia_challenged
):
    answer = account_page(client)

    assert answer.status_code == 302
    assert answer.url == challenge_url(reverse("account_overview"))
    # The address bar of another page, or the API through the session, gets no further.
    assert client.get(reverse("mfa_security"), REMOTE_ADDR=LONDON).status_code == 302
    assert account_page(olivia_challenged.new_york, NEW_YORK).status_code == 302


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_after_a_fresh_code_the_session_reaches_the_account_page_again(client, olivia_challenged):
    target = reverse("account_overview")

    answer = client.post(
        reverse("mfa_reauthenticate"),
        {"code": olivia_challenged.next_code(), "next": target},
        REMOTE_ADDR=LONDON,
    )

    assert answer.status_code == 302
    assert answer.url == target
    assert account_page(client).status_code == 200
    # The other session has proved nothing yet and stays held.
    assert account_page(olivia_challenged.new_york, NEW_YORK).status_code == 302


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_wrong_code_keeps_the_session_held(client, olivia_challenged):
    client.post(
        reverse("mfa_reauthenticate"),
        {"code": "000000", "next": reverse("account_overview")},
        REMOTE_ADDR=LONDON,
    )

    assert account_page(client).status_code == 302


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_login_after_the_demand_is_not_asked_twice(olivia_challenged):
    from django.test import Client

    later = Client()
    olivia_challenged.sign_in(later, LONDON)

    assert account_page(later).status_code == 200


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_api_refuses_tokens_issued_before_the_demand(olivia_challenged):
    tokens = olivia_challenged.api

    assert api_as(tokens["access"]).get("/api/v1/me/").status_code == 401
    session = TokenSession.objects.get(user=olivia_challenged.user)
    assert session.ended_at is not None
    # New tokens need the password and a code, as any API login of hers does.
    assert password_login(olivia_challenged.user.email).status_code == 403
    fresh = olivia_challenged.tokens()
    assert api_as(fresh["access"]).get("/api/v1/me/").status_code == 200


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_demand_is_on_the_incident_timeline_and_recorded_as_an_event(olivia_challenged):
    user = olivia_challenged.user

    entries = list(olivia_challenged.incident.timeline.values_list("text", flat=True))
    assert any(text.startswith(f"{ACTION} user:{user.pk}") for text in entries), entries
    event = SecurityEvent.objects.get(
        event_type="security.suspicious.activity", subject=f"user:{user.pk}"
    )
    assert event.details["action"] == "mfa"
    assert event.details["outcome"] == "second factor demanded"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_second_delivery_of_the_playbook_asks_nothing_more(client, olivia_challenged, mailbox):
    user = olivia_challenged.user
    client.post(
        reverse("mfa_reauthenticate"),
        {"code": olivia_challenged.next_code(), "next": "/account/"},
        REMOTE_ADDR=LONDON,
    )
    user.refresh_from_db()
    demanded_at = user.second_factor_due_at

    run_playbook.delay(olivia_challenged.incident.pk)
    settle(mailbox)

    user.refresh_from_db()
    assert user.second_factor_due_at == demanded_at
    assert PlaybookAction.objects.filter(action=ACTION).count() == 1
    assert account_page(client).status_code == 200


@pytest.mark.django_db
def test_a_user_without_a_second_factor_is_signed_out_instead(client, customer):
    client.force_login(customer)
    assert account_page(client).status_code == 200

    outcome = require_fresh_second_factor(customer, actor="system:playbook")

    customer.refresh_from_db()
    assert customer.second_factor_due_at is None
    assert "no second factor" in outcome
    answer = account_page(client)
    assert answer.status_code == 302
    assert answer.url.startswith(reverse("account_login"))


@pytest.mark.django_db
def test_staff_without_a_second_factor_sign_in_again_and_are_sent_to_enrol(client):
    sam = make_person("sam@example.com", is_staff=True)
    login = {"login": sam.email, "password": STRONG_PASSWORD}
    client.post(reverse("account_login"), login)
    assert account_page(client).url.startswith(reverse("mfa_totp_enrol"))

    require_fresh_second_factor(sam, actor="system:playbook")

    assert account_page(client).url.startswith(reverse("account_login"))
    client.post(reverse("account_login"), login)
    answer = account_page(client)
    assert answer.status_code == 302
    assert answer.url.startswith(reverse("mfa_totp_enrol"))


@pytest.mark.django_db
def test_the_demand_never_moves_back(customer):
    give_totp(customer)
    later = timezone.now() + timedelta(minutes=5)
    type(customer).objects.filter(pk=customer.pk).update(second_factor_due_at=later)

    require_fresh_second_factor(customer, actor="system:playbook")

    customer.refresh_from_db()
    assert customer.second_factor_due_at == later


@pytest.mark.django_db
def test_checking_the_demand_costs_no_query(client, customer, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.support import force_login_verified

    clock = TotpClock(monkeypatch)
    authenticator = give_totp(customer)
    force_login_verified(client, customer)
    clock.advance(30)
    client.post(reverse("mfa_reauthenticate"), {"code": authenticator.at(clock.now), "next": "/"})

    def queries_of_the_account_page():
        with CaptureQueriesContext(connection) as captured:
            assert account_page(client).status_code == 200
        return len(captured)

    account_page(client)  # warm: first-request work is not what is measured
    without_demand = queries_of_the_account_page()
    earlier = timezone.now() - timedelta(minutes=1)
    type(customer).objects.filter(pk=customer.pk).update(second_factor_due_at=earlier)

    assert queries_of_the_account_page() == without_demand
