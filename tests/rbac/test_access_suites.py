"""The access suite, applied to every protected model this app and the partner admin expose."""

import pytest

from apps.accounts.models import User
from apps.partners.models import Customer, Partner
from apps.rbac.models import AccessReview
from tests.access_suite import AdminAccessSuite, ApiAccessSuite


@pytest.fixture
def two_reviews(db):
    """One review taken by Rhea, one by Sam: each owns one."""
    rhea = User.objects.create_user("rhea@example.com")
    sam = User.objects.create_user("sam@example.com")
    return AccessReview.objects.create(created_by=rhea), AccessReview.objects.create(
        created_by=sam
    )


@pytest.fixture
def two_customers(db):
    """Casey's record at Acme and someone else's at Bolt: they differ in owner and partner."""
    casey = User.objects.create_user("casey.suite@example.com")
    acme, bolt = Partner.objects.create(name="Acme"), Partner.objects.create(name="Bolt")
    inside = Customer.objects.create(partner=acme, owner=casey, reference="A", display_name="a")
    outside = Customer.objects.create(partner=bolt, reference="B", display_name="b")
    return inside, outside


class TestAccessReviewApi(ApiAccessSuite):
    resource = "access-reviews"
    list_url = "/api/v1/access-reviews/"
    covers = ("access-review-list", "access-review-detail")

    def detail_url(self, obj):
        return f"/api/v1/access-reviews/{obj.pk}/"

    @pytest.fixture
    def access_objects(self, two_reviews):
        return two_reviews


class TestAccessReviewAdmin(AdminAccessSuite):
    resource = "access-reviews"
    list_url = "/admin/rbac/accessreview/"
    covers = (AccessReview,)

    def detail_url(self, obj):
        return f"/admin/rbac/accessreview/{obj.pk}/change/"

    @pytest.fixture
    def access_objects(self, two_reviews):
        return two_reviews


class TestCustomerAdmin(AdminAccessSuite):
    resource = "customers"
    list_url = "/admin/partners/customer/"
    covers = (Customer,)

    def detail_url(self, obj):
        return f"/admin/partners/customer/{obj.pk}/change/"

    @pytest.fixture
    def access_objects(self, two_customers):
        return two_customers


def test_staff_find_a_customer_by_exact_email_whatever_its_case(client, two_customers):
    from apps.rbac.services import bind_role, create_role, ensure_permission
    from tests.support import force_login_verified

    inside, _ = two_customers
    inside.email = "Casey@Example.com"
    inside.save()
    officer = User.objects.create_user("officer@example.com", is_staff=True)
    role = create_role(
        name="customer-readers", permissions=[ensure_permission("customers:read:all")],
        created_by=None, reason="test",
    )  # fmt: skip
    bind_role(role=role, user=officer, granted_by=None, reason="test")
    force_login_verified(client, officer)

    response = client.get("/admin/partners/customer/", {"q": "casey@example.COM"})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [inside]
