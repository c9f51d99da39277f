"""JWTs for user clients: what they carry, how they rotate, and when they stop working.

Casey is an end user with a password; Mallory is an attacker who copied one of Casey's tokens.
"""

import time

import jwt
import pytest
from django.conf import settings

from apps.api.models import TokenSession
from apps.siem.models import SecurityEvent
from tests.accounts.mfa_support import give_totp
from tests.api.conftest import api_as, json_client, password_login

pytestmark = pytest.mark.django_db


def refresh(token: str):
    return json_client().post("/api/v1/auth/token/refresh/", {"refresh": token})


def verify(token: str):
    return json_client().post("/api/v1/auth/token/verify/", {"token": token})


def claims(token: str) -> dict:
    return jwt.decode(
        token,
        settings.PORTAL_JWT_SIGNING_KEY,
        algorithms=["HS256"],
        audience=settings.PORTAL_JWT_AUDIENCE,
        issuer=settings.PORTAL_JWT_ISSUER,
    )


@pytest.fixture
def casey_tokens(customer):
    response = password_login(customer.email)
    assert response.status_code == 200, response.content
    return response.json()


def test_an_access_token_carries_user_roles_session_and_second_factor(customer, casey_tokens):
    payload = claims(casey_tokens["access"])

    assert payload["user_id"] == customer.pk
    assert payload["roles"] == []
    assert payload["mfa_verified"] is False
    assert TokenSession.objects.filter(pk=payload["sid"], user=customer).exists()
    assert payload["token_type"] == "access"
    assert payload["nbf"] <= time.time() < payload["exp"]
    assert payload["exp"] - payload["iat"] <= 15 * 60


def test_an_access_token_opens_the_callers_own_profile(customer, casey_tokens):
    response = api_as(casey_tokens["access"]).get("/api/v1/me/")

    assert response.status_code == 200
    assert response.json()["email"] == customer.email


def test_the_caller_sees_and_can_end_their_token_sessions(customer, casey_tokens):
    other = password_login(customer.email).json()
    api = api_as(casey_tokens["access"])

    sessions = api.get("/api/v1/me/sessions/").json()
    assert len(sessions) == 2
    other_id = next(row["id"] for row in sessions if not row["current"])
    assert api.delete(f"/api/v1/me/sessions/{other_id}/").status_code == 204

    assert api_as(other["access"]).get("/api/v1/me/").status_code == 401


def test_a_wrong_password_is_refused_with_the_same_words_as_an_unknown_account(customer):
    wrong = password_login(customer.email, "not the password at all")
    unknown = password_login("nobody@example.com", "not the password at all")

    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_a_deactivated_account_gets_no_token_and_reads_like_a_wrong_password(customer):
    customer.is_active = False
    customer.save(update_fields=["is_active"])

    right = password_login(customer.email)
    wrong = password_login(customer.email, "not the password at all")

    assert right.status_code == wrong.status_code == 401
    assert right.json() == wrong.json()
    assert not TokenSession.objects.filter(user=customer).exists()
    assert not SecurityEvent.objects.filter(event_type="auth.login.success").exists()


def test_an_unverified_address_gets_no_token(db):
    from tests.conftest import make_person

    make_person("una@example.com", verified=False)

    assert password_login("una@example.com").status_code == 403


def test_an_account_with_a_second_factor_gets_no_token_on_password_alone(customer):
    give_totp(customer)

    response = password_login(customer.email)

    assert response.status_code == 403
    assert response.json()["code"] == "second_factor_required"
    assert not TokenSession.objects.exists()


def test_a_valid_code_gives_tokens_that_say_the_second_factor_was_verified(customer):
    authenticator = give_totp(customer)

    response = password_login(customer.email, otp=authenticator.now())

    assert response.status_code == 200
    assert claims(response.json()["access"])["mfa_verified"] is True


def test_a_code_used_once_is_refused_the_second_time(customer):
    authenticator = give_totp(customer)
    code = authenticator.now()
    assert password_login(customer.email, otp=code).status_code == 200

    replay = password_login(customer.email, otp=code)

    assert replay.status_code == 403
    assert TokenSession.objects.count() == 1


def test_staff_without_a_second_factor_must_enrol_before_getting_tokens(db):
    from tests.conftest import make_person

    make_person("stan@example.com", is_staff=True)

    response = password_login("stan@example.com")

    assert response.status_code == 403
    assert response.json()["code"] == "second_factor_enrolment_required"


def test_adding_a_second_factor_ends_the_token_sessions(customer, casey_tokens):
    give_totp(customer)

    assert api_as(casey_tokens["access"]).get("/api/v1/me/").status_code == 401
    assert TokenSession.objects.get().end_reason == TokenSession.EndReason.SECOND_FACTOR_CHANGED


def test_tokens_got_while_an_authenticator_awaits_its_first_code_end_when_it_is_confirmed(
    customer,
):
    # The enrolment page creates the device unconfirmed; a password-only token got before
    # Casey types her first code must not outlive the authenticator becoming active.
    import pyotp

    from apps.accounts.mfa import services

    device = services.start_totp_enrolment(user=customer)
    tokens = password_login(customer.email).json()

    services.confirm_totp_enrolment(
        user=customer, device=device, code=pyotp.parse_uri(device.config_url).now()
    )

    assert api_as(tokens["access"]).get("/api/v1/me/").status_code == 401
    assert refresh(tokens["refresh"]).status_code == 401


def test_the_playbook_action_that_signs_a_user_out_ends_token_sessions(customer, casey_tokens):
    from apps.accounts.security_actions import end_sessions_and_tokens

    end_sessions_and_tokens(customer, actor=None)

    assert api_as(casey_tokens["access"]).get("/api/v1/me/").status_code == 401


def test_refreshing_rotates_the_refresh_token(casey_tokens):
    first = refresh(casey_tokens["refresh"])
    assert first.status_code == 200

    second = refresh(first.json()["refresh"])

    assert second.status_code == 200
    assert second.json()["refresh"] != first.json()["refresh"]


def test_reusing_a_rotated_refresh_token_ends_the_whole_family(customer, casey_tokens):
    rotated = refresh(casey_tokens["refresh"]).json()

    # Mallory replays the copy of the first refresh token.
    replay = refresh(casey_tokens["refresh"])

    assert replay.status_code == 401
    assert refresh(rotated["refresh"]).status_code == 401
    assert api_as(rotated["access"]).get("/api/v1/me/").status_code == 401
    session = TokenSession.objects.get()
    assert session.end_reason == TokenSession.EndReason.REFRESH_REUSE
    event = SecurityEvent.objects.get(event_type="auth.token.reuse")
    assert event.subject == f"user:{customer.pk}"
    assert event.severity == "high"


# --- Case 13: tokens must not outlive their session ---------------------------------------


def assert_every_token_is_refused(tokens):
    assert api_as(tokens["access"]).get("/api/v1/me/").status_code == 401
    assert verify(tokens["access"]).status_code == 401
    assert refresh(tokens["refresh"]).status_code == 401


def test_after_logout_the_old_tokens_are_refused(casey_tokens):
    assert verify(casey_tokens["access"]).status_code == 200

    assert api_as(casey_tokens["access"]).post("/api/v1/auth/logout/").status_code == 204

    assert_every_token_is_refused(casey_tokens)


def test_after_deactivation_the_old_tokens_are_refused(customer, casey_tokens):
    customer.is_active = False
    customer.save()

    assert_every_token_is_refused(casey_tokens)
    assert TokenSession.objects.get().end_reason == TokenSession.EndReason.DEACTIVATED


def test_a_deactivation_that_sends_no_signal_still_refuses_the_old_tokens(customer, casey_tokens):
    # A queryset update (a script, a bulk fix in a shell) saves no model and ends no session:
    # the check of the user's state on every use is what refuses the tokens then.
    type(customer).objects.filter(pk=customer.pk).update(is_active=False)

    assert_every_token_is_refused(casey_tokens)


def test_after_a_password_change_the_old_tokens_are_refused(customer, casey_tokens):
    customer.set_password("a completely new passphrase 7")
    customer.save()

    assert_every_token_is_refused(casey_tokens)


def test_access_tokens_live_at_most_fifteen_minutes_by_configuration():
    assert settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds() <= 15 * 60


# --- Forged and broken tokens: 401, never 500 ---------------------------------------------


def forge(payload_changes=None, *, key=None, algorithm="HS256", headers=None, base=None):
    payload = dict(base)
    payload.update(payload_changes or {})
    return jwt.encode(
        payload,
        key if key is not None else settings.PORTAL_JWT_SIGNING_KEY,
        algorithm=algorithm,
        headers=headers,
    )


@pytest.fixture
def genuine(casey_tokens):
    return claims(casey_tokens["access"])


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda base: "not-a-jwt", id="malformed"),
        pytest.param(lambda base: "a.b.c", id="three-garbage-parts"),
        pytest.param(lambda base: forge({"exp": int(time.time()) - 60}, base=base), id="expired"),
        pytest.param(lambda base: forge({"aud": "someone-else"}, base=base), id="wrong-audience"),
        pytest.param(lambda base: forge({"iss": "elsewhere"}, base=base), id="wrong-issuer"),
        pytest.param(lambda base: forge({"nbf": int(time.time()) + 600}, base=base), id="nbf"),
        pytest.param(lambda base: forge({"token_type": "refresh"}, base=base), id="wrong-type"),
        pytest.param(
            lambda base: forge({"sid": "00000000-0000-0000-0000-000000000000"}, base=base),
            id="unknown-session",
        ),
        pytest.param(lambda base: forge(base=base, key="", algorithm="none"), id="alg-none"),
        pytest.param(lambda base: forge(base=base, algorithm="HS512"), id="algorithm-not-allowed"),
        pytest.param(lambda base: forge(base=base, key="guessed-key" * 4), id="wrong-key"),
        pytest.param(lambda base: forge(base=base)[:-6] + "AAAAAA", id="bad-signature"),
    ],
)
def test_a_forged_or_broken_token_is_refused_with_401(genuine, make_token):
    token = make_token(genuine)

    response = api_as(token).get("/api/v1/me/")

    assert response.status_code == 401
    assert set(response.json()) == {"code", "message", "fields"}
    assert verify(token).status_code == 401


def test_a_token_with_a_tampered_payload_is_refused(casey_tokens, db):
    from tests.conftest import make_person

    victim = make_person("victor@example.com")
    header, payload, signature = casey_tokens["access"].split(".")
    body = (
        jwt.utils.base64url_decode(payload)
        .decode()
        .replace(
            f'"user_id":{claims(casey_tokens["access"])["user_id"]}', f'"user_id":{victim.pk}'
        )
    )
    tampered = ".".join([header, jwt.utils.base64url_encode(body.encode()).decode(), signature])

    assert api_as(tampered).get("/api/v1/me/").status_code == 401


def test_a_refresh_token_cannot_be_used_as_an_access_token(casey_tokens):
    assert api_as(casey_tokens["refresh"]).get("/api/v1/me/").status_code == 401


def test_an_access_token_cannot_be_used_to_refresh(casey_tokens):
    assert refresh(casey_tokens["access"]).status_code == 401


def test_the_roles_claim_names_the_access_control_roles_held(customer, admin_user):
    from apps.rbac.models import Role
    from apps.rbac.services import bind_role

    bind_role(
        role=Role.objects.get(name="customer"),
        user=customer,
        granted_by=admin_user,
        reason="quarterly review",
    )

    payload = claims(password_login(customer.email).json()["access"])

    assert payload["roles"] == ["customer"]
