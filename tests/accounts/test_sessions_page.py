"""The sessions page: see where you are signed in, end one session or all the others."""

import pytest
from allauth.usersessions.models import UserSession
from django.test import Client
from django.urls import reverse

from apps.siem.models import SecurityEvent
from tests.accounts.mfa_support import signed_in_user_id, submit_password

pytestmark = pytest.mark.django_db


@pytest.fixture
def laptop_and_phone(customer):
    laptop = Client(HTTP_USER_AGENT="Laptop browser")
    phone = Client(HTTP_USER_AGENT="Phone browser")
    submit_password(laptop, "casey@example.com")
    submit_password(phone, "casey@example.com")
    return laptop, phone


def test_the_page_lists_each_session_with_its_device_and_address(laptop_and_phone):
    laptop, _ = laptop_and_phone

    page = laptop.get(reverse("account_sessions")).content.decode()

    assert "Laptop browser" in page
    assert "Phone browser" in page
    assert "127.0.0.1" in page


def test_ending_all_other_sessions_signs_out_the_other_device_only(laptop_and_phone, customer):
    laptop, phone = laptop_and_phone

    laptop.post(reverse("account_end_others"))

    assert signed_in_user_id(laptop) == str(customer.pk)
    assert phone.get(reverse("account_overview")).status_code == 302
    assert SecurityEvent.objects.filter(event_type="auth.session.revoked").count() == 1


def test_one_chosen_session_can_be_ended(laptop_and_phone):
    laptop, phone = laptop_and_phone
    phone_session = UserSession.objects.get(user_agent="Phone browser")

    laptop.post(reverse("account_end_session", args=[phone_session.pk]))

    assert phone.get(reverse("account_overview")).status_code == 302
    assert laptop.get(reverse("account_overview")).status_code == 200


def test_nobody_can_end_a_session_of_someone_else(laptop_and_phone, compliance_officer):
    _, phone = laptop_and_phone
    phone_session = UserSession.objects.get(user_agent="Phone browser")
    intruder = Client()
    submit_password(intruder, "olivia@example.com")

    intruder.post(reverse("account_end_session", args=[phone_session.pk]))

    assert phone.get(reverse("account_overview")).status_code == 200


def test_a_user_agent_with_a_nul_is_served_and_listed_with_the_nul_replaced(customer):
    # The user agent is stored as sent (this page, security events), and PostgreSQL's text
    # cannot hold U+0000: the request of anyone signed in would fail.
    odd = Client(HTTP_USER_AGENT="Odd\x00browser")
    submit_password(odd, "casey@example.com")

    response = odd.get(reverse("account_sessions"))

    assert response.status_code == 200
    assert "Odd\ufffdbrowser" in response.content.decode()
    assert UserSession.objects.get(user=customer).user_agent == "Odd\ufffdbrowser"
