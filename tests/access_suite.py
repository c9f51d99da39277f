"""The access suite: the same five questions asked of every protected endpoint and admin page.

Anonymous, no permission, scoped permission (own / each declared attribute / object grant)
and full permission; plus IDOR: changing the id in a URL reaches nothing that is not yours.
To run it against an endpoint, subclass one of the two suites in a test module::

    from tests.access_suite import ApiAccessSuite

    class TestCustomerApi(ApiAccessSuite):
        resource = "customers"
        list_url = "/api/v1/customers/"

        def detail_url(self, obj):
            return f"/api/v1/customers/{obj.pk}/"

        @pytest.fixture
        def access_objects(self, db):
            # Two objects that differ in owner and in every declared scope attribute;
            # `inside` must have an owner when the model declares one.
            ...
            return inside, outside

The suite builds its own people from the model's declaration (``apps.rbac.registry``): a
person with no role, the owner of ``inside`` holding ``<resource>:<action>:own``, one person
per declared attribute bound to ``inside``'s value, one with an object grant on ``inside``,
and one with ``<resource>:<action>:all``. Override ``listed_ids()`` when the list answer is
not shaped like REST framework's paginated ``results``.

Where an endpoint legitimately differs, the subclass says so in the open rather than skipping
a question: ``unlisted = {"object grant": "why"}`` names people whose objects a list does not
show, ``list_urls_for()`` gives the lists a person reads (a partner's cards are listed with
``?partner=<id>``), ``refusal_url_for()`` names where a person without permission is
refused when it is not the list, ``refusal_differs`` explains an endpoint that answers such a
person with an empty list instead of a refusal, and ``absent_people`` names people the objects
cannot have (a card a person owns has no partner). A person missing without a reason fails.

Each subclass names the routes or admin models it covers (``covers``); the coverage guard in
``tests/access/test_coverage.py`` fails when an endpoint or admin page is covered by none.
"""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from rest_framework.test import APIClient

from apps.rbac import registry
from apps.rbac.services import bind_role, create_role, ensure_permission, grant_object_permission
from apps.siem.models import SecurityEvent

UNAUTHORIZED = "auth.unauthorized.access"
# Words a refusal body must never carry: they would tell a caller how the decision was made.
INTERNAL_WORDS = ("traceback", "rbac", "role", "scope", "binding", "queryset", "select ", "sql")


class _AccessSuite:
    resource: str
    action = "read"
    list_url: str
    staff = False  # admin pages admit staff only; the suite makes its people staff then
    covers: tuple = ()  # route names (API) or models (admin) this subclass answers for
    row_key = "id"  # the field of a listed row that identifies the object
    unlisted: dict[str, str] = {}  # person -> why a list does not show their object
    absent_people: dict[str, str] = {}  # person -> why `inside` cannot have one
    refusal_url: str | None = None  # defaults to list_url
    refusal_differs = ""  # why a person without permission is not refused, when not

    def detail_url(self, obj) -> str:
        raise NotImplementedError

    def object_key(self, obj) -> str:
        return str(obj.pk)

    def list_urls_for(self, name, inside, outside) -> list[str]:
        """The lists person ``name`` reads; ``full`` must see both objects across them."""
        return [self.list_url]

    def client_for(self, user):
        raise NotImplementedError

    def anonymous_client(self):
        raise NotImplementedError

    def listed_ids(self, response) -> set[str]:
        raise NotImplementedError

    def reached(self, response) -> bool:
        return response.status_code == 200

    # --- The people ----------------------------------------------------------------------

    def _person(self, name):
        return get_user_model().objects.create_user(
            f"{name}@access-suite.test", is_staff=self.staff
        )

    def _role(self, scope):
        text = f"{self.resource}:{self.action}:{scope}"
        return create_role(
            name=f"suite-{self.resource}-{scope}"[:64], permissions=[ensure_permission(text)],
            created_by=None, reason="access suite",
        )  # fmt: skip

    @pytest.fixture
    def access_people(self, access_objects):
        inside, _ = access_objects
        declaration = registry.for_resource(self.resource)
        people = {"nobody": self._person("nobody")}
        if declaration is None:
            return self._people_of_an_undeclared_resource(people)

        if declaration.owner and declaration.owner_id(inside) is not None:
            owner = get_user_model().objects.get(pk=declaration.owner_id(inside))
            if self.staff and not owner.is_staff:
                owner.is_staff = True
                owner.save(update_fields=["is_staff"])
            bind_role(role=self._role("own"), user=owner, granted_by=None, reason="suite")
            people["own"] = owner
        for kind in declaration.attributes:
            if declaration.attribute_value(inside, kind) is None:
                continue  # e.g. a card owned by a person has no partner; see absent_people
            person = self._person(f"attribute-{kind}")
            scope = f"{kind}:{declaration.attribute_value(inside, kind)}"
            bind_role(role=self._role(kind), user=person, scope=scope, granted_by=None,
                      reason="suite")  # fmt: skip
            people[f"attribute:{kind}"] = person
        grantee = self._person("grantee")
        grant_object_permission(inside, self.action, user=grantee, granted_by=None, reason="suite")
        people["object grant"] = grantee
        full = self._person("full")
        bind_role(role=self._role("all"), user=full, granted_by=None, reason="suite")
        people["full"] = full

        expected = {"nobody", "object grant", "full"} | {
            f"attribute:{kind}" for kind in declaration.attributes
        }
        if declaration.owner:
            expected.add("own")
        missing = expected - set(people)
        assert missing == set(self.absent_people), f"say why these are absent: {missing}"
        return people

    def _people_of_an_undeclared_resource(self, people):
        """Nothing narrows such a resource's rows, so a scoped grant must not open it at all."""
        role = self._role("all")
        narrowed = self._person("partner-scoped")
        bind_role(role=role, user=narrowed, scope="partner:1", granted_by=None, reason="suite")
        people["scoped elsewhere"] = narrowed
        full = self._person("full")
        bind_role(role=role, user=full, granted_by=None, reason="suite")
        people["full"] = full
        return people

    def scoped(self, people):
        if registry.for_resource(self.resource) is None:
            return {}  # an undeclared resource has no scoped people, only "scoped elsewhere"
        return {name: user for name, user in people.items() if name not in {"nobody", "full"}}

    def test_a_scoped_grant_does_not_open_a_resource_that_cannot_be_narrowed(
        self, access_objects, access_people
    ):
        inside, _ = access_objects
        if registry.for_resource(self.resource) is not None:
            assert set(self.scoped(access_people)) >= {"object grant"}
            return  # declared: the scoped people are asked below, object by object
        client = self.client_for(access_people["scoped elsewhere"])

        assert not self.reached(client.get(self.list_url))
        assert not self.reached(client.get(self.detail_url(inside)))

    # --- The questions -------------------------------------------------------------------

    def listed_across(self, client, urls) -> set[str]:
        seen = set()
        for url in urls:
            listing = client.get(url)
            assert self.reached(listing), (url, listing.status_code)
            seen |= self.listed_ids(listing)
        return seen

    def test_an_anonymous_visitor_reaches_neither_list_nor_object(self, access_objects):
        inside, _ = access_objects
        client = self.anonymous_client()

        assert not self.reached(client.get(self.list_url))
        assert not self.reached(client.get(self.detail_url(inside)))

    def test_a_person_without_permission_reaches_no_object(self, access_objects, access_people):
        inside, outside = access_objects
        client = self.client_for(access_people["nobody"])

        listing = client.get(self.list_url)
        assert not self.reached(listing) or self.listed_ids(listing) == set()
        assert not self.reached(client.get(self.detail_url(inside)))
        assert not self.reached(client.get(self.detail_url(outside)))

    def refusal_url_for(self, inside, outside) -> str:
        """Where a person without permission is refused; the list unless said otherwise."""
        return self.refusal_url or self.list_url

    def test_a_refusal_names_no_internals_and_is_recorded_once(
        self, access_objects, access_people
    ):
        url = self.refusal_url_for(*access_objects)
        if self.refusal_differs:
            pytest.skip(f"declared: {self.refusal_differs}")
        nobody = access_people["nobody"]
        before = SecurityEvent.objects.filter(event_type=UNAUTHORIZED).count()

        response = self.client_for(nobody).get(url)

        assert response.status_code == 403
        body = response.content.decode(errors="replace").lower()
        for word in (*INTERNAL_WORDS, nobody.email.lower(), connection.settings_dict["NAME"]):
            assert word not in body, word
        refusals = SecurityEvent.objects.filter(event_type=UNAUTHORIZED).order_by("-id")
        assert refusals.count() == before + 1
        assert refusals.first().actor == f"user:{nobody.pk}"

    def test_each_scoped_person_reaches_their_object_and_lists_only_it(
        self, access_objects, access_people
    ):
        inside, outside = access_objects
        for name, person in self.scoped(access_people).items():
            client = self.client_for(person)

            assert self.reached(client.get(self.detail_url(inside))), name
            if name in self.unlisted:
                continue  # declared on the subclass, with the reason
            listed = self.listed_across(client, self.list_urls_for(name, inside, outside))
            assert self.object_key(inside) in listed, name
            assert self.object_key(outside) not in listed, name

    def test_changing_the_id_in_the_url_reaches_nothing_that_is_not_yours(
        self, access_objects, access_people
    ):
        _, outside = access_objects
        for name, person in self.scoped(access_people).items():
            response = self.client_for(person).get(self.detail_url(outside))

            assert not self.reached(response), name
            assert response.status_code in {302, 403, 404}, name

    def test_full_permission_reaches_every_object(self, access_objects, access_people):
        inside, outside = access_objects
        client = self.client_for(access_people["full"])

        if "full" not in self.unlisted:
            listed = self.listed_across(client, self.list_urls_for("full", inside, outside))
            assert {self.object_key(inside), self.object_key(outside)} <= listed
        assert self.reached(client.get(self.detail_url(inside)))
        assert self.reached(client.get(self.detail_url(outside)))


class ApiAccessSuite(_AccessSuite):
    """For REST framework endpoints, called with a forced identity."""

    def client_for(self, user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    def anonymous_client(self):
        return APIClient()

    def listed_ids(self, response) -> set[str]:
        body = response.json()
        rows = body["results"] if isinstance(body, dict) else body
        return {str(row[self.row_key]) for row in rows}


class AdminAccessSuite(_AccessSuite):
    """For Django admin pages: a changelist and the change page of one object."""

    staff = True

    def client_for(self, user):
        from django.test import Client

        from tests.support import force_login_verified

        client = Client()
        force_login_verified(client, user)  # the admin admits verified second factors only
        return client

    def anonymous_client(self):
        from django.test import Client

        return Client()

    def listed_ids(self, response) -> set[str]:
        if response.status_code != 200 or response.context is None:
            return set()
        return {str(obj.pk) for obj in response.context["cl"].result_list}
