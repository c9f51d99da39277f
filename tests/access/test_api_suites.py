"""The access suite on every protected endpoint under /api/v1/.

Endpoints on models declared to access control subclass ``ApiAccessSuite`` and answer its
questions with the people it builds. Endpoints that are about the caller (``me``), about a
machine client's partner (privacy requests) or that take no object (security events, the check
API) cannot be asked about someone else's object in the same way; their classes here ask the
same questions in the shape that fits, and say where they differ.
"""

import pytest
from rest_framework.test import APIClient

from apps.gdpr import services as gdpr_services
from apps.gdpr.models import DataSubjectRequest
from apps.partners.models import Customer
from apps.siem.models import SecurityEvent
from tests.access_suite import UNAUTHORIZED, ApiAccessSuite
from tests.api.conftest import api_as, client_token, password_login, register
from tests.conftest import give_permissions, make_person
from tests.pci.cards import AMEX


class TestCustomerApi(ApiAccessSuite):
    resource = "customers"
    list_url = "/api/v1/customers/"
    covers = ("customer-list", "customer-detail")

    def detail_url(self, obj):
        return f"/api/v1/customers/{obj.pk}/"

    @pytest.fixture
    def access_objects(self, two_customers):
        return two_customers

    def test_a_partner_scoped_reader_cannot_change_another_partners_customer(
        self, access_objects, access_people
    ):
        _, outside = access_objects
        client = self.client_for(access_people["attribute:partner"])

        response = client.patch(self.detail_url(outside), {"reference": "stolen"}, format="json")

        assert response.status_code in {403, 404}  # 403: reading is not writing
        assert Customer.objects.get(pk=outside.pk).reference == "B-1"


class TestPersonalCardApi(ApiAccessSuite):
    """Cards a person owns: ``GET /api/v1/cards/`` lists the caller's own cards only."""

    resource = "cards"
    list_url = "/api/v1/cards/"
    row_key = "token"
    covers = ("api-cards", "api-card", "api-card-detokenize")
    absent_people = {"attribute:partner": "a card a person owns has no partner"}
    unlisted = {
        "object grant": "the list shows one owner's cards; a granted card is read by its token",
        "full": "the list shows one owner's cards; another person's are read by token",
    }
    refusal_differs = "a person without permission lists their own cards, of which there are none"

    def object_key(self, obj):
        return obj.token

    def detail_url(self, obj):
        return f"/api/v1/cards/{obj.token}/"

    @pytest.fixture
    def access_objects(self, two_personal_cards):
        return two_personal_cards

    def test_revealing_someone_elses_card_is_refused_without_the_number(
        self, access_objects, access_people
    ):
        _, outside = access_objects
        client = self.client_for(access_people["own"])
        before = SecurityEvent.objects.filter(event_type=UNAUTHORIZED).count()

        response = client.post(
            f"/api/v1/cards/{outside.token}/detokenize/", {"purpose": "curious"}, format="json"
        )

        assert response.status_code == 403
        assert response.json()["code"] == "not_permitted"
        assert "5555" not in response.content.decode()
        assert SecurityEvent.objects.filter(event_type=UNAUTHORIZED).count() >= before

    def test_deleting_someone_elses_card_answers_404_and_keeps_it(
        self, access_objects, access_people
    ):
        _, outside = access_objects

        response = self.client_for(access_people["own"]).delete(self.detail_url(outside))

        assert response.status_code == 404
        assert type(outside).objects.filter(pk=outside.pk).exists()


class TestPartnerCardApi(ApiAccessSuite):
    """Cards a partner owns: listed with ``?partner=<id>`` by a person scoped to it."""

    resource = "cards"
    list_url = "/api/v1/cards/"
    row_key = "token"
    covers = ("api-cards", "api-card")
    absent_people = {"own": "a card a partner owns has no owning person"}
    unlisted = {
        "object grant": "the list shows one owner's cards; a granted card is read by token"
    }

    def object_key(self, obj):
        return obj.token

    def detail_url(self, obj):
        return f"/api/v1/cards/{obj.token}/"

    def list_urls_for(self, name, inside, outside):
        if name == "full":
            return [
                f"{self.list_url}?partner={card.owner_partner_id}" for card in (inside, outside)
            ]
        return [f"{self.list_url}?partner={inside.owner_partner_id}"]

    def refusal_url_for(self, inside, outside):
        return f"{self.list_url}?partner={inside.owner_partner_id}"

    @pytest.fixture
    def access_objects(self, two_partner_cards):
        return two_partner_cards

    def test_a_partner_scoped_person_cannot_list_another_partners_cards(
        self, access_objects, access_people
    ):
        _, outside = access_objects
        client = self.client_for(access_people["attribute:partner"])

        response = client.get(f"{self.list_url}?partner={outside.owner_partner_id}")

        assert response.status_code == 403
        assert outside.token not in response.content.decode()

    def test_a_partner_scoped_person_cannot_store_a_card_for_another_partner(
        self, access_objects, access_people
    ):
        _, outside = access_objects
        client = self.client_for(access_people["attribute:partner"])
        form = {"number": AMEX, "expiry_month": "01", "expiry_year": "2036",
                "partner": outside.owner_partner_id}  # fmt: skip

        response = client.post(self.list_url, form, format="json")

        assert response.status_code == 403
        assert not type(outside).objects.filter(last_four=AMEX[-4:]).exists()


# --- Endpoints about the caller --------------------------------------------------------------


@pytest.fixture
def token_people(db):
    """Two people signed in with their own user tokens (JWT), each with one token session."""
    people = {}
    for name in ("erin", "frank"):
        person = make_person(f"{name}.access@example.com")
        answer = password_login(person.email)
        assert answer.status_code == 200, answer.content
        people[name] = (person, api_as(answer.json()["access"]))
    return people


class TestMeApi:
    """``me`` is always the caller: there is no id to change, and no permission to hold.

    So the suite's four people collapse to two: anonymous (and a session without a user
    token, which these endpoints refuse) and a signed-in person, who sees only their own.
    The one id these endpoints take, a token session's, is asked the IDOR question.
    """

    covers = ("api-me", "api-my-sessions", "api-my-session", "api-my-devices", "api-logout")
    reads = ("/api/v1/me/", "/api/v1/me/sessions/", "/api/v1/me/devices/")

    @pytest.mark.parametrize("url", reads)
    def test_an_anonymous_visitor_is_refused(self, db, url):
        assert APIClient().get(url).status_code in {401, 403}

    def test_an_anonymous_visitor_cannot_log_out_or_end_a_session(self, db):
        assert APIClient().post("/api/v1/auth/logout/").status_code in {401, 403}
        assert APIClient().delete(
            "/api/v1/me/sessions/00000000-0000-0000-0000-000000000000/"
        ).status_code in {401, 403}

    @pytest.mark.parametrize("url", reads)
    def test_a_signed_in_session_without_a_user_token_is_refused(self, db, url):
        client = APIClient()
        client.force_authenticate(make_person("session.only@example.com"))

        assert client.get(url).status_code == 403

    def test_me_is_the_caller(self, token_people):
        erin, api = token_people["erin"]

        body = api.get("/api/v1/me/").json()

        assert body["id"] == erin.pk
        assert body["email"] == erin.email

    def test_the_sessions_listed_are_the_callers_own(self, token_people):
        erin, api = token_people["erin"]
        frank, _ = token_people["frank"]

        listed = {row["id"] for row in api.get("/api/v1/me/sessions/").json()}

        assert listed == {str(s.pk) for s in erin.token_sessions.filter(ended_at__isnull=True)}
        assert not listed & {str(s.pk) for s in frank.token_sessions.all()}

    def test_ending_someone_elses_session_by_its_id_answers_404_and_leaves_it(self, token_people):
        _, erin_api = token_people["erin"]
        frank, frank_api = token_people["frank"]
        session = frank.token_sessions.get()

        response = erin_api.delete(f"/api/v1/me/sessions/{session.pk}/")

        assert response.status_code == 404
        session.refresh_from_db()
        assert session.ended_at is None
        assert frank_api.get("/api/v1/me/").status_code == 200


# --- Endpoints of a partner's machine client -----------------------------------------------


class TestPrivacyRequestApi:
    """Privacy requests are filed by a partner's machine client, for its own customers only.

    People never use these endpoints (staff work on requests in the admin), so "no permission"
    is a person's token and a client without the privacy scopes; "scoped" is Acme's client;
    there is no "full" client: each partner sees its own requests. IDOR: Acme's client asks
    for Bolt's request and Bolt's customer's consents by id.
    """

    covers = ("privacy-request-list", "privacy-request-detail", "privacy-request-consents")
    scopes = {"privacy:requests", "privacy:consents", "customers:read"}

    @pytest.fixture
    def clients(self, acme, bolt):
        return register(acme, "Acme privacy", self.scopes), register(
            bolt, "Bolt privacy", self.scopes
        )

    @pytest.fixture
    def two_requests(self, two_customers):
        made = []
        for customer in two_customers:
            made.append(gdpr_services.file_request(
                kind=DataSubjectRequest.Kind.ERASURE, subject=customer.owner,
                channel=DataSubjectRequest.Channel.PARTNER_API, by="test",
                partner=customer.partner, customers=[customer],
            ))  # fmt: skip
        return made

    def test_an_anonymous_visitor_is_refused(self, two_requests):
        inside, _ = two_requests
        for url in ("/api/v1/privacy/requests/", f"/api/v1/privacy/requests/{inside.pk}/"):
            assert APIClient().get(url).status_code in {401, 403}

    def test_a_person_and_a_client_without_the_scope_are_refused(
        self, two_requests, two_customers, acme
    ):
        inside, _ = two_requests
        person = APIClient()
        person.force_authenticate(two_customers[0].owner)
        unscoped = register(acme, "Acme crm", {"customers:read"})
        for client in (person, api_as(client_token(unscoped))):
            assert client.get("/api/v1/privacy/requests/").status_code == 403
            assert client.get(f"/api/v1/privacy/requests/{inside.pk}/").status_code == 403

    def test_a_client_lists_and_reads_only_its_partners_requests(self, two_requests, clients):
        inside, _ = two_requests
        api = api_as(client_token(clients[0]))

        listed = {row["id"] for row in api.get("/api/v1/privacy/requests/").json()["results"]}

        assert listed == {inside.pk}
        assert api.get(f"/api/v1/privacy/requests/{inside.pk}/").status_code == 200

    def test_changing_the_id_in_the_url_reaches_nothing_that_is_not_yours(
        self, two_requests, two_customers, clients
    ):
        _, outside = two_requests
        api = api_as(client_token(clients[0]))

        assert api.get(f"/api/v1/privacy/requests/{outside.pk}/").status_code == 404
        consents = api.get(f"/api/v1/privacy/requests/consents/{two_customers[1].pk}/")
        assert consents.status_code == 404
        assert (
            api.get(f"/api/v1/privacy/requests/consents/{two_customers[0].pk}/").status_code == 200
        )

    def test_a_client_cannot_file_a_request_for_another_partners_customer(
        self, two_customers, clients
    ):
        api = api_as(client_token(clients[0]))
        before = DataSubjectRequest.objects.count()

        form = {"kind": "erasure", "customer": two_customers[1].pk}

        response = api.post("/api/v1/privacy/requests/", form, format="json")

        assert response.status_code == 400
        assert DataSubjectRequest.objects.count() == before

    def test_a_client_whose_binding_is_revoked_reads_no_request(self, two_requests, clients):
        inside, _ = two_requests
        api = api_as(client_token(clients[0]))
        for binding in clients[0].application.user.role_bindings.all():
            binding.delete()

        assert api.get(f"/api/v1/privacy/requests/{inside.pk}/").status_code in {403, 404}
        listing = api.get("/api/v1/privacy/requests/")
        assert listing.status_code == 403 or listing.json()["results"] == []


# --- Endpoints with no object ----------------------------------------------------------------


class TestEventIngestionApi:
    """Security events are written, never read here: no object, so no IDOR question.

    Anonymous is refused; a person without ``security-events:ingest:all`` is refused and the
    refusal names nothing internal; a client needs the ``events:write`` scope; the permission
    (the "full" person) is admitted.
    """

    covers = ("siem-event-ingest",)
    url = "/api/v1/events/"
    batch = {"events": [{"event_type": "app.test", "severity": "low", "subject": "x"}]}

    def test_an_anonymous_visitor_is_refused(self, db):
        assert APIClient().post(self.url, self.batch, format="json").status_code in {401, 403}

    def test_a_person_without_permission_is_refused_plainly(self, db):
        client = APIClient()
        client.force_authenticate(make_person("nobody.events@example.com"))

        response = client.post(self.url, self.batch, format="json")

        assert response.status_code == 403
        assert "ingest" not in response.content.decode().lower()

    def test_a_client_without_the_events_scope_is_refused(self, acme):
        api = api_as(client_token(register(acme, "Acme crm", {"customers:read"})))

        assert api.post(self.url, self.batch, format="json").status_code == 403

    def test_a_grant_scoped_to_a_partner_does_not_admit(self, db):
        # Events have no owner to narrow by: only the unscoped grant counts.
        writer = give_permissions(
            make_person("scoped.events@example.com"), "security-events:ingest:partner:1"
        )
        client = APIClient()
        client.force_authenticate(writer)

        assert client.post(self.url, self.batch, format="json").status_code == 403

    def test_a_person_with_the_permission_is_admitted(self, db):
        writer = make_person("writer.events@example.com")
        give_permissions(writer, "security-events:ingest:all")
        client = APIClient()
        client.force_authenticate(writer)

        assert client.post(self.url, self.batch, format="json").status_code in {200, 201, 202}


class TestCheckApi:
    """The check API answers about objects, so it is asked the IDOR question by object id."""

    covers = ("rbac-check", "rbac-objects")

    def _client(self, user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    @pytest.fixture
    def people(self, acme, two_customers):
        from tests.rbac.conftest import bind

        nobody = make_person("nobody.check@example.com")
        scoped = make_person("scoped.check@example.com")
        bind("partner-client", user=scoped, scope=f"partner:{acme.pk}")
        full = make_person("full.check@example.com")
        bind("compliance-officer", user=full)
        return {"nobody": nobody, "scoped": scoped, "full": full}

    def question(self, customer, subject):
        return {"subject": subject.pk, "action": "read", "resource": "customers",
                "object": str(customer.pk)}  # fmt: skip

    def test_an_anonymous_visitor_is_refused(self, two_customers):
        inside, _ = two_customers
        client = APIClient()
        assert client.post("/api/v1/authz/check/", self.question(inside, inside.owner),
                           format="json").status_code in {401, 403}  # fmt: skip
        assert client.get("/api/v1/authz/objects/").status_code in {401, 403}

    def test_a_person_without_permission_is_refused_and_recorded(self, people, two_customers):
        inside, _ = two_customers
        before = SecurityEvent.objects.filter(event_type=UNAUTHORIZED).count()

        response = self._client(people["nobody"]).post(
            "/api/v1/authz/check/", self.question(inside, inside.owner), format="json"
        )

        assert response.status_code == 403
        assert "role" not in response.content.decode().lower()
        assert SecurityEvent.objects.filter(event_type=UNAUTHORIZED).count() == before + 1

    def test_a_scoped_caller_asks_about_its_own_objects_only(self, people, two_customers):
        inside, outside = two_customers
        client = self._client(people["scoped"])

        own = client.post("/api/v1/authz/check/", self.question(inside, inside.owner),
                          format="json")  # fmt: skip
        other = client.post("/api/v1/authz/check/", self.question(outside, outside.owner),
                            format="json")  # fmt: skip

        assert own.status_code == 200
        assert other.status_code == 404
        listed = client.get("/api/v1/authz/objects/",
                            {"subject": people["scoped"].pk, "action": "read",
                             "resource": "customers"}).json()["results"]  # fmt: skip
        assert {row["id"] for row in listed} == {str(inside.pk)}

    def test_full_permission_asks_about_every_object(self, people, two_customers):
        inside, outside = two_customers
        client = self._client(people["full"])

        for customer in (inside, outside):
            answer = client.post("/api/v1/authz/check/", self.question(customer, customer.owner),
                                 format="json")  # fmt: skip
            assert answer.status_code == 200
