"""Independent clients against a live server: an OAuth2 library, and racing refreshes."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session

from apps.api.models import TokenSession
from apps.partners.models import Customer, Partner
from apps.partners.services import register_partner_application
from tests.conftest import make_person
from tests.support import STRONG_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 10


@pytest.fixture
def acme_crm_credentials(transactional_db):
    acme = Partner.objects.create(name="Acme")
    Customer.objects.create(partner=acme, reference="crm-1", display_name="Casey Jones")
    application, secret = register_partner_application(
        acme, name="Acme CRM", scopes={"customers:read", "customers:write"}, actor="test"
    )
    return application.client_id, secret


def test_an_oauth2_library_gets_a_client_credentials_token_and_calls_the_api(
    live_server, acme_crm_credentials
):
    client_id, secret = acme_crm_credentials
    session = OAuth2Session(client_id, secret, scope="customers:read customers:write")

    token = session.fetch_token(f"{live_server.url}/o/token/", grant_type="client_credentials")
    response = session.get(f"{live_server.url}/api/v1/customers/", timeout=TIMEOUT)

    assert token["token_type"] == "Bearer"
    assert token["expires_in"] <= 3600
    assert response.status_code == 200
    assert [row["reference"] for row in response.json()["results"]] == ["crm-1"]


def test_a_token_without_the_needed_scope_is_refused(live_server, acme_crm_credentials):
    client_id, secret = acme_crm_credentials
    session = OAuth2Session(client_id, secret, scope="customers:read")
    session.fetch_token(f"{live_server.url}/o/token/", grant_type="client_credentials")

    response = session.post(
        f"{live_server.url}/api/v1/customers/", json={"reference": "crm-2"}, timeout=TIMEOUT
    )

    assert response.status_code == 403
    assert not Customer.objects.filter(reference="crm-2").exists()


def test_a_wrong_client_secret_gets_no_token(live_server, acme_crm_credentials):
    client_id, _ = acme_crm_credentials
    response = requests.post(
        f"{live_server.url}/o/token/",
        data={"grant_type": "client_credentials"},
        auth=(client_id, "not-the-secret"),
        timeout=TIMEOUT,
    )

    assert response.status_code == 401


def test_of_parallel_refreshes_of_one_token_exactly_one_succeeds(live_server, transactional_db):
    make_person("casey@example.com")
    tokens = requests.post(
        f"{live_server.url}/api/v1/auth/token/",
        json={"email": "casey@example.com", "password": STRONG_PASSWORD},
        timeout=TIMEOUT,
    ).json()
    racers = 6
    start = threading.Barrier(racers)

    def refresh_once(_):
        start.wait(timeout=TIMEOUT)
        return requests.post(
            f"{live_server.url}/api/v1/auth/token/refresh/",
            json={"refresh": tokens["refresh"]},
            timeout=TIMEOUT,
        ).status_code

    with ThreadPoolExecutor(max_workers=racers) as pool:
        answers = list(pool.map(refresh_once, range(racers)))

    assert sorted(answers) == [200] + [401] * (racers - 1)
    # The losers presented a token that was no longer current: that is reuse, so the session
    # ended and no copy of the token can win later.
    assert TokenSession.objects.get().end_reason == TokenSession.EndReason.REFRESH_REUSE
