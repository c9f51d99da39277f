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
"""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from apps.rbac import registry
from apps.rbac.services import bind_role, create_role, ensure_permission, grant_object_permission


class _AccessSuite:
    resource: str
    action = "read"
    list_url: str
    staff = False  # admin pages admit staff only; the suite makes its people staff then

    def detail_url(self, obj) -> str:
        raise NotImplementedError

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

        if declaration.owner:
            owner = get_user_model().objects.get(pk=declaration.owner_id(inside))
            if self.staff and not owner.is_staff:
                owner.is_staff = True
                owner.save(update_fields=["is_staff"])
            bind_role(role=self._role("own"), user=owner, granted_by=None, reason="suite")
            people["own"] = owner
        for kind in declaration.attributes:
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
        return people

    def scoped(self, people):
        return {name: user for name, user in people.items() if name not in {"nobody", "full"}}

    # --- The questions -------------------------------------------------------------------

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

    def test_each_scoped_person_reaches_their_object_and_lists_only_it(
        self, access_objects, access_people
    ):
        inside, outside = access_objects
        for name, person in self.scoped(access_people).items():
            client = self.client_for(person)

            listing = client.get(self.list_url)
            assert self.reached(listing), name
            assert str(inside.pk) in self.listed_ids(listing), name
            assert str(outside.pk) not in self.listed_ids(listing), name
            assert self.reached(client.get(self.detail_url(inside))), name

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

        listing = client.get(self.list_url)
        assert {str(inside.pk), str(outside.pk)} <= self.listed_ids(listing)
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
        return {str(row["id"]) for row in rows}


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
