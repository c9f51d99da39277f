"""MFA is enforced on every way in: after a reset, at the admin, for roles that require it."""

import re

import pytest
from django.urls import reverse

from apps.accounts.mfa import services
from apps.accounts.stepup import recently_passed_second_factor, recently_reauthenticated
from apps.core.models import OutboundEmail
from apps.siem.models import SecurityEvent
from tests.accounts.mfa_support import (
    give_backup_codes,
    give_totp,
    signed_in_user_id,
    submit_code,
    submit_password,
)
from tests.conftest import give_permissions, make_person

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a brand new passphrase 77"


@pytest.fixture
def tessa(db):
    """Tessa, an end user who protects her account with an authenticator app."""
    user = make_person("tessa@example.com")
    user.app = give_totp(user)
    return user


@pytest.fixture
def stan(db):
    """Stan, staff with an authenticator app, allowed to manage users in the admin."""
    user = make_person("stan@example.com", is_staff=True)
    give_permissions(user, "users:read:all", "users:write:all")
    user.app = give_totp(user)
    return user


def _reset_password(client, email):
    client.post(reverse("account_reset_password"), {"email": email})
    body = OutboundEmail.objects.filter(recipients=[email]).latest("pk").body_text
    link = re.search(r"(/accounts/password/reset/key/[^\s]+/)", body).group(1)
    form_page = client.get(link, follow=True)
    return client.post(
        form_page.request["PATH_INFO"], {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )


# --- Field case 4: a password reset does not skip MFA ------------------------------------------


def test_after_a_password_reset_a_totp_user_is_sent_to_the_code_step(client, tessa):
    response = _reset_password(client, "tessa@example.com")

    assert response.url == reverse("mfa_authenticate")
    assert signed_in_user_id(client) is None
    protected = client.get(reverse("account_overview"))
    assert protected.status_code == 302
    assert protected.url.startswith(reverse("account_login"))


def test_after_a_password_reset_the_code_step_completes_the_login(client, tessa):
    _reset_password(client, "tessa@example.com")

    submit_code(client, tessa.app.now())

    assert signed_in_user_id(client) == str(tessa.pk)


def test_after_a_password_reset_staff_without_a_device_are_sent_to_enrolment(client):
    make_person("sid@example.com", is_staff=True)
    _reset_password(client, "sid@example.com")

    response = client.get(reverse("account_overview"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("mfa_totp_enrol"))


def test_a_role_that_requires_mfa_sends_its_holder_to_enrolment(client, customer, monkeypatch):
    from apps.accounts import mfa_policy

    monkeypatch.setattr(mfa_policy, "_roles_require_mfa", lambda user: user.pk == customer.pk)
    submit_password(client, "casey@example.com")

    response = client.get(reverse("account_overview"))

    assert response.url.startswith(reverse("mfa_totp_enrol"))


# --- Field case 6: the admin login does not skip MFA --------------------------------------------


def test_staff_credentials_posted_to_the_admin_login_give_no_session(client, stan):
    response = client.post(
        reverse("admin:login"), {"username": "stan@example.com", "password": "x", "next": "/"}
    )

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert signed_in_user_id(client) is None
    assert client.get(reverse("admin:index")).status_code == 302


def test_a_password_alone_gives_staff_no_admin_page(client, stan):
    submit_password(client, "stan@example.com")

    response = client.get(reverse("admin:accounts_user_changelist"))

    assert response.status_code == 302
    assert signed_in_user_id(client) is None


def test_staff_reach_the_admin_after_the_second_factor(client, stan):
    submit_password(client, "stan@example.com")
    submit_code(client, stan.app.now())

    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 200


def test_a_signed_in_user_cannot_become_staff_through_the_admin_login(client, customer, stan):
    submit_password(client, "casey@example.com")

    client.post(reverse("admin:login"), {"username": "stan@example.com", "password": "x"})

    assert signed_in_user_id(client) == str(customer.pk)
    assert client.get(reverse("admin:index")).status_code == 302


def test_a_signed_in_customer_opening_the_admin_is_refused_not_bounced_forever(client, customer):
    submit_password(client, "casey@example.com")

    response = client.get(reverse("admin:index"), follow=True)

    assert response.status_code == 403
    assert len(response.redirect_chain) == 1


@pytest.mark.parametrize(
    "page",
    ["admin:index", "admin:accounts_user_changelist", "admin:siem_securityevent_changelist"],
)
def test_staff_without_a_device_reach_no_admin_page_until_they_enrol(client, page):
    make_person("sid@example.com", is_staff=True, is_superuser=True)
    submit_password(client, "sid@example.com")

    response = client.get(reverse(page))

    assert response.status_code == 302
    assert response.url.startswith(reverse("mfa_totp_enrol"))


def test_a_session_without_its_second_factor_is_asked_for_it(client, tessa):
    # A session signed in some other way than the login stage, e.g. before a device was added.
    client.force_login(tessa)

    response = client.get(reverse("account_overview"))

    assert response.url.startswith(reverse("mfa_reauthenticate"))


# --- Step-up -----------------------------------------------------------------------------------


def test_regenerating_backup_codes_needs_a_recent_authentication(client, tessa):
    give_backup_codes(tessa)
    client.force_login(tessa)
    client.post(reverse("mfa_reauthenticate"), {"code": tessa.app.now()})
    session = client.session
    session["account_authentication_methods"] = []
    session.save()

    response = client.post(reverse("mfa_backup_codes_regenerate"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_reauthenticate"))


def test_a_second_factor_given_again_allows_regenerating_backup_codes(client, tessa, rf):
    old_codes = give_backup_codes(tessa)
    client.force_login(tessa)

    client.post(reverse("mfa_reauthenticate"), {"code": tessa.app.now()})
    response = client.post(reverse("mfa_backup_codes_regenerate"))

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert not services.verify_second_factor(user=tessa, code=old_codes[0]).accepted


def test_step_up_checks_read_the_times_in_the_session(rf, tessa):
    import time

    from django.contrib.sessions.backends.db import SessionStore

    request = rf.get("/")
    request.user = tessa
    request.session = SessionStore()
    request.session["account_authentication_methods_user"] = str(tessa.pk)
    request.session["account_authentication_methods"] = [
        {"method": "password", "at": time.time() - 10},
        {"method": "mfa", "at": time.time() - 400},
    ]

    assert recently_reauthenticated(request)
    assert not recently_passed_second_factor(request)
    assert recently_passed_second_factor(request, within_seconds=600)


def test_staff_cannot_remove_their_only_authenticator(client, stan):
    submit_password(client, "stan@example.com")
    submit_code(client, stan.app.now())

    client.post(reverse("mfa_totp_remove"))

    assert services.has_second_factor(stan)


def test_an_end_user_can_remove_their_authenticator_after_step_up(client, tessa):
    submit_password(client, "tessa@example.com")
    submit_code(client, tessa.app.now())

    client.post(reverse("mfa_totp_remove"))

    assert not services.has_second_factor(tessa)
    assert SecurityEvent.objects.filter(event_type="auth.mfa.disabled").exists()


# --- Recovery by staff -------------------------------------------------------------------------


def test_staff_reset_the_factors_of_a_user_who_lost_them_and_the_check_is_recorded(
    client, stan, tessa
):
    submit_password(client, "stan@example.com")
    submit_code(client, stan.app.now())

    response = client.post(
        reverse("admin:accounts_user_changelist"),
        {
            "action": "reset_second_factors",
            "_selected_action": [tessa.pk],
            "identity_check": "video call, passport shown",
        },
    )

    assert response.status_code == 302
    assert not services.has_second_factor(tessa)
    event = SecurityEvent.objects.get(event_type="auth.mfa.recovered")
    assert (event.actor, event.subject) == (f"user:{stan.pk}", f"user:{tessa.pk}")
    assert event.details["identity_check"] == "video call, passport shown"


def test_the_recovery_action_asks_how_identity_was_checked_first(client, stan, tessa):
    submit_password(client, "stan@example.com")
    submit_code(client, stan.app.now())

    response = client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "reset_second_factors", "_selected_action": [tessa.pk]},
    )

    assert response.status_code == 200
    assert "How the person" in response.content.decode()
    assert services.has_second_factor(tessa)
