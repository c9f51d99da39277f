"""Partners file requests for their own customers and follow them (real OAuth2 tokens)."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from apps.gdpr.models import ConsentPurpose, ConsentRecord, DataSubjectRequest
from apps.partners.models import Customer, Partner
from tests.api.conftest import api_as, client_token, register

pytestmark = pytest.mark.django_db

URL = "/api/v1/privacy/requests/"
BOTH = "privacy:requests privacy:consents"


@pytest.fixture(autouse=True)
def _fresh_counters():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def acme(db):
    return Partner.objects.create(name="Acme")


@pytest.fixture
def acme_privacy(acme):
    """Acme's privacy desk: may file requests and read consents."""
    return register(acme, "Acme privacy", {"privacy:requests", "privacy:consents"})


@pytest.fixture
def acme_crm(acme):
    """Acme's CRM: customer scopes only, nothing of privacy."""
    return register(acme, "Acme CRM", {"customers:read"})


@pytest.fixture
def erins_record(acme, erin):
    return Customer.objects.create(
        partner=acme, owner=erin, reference="acme-erin", display_name="Erin Q", email=erin.email
    )


@pytest.fixture
def globex_record(db):
    globex = Partner.objects.create(name="Globex")
    return Customer.objects.create(partner=globex, reference="g-1", display_name="Gil")


def test_an_anonymous_caller_is_refused(erins_record):
    response = APIClient().post(
        URL, {"kind": "erasure", "customer": erins_record.pk}, format="json"
    )
    assert response.status_code == 401
    assert not DataSubjectRequest.objects.exists()


def test_a_client_without_the_privacy_scope_is_refused(acme_crm, erins_record):
    api = api_as(client_token(acme_crm))
    response = api.post(URL, {"kind": "erasure", "customer": erins_record.pk}, format="json")
    assert response.status_code == 403
    assert api.get(URL).status_code == 403


def test_a_partner_files_an_erasure_for_its_customer_and_follows_it(
    acme_privacy, erins_record, erin
):
    api = api_as(client_token(acme_privacy, BOTH))

    response = api.post(URL, {"kind": "erasure", "customer": erins_record.pk}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == "awaiting_approval"
    request = DataSubjectRequest.objects.get(pk=body["id"])
    assert (request.channel, request.partner_id, request.subject_ref) == (
        "partner_api", erins_record.partner_id, f"user:{erin.pk}",
    )  # fmt: skip
    assert request.filed_by_ref == f"client:{acme_privacy.client_id}"
    assert api.get(f"{URL}{request.pk}/").json()["state"] == "awaiting_approval"
    assert [item["id"] for item in api.get(URL).json()["results"]] == [request.pk]


def test_another_partners_customer_looks_like_no_customer(acme_privacy, globex_record):
    api = api_as(client_token(acme_privacy, BOTH))
    response = api.post(URL, {"kind": "erasure", "customer": globex_record.pk}, format="json")
    assert response.status_code == 400
    assert "customer" in response.json()["fields"]
    assert not DataSubjectRequest.objects.exists()


def test_a_partner_cannot_follow_another_partners_request(acme_privacy, globex_record):
    other = DataSubjectRequest.objects.create(
        kind="erasure", subject_ref=f"customer:{globex_record.pk}", channel="partner_api",
        filed_by_ref="client:x", partner=globex_record.partner, due_at="2030-01-01T00:00:00Z",
    )  # fmt: skip
    api = api_as(client_token(acme_privacy, BOTH))
    assert api.get(f"{URL}{other.pk}/").status_code == 404
    assert api.get(URL).json()["results"] == []


def test_garbage_input_is_a_400_not_a_500(acme_privacy):
    api = api_as(client_token(acme_privacy, BOTH))
    for body in ({}, {"kind": "steal", "customer": 1}, {"kind": "erasure", "customer": "x"}):
        assert api.post(URL, body, format="json").status_code == 400


def test_a_partner_reads_its_customers_current_consents(acme_privacy, erins_record, erin):
    purpose = ConsentPurpose.objects.create(slug="offers", title="Offers", description="o")
    ConsentRecord.objects.create(user=erin, purpose=purpose, granted=True, source="privacy_page")
    ConsentRecord.objects.create(user=erin, purpose=purpose, granted=False, source="privacy_page")
    api = api_as(client_token(acme_privacy, BOTH))

    response = api.get(f"{URL}consents/{erins_record.pk}/")

    assert response.status_code == 200
    assert [(c["purpose"], c["granted"]) for c in response.json()] == [("offers", False)]


def test_consents_need_their_own_scope(acme, erins_record):
    requests_only = register(acme, "Acme requests", {"privacy:requests"})
    api = api_as(client_token(requests_only, "privacy:requests"))
    assert api.get(f"{URL}consents/{erins_record.pk}/").status_code == 403
