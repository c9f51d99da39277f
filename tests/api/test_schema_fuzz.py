"""Schemathesis against the live schema: no 5xx and no answer outside the schema, anywhere.

Every operation is fuzzed with valid and with invalid input, as a partner client with every
scope (customers), as a signed-in user (me, logout) and anonymously (tokens, health). The run
is bounded: PORTAL_FUZZ_EXAMPLES examples per operation and mode (default 12).
"""

import os

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from apps.partners.models import Customer, Partner
from apps.partners.services import register_partner_application
from tests.conftest import make_person
from tests.support import STRONG_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES = int(os.environ.get("PORTAL_FUZZ_EXAMPLES", "12"))
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]
TIMEOUT = 10


def _partner_token(base_url: str) -> str:
    acme = Partner.objects.create(name="Acme")
    for number in range(3):
        Customer.objects.create(partner=acme, reference=f"crm-{number}", display_name="Someone")
    application, secret = register_partner_application(
        acme,
        name="Acme CRM",
        scopes={"customers:read", "customers:write", "customers:personal"},
        actor="test",
    )
    response = requests.post(
        f"{base_url}/o/token/",
        data={
            "grant_type": "client_credentials",
            "scope": "customers:read customers:write customers:personal",
        },
        auth=(application.client_id, secret),
        timeout=TIMEOUT,
    )
    return response.json()["access_token"]


def _user_token(base_url: str) -> str:
    response = requests.post(
        f"{base_url}/api/v1/auth/token/",
        json={"email": "casey@example.com", "password": STRONG_PASSWORD},
        timeout=TIMEOUT,
    )
    return response.json()["access"]


def test_every_operation_survives_fuzzing_within_its_schema(live_server, settings_fixture):
    base_url = live_server.url
    make_person("casey@example.com")
    partner_token = _partner_token(base_url)
    schema = schemathesis.openapi.from_url(f"{base_url}/api/schema/?format=json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10

    for operation in operations:
        path = operation.path
        if path.startswith("/api/v1/customers"):
            headers = {"Authorization": f"Bearer {partner_token}"}
        elif path.startswith(("/api/v1/me", "/api/v1/auth/logout")):
            headers = {"Authorization": f"Bearer {_user_token(base_url)}"}
        else:
            headers = {}
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            _fuzz(operation, mode, base_url, headers)


def _fuzz(operation, mode, base_url, headers):
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def run(data):
        case = data.draw(operation.as_strategy(generation_mode=mode))
        case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS, timeout=TIMEOUT)

    try:
        run()
    except Unsatisfiable:
        # An operation with no input at all (logout) has nothing to make invalid.
        if mode is not schemathesis.GenerationMode.NEGATIVE:
            raise


@pytest.fixture
def settings_fixture(settings):
    # Fuzzing is many requests from one address: rates are not what this test is about.
    settings.PORTAL_API_RATE_PER_ADDRESS = 1_000_000
    settings.PORTAL_API_RATE_PER_CLIENT = 1_000_000
    return settings
