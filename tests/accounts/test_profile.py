"""People see and edit their own encrypted details after confirming their password; staff find a
profile by phone; reads are recorded.

People: Casey (a customer), Dana (another customer), Olivia (compliance staff who may view
profiles in the admin).
"""

import time

import pytest
from allauth.account.internal.flows.login import (
    _AUTHENTICATION_METHODS_USER_SESSION_KEY,
    AUTHENTICATION_METHODS_SESSION_KEY,
)
from django.db import connection
from django.urls import reverse

from apps.accounts.models import Profile
from apps.accounts.stepup import STEP_UP_WINDOW_SECONDS
from apps.core.crypto.fields import StoredCiphertext
from apps.siem.models import SecurityEvent
from tests.conftest import give_permissions, make_person
from tests.support import STRONG_PASSWORD, force_login_verified

pytestmark = pytest.mark.django_db

CASEY_DETAILS = {
    "first_name": "Casey",
    "last_name": "Quartermaine",
    "phone": "+44 20 7946 0321",
    "date_of_birth": "1987-03-14",
    "address": "12 Wharf Lane, Bristol",
    "national_id": "QQ 12 34 56 C",
}


@pytest.fixture
def casey(client, customer):
    """Casey, signed in and having just confirmed her password, as the page asks."""
    client.force_login(customer)
    confirm_password(client)
    return customer


def confirm_password(client):
    response = client.post(reverse("account_reauthenticate"), {"password": STRONG_PASSWORD})
    assert response.status_code == 302


def password_confirmed(client, user, *, seconds_ago: float):
    """Leave in the session the record allauth writes when a password is confirmed."""
    session = client.session
    session[_AUTHENTICATION_METHODS_USER_SESSION_KEY] = str(user.pk)
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [
        {"method": "password", "email": user.email, "at": time.time() - seconds_ago}
    ]
    session.save()


@pytest.fixture
def dana(db):
    user = make_person("dana@example.com")
    Profile.objects.create(user=user, first_name="Dana", phone="+44 20 7946 0999")
    return user


@pytest.fixture
def staff_client(client, compliance_officer):
    give_permissions(compliance_officer, "profiles:read:all")
    force_login_verified(client, compliance_officer)
    return client


def test_casey_saves_her_details_and_sees_them_again(client, casey):
    response = client.post(reverse("account_profile"), CASEY_DETAILS)
    assert response.status_code == 302

    page = client.get(reverse("account_profile")).content.decode()

    assert 'value="Quartermaine"' in page
    assert "12 Wharf Lane, Bristol" in page
    assert 'value="1987-03-14"' in page


def test_saved_details_are_not_readable_in_the_table(client, casey):
    client.post(reverse("account_profile"), CASEY_DETAILS)

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_profile")
        dump = repr([bytes(c) if isinstance(c, memoryview) else c for c in cursor.fetchone()])
    # Whole values, long enough that random ciphertext bytes never spell one by chance (a
    # two-letter probe such as "QQ" would, now and then).
    typed = ["Casey", "Quartermaine", "7946 0321", "1987-03-14", "Wharf Lane", "QQ 12 34 56 C"]
    for value in [*typed, "QQ123456C"]:
        assert value not in dump


def test_saving_records_which_fields_changed_but_not_their_values(client, casey):
    client.post(reverse("account_profile"), CASEY_DETAILS)

    event = SecurityEvent.objects.get(event_type="data.modification")
    assert event.subject == f"user:{casey.pk}"
    assert event.details == {"profile_fields": sorted(CASEY_DETAILS)}
    assert "Quartermaine" not in str(event.details)


def test_viewing_the_page_records_one_access_event_for_all_fields(client, casey):
    client.post(reverse("account_profile"), CASEY_DETAILS)
    SecurityEvent.objects.filter(event_type="data.access").delete()

    client.get(reverse("account_profile"))

    event = SecurityEvent.objects.get(event_type="data.access")
    assert event.actor == event.subject == f"user:{casey.pk}"
    assert len(event.details["fields"]) == len(CASEY_DETAILS)


def test_a_national_id_already_registered_to_dana_is_refused_for_casey(client, casey, dana):
    Profile.objects.filter(user=dana).delete()
    Profile.objects.create(user=dana, national_id="QQ123456C")

    response = client.post(reverse("account_profile"), CASEY_DETAILS)

    assert response.status_code == 200
    assert "already registered to another account" in response.content.decode()
    assert not Profile.objects.filter(user=casey).exists()


def test_a_session_without_a_recent_password_is_asked_for_it_before_the_page(client, customer):
    client.force_login(customer)

    shown = client.get(reverse("account_profile"))
    saved = client.post(reverse("account_profile"), CASEY_DETAILS)

    for response in (shown, saved):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_reauthenticate"))
        assert "next=%2Faccount%2Fprofile%2F" in response["Location"]
    assert not Profile.objects.filter(user=customer).exists()


def test_a_password_confirmed_more_than_five_minutes_ago_no_longer_allows_changes(client, casey):
    client.post(reverse("account_profile"), CASEY_DETAILS)
    password_confirmed(client, casey, seconds_ago=STEP_UP_WINDOW_SECONDS + 1)

    response = client.post(reverse("account_profile"), {**CASEY_DETAILS, "first_name": "Mallory"})

    assert response["Location"].startswith(reverse("account_reauthenticate"))
    assert Profile.objects.get(user=casey).first_name == "Casey"


def test_a_password_confirmed_a_minute_ago_allows_changes(client, customer):
    client.force_login(customer)
    password_confirmed(client, customer, seconds_ago=60)

    response = client.post(reverse("account_profile"), CASEY_DETAILS)

    assert response.status_code == 302
    assert response["Location"] == reverse("account_profile")
    assert Profile.objects.get(user=customer).first_name == "Casey"


def test_a_visitor_who_is_not_signed_in_is_sent_to_log_in(client):
    response = client.get(reverse("account_profile"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_a_profile_that_cannot_be_decrypted_fails_loudly_and_is_reported(casey, client, dana):
    client.post(reverse("account_profile"), CASEY_DETAILS)
    dana_phone = Profile.objects.values_list(StoredCiphertext("phone"), flat=True).get(user=dana)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE accounts_profile SET phone = %s WHERE user_id = %s", [dana_phone, casey.pk]
        )
    client.raise_request_exception = False

    response = client.get(reverse("account_profile"))

    assert response.status_code == 500
    assert b"7946" not in response.content
    event = SecurityEvent.objects.get(event_type="data.decryption.failure")
    assert event.details["field"] == "phone"


def test_staff_find_a_profile_by_phone_written_any_way(staff_client, dana, compliance_officer):
    casey_user = make_person("casey.two@example.com")
    Profile.objects.create(user=casey_user, first_name="Casey", phone="+44 20 7946 0321")

    response = staff_client.get(
        reverse("admin:accounts_profile_changelist"), {"q": "+44-20-7946-0321"}
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "Casey" in page
    assert "Dana" not in page
    event = SecurityEvent.objects.get(
        event_type="data.access", actor=f"user:{compliance_officer.pk}"
    )
    assert event.subject == f"user:{casey_user.pk}"


def test_staff_find_a_profile_by_national_id_written_any_way(staff_client, dana):
    casey_user = make_person("casey.two@example.com")
    Profile.objects.create(user=casey_user, first_name="Casey", national_id="QQ 12 34 56 C")

    response = staff_client.get(reverse("admin:accounts_profile_changelist"), {"q": "qq123456c"})

    assert response.status_code == 200
    page = response.content.decode()
    assert "Casey" in page
    assert "Dana" not in page
    assert "QQ 12 34 56 C" not in page  # found, but never shown to staff
    assert "QQ123456C" not in page


def test_staff_cannot_sort_profiles_by_an_encrypted_column(staff_client, dana):
    response = staff_client.get(reverse("admin:accounts_profile_changelist"), {"o": "2"})

    assert response.status_code == 200
    assert "Dana" in response.content.decode()
