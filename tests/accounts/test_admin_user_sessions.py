"""Staff find a person's sign-in sessions in the admin by their account or address.

allauth's page searched ``user__username``, which the portal's accounts do not have: any
search failed with a 500.
"""

import pytest
from allauth.usersessions.models import UserSession
from django.test import Client

from tests.conftest import give_permissions, make_person
from tests.support import force_login_verified

pytestmark = pytest.mark.django_db

SESSIONS = "/admin/usersessions/usersession/"


@pytest.fixture
def sessions():
    def session_of(email, ip):
        return UserSession.objects.create(
            user=make_person(email), ip=ip, session_key=email[:8].ljust(32, "0"), user_agent="x"
        )

    return session_of("kim@example.com", "198.51.100.7"), session_of("lee@example.com", "::1")


@pytest.fixture
def browser():
    reader = give_permissions(
        make_person("sid.support@example.com", is_staff=True), "user-sessions:read:all"
    )
    client = Client()
    force_login_verified(client, reader)
    return client


@pytest.mark.parametrize("term", ["kim@example.com", "198.51.100.7"], ids=["email", "address"])
def test_a_search_finds_the_sessions_of_one_person(browser, sessions, term):
    kims, _ = sessions

    response = browser.get(SESSIONS, {"q": term})

    assert response.status_code == 200
    assert [session.pk for session in response.context["cl"].result_list] == [kims.pk]
