"""The admin site's own views, beside its pages, add no way around the portal.

Django's admin offers ``/admin/password_change/``: old password, new password, done. The
portal's page does more (it records ``auth.password.changed`` and offers to end other
sessions), so the admin's form sends staff there instead of changing anything itself.

``/admin/r/<content type>/<id>/`` ("view on site") loads any row of any model, whoever asks,
and redirects to its public page. No model of ours has one; the OAuth toolkit's application
names a page the portal does not mount. It answers 404 for everything.
"""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse
from oauth2_provider.models import Application

from tests.conftest import give_permissions, make_person
from tests.support import STRONG_PASSWORD, force_login_verified

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "another long passphrase for Otto 2026"


@pytest.fixture
def otto():
    """A staff member who reads security events, signed in with a second factor."""
    return give_permissions(
        make_person("otto.staff@example.com", is_staff=True), "security-events:read:all"
    )


def test_the_admin_password_form_sends_staff_to_the_portal_page(otto):
    browser = Client()
    force_login_verified(browser, otto)

    response = browser.get("/admin/password_change/")

    assert response.status_code == 302
    assert response["Location"] == reverse("account_change_password")


def test_posting_to_the_admin_password_form_changes_nothing(otto):
    browser = Client()
    force_login_verified(browser, otto)
    form = {"old_password": STRONG_PASSWORD, "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD}  # fmt: skip

    response = browser.post("/admin/password_change/", form)

    assert response.status_code == 302
    otto.refresh_from_db()
    assert otto.check_password(STRONG_PASSWORD)


def test_view_on_site_finds_nothing_whatever_the_id(otto):
    application = Application.objects.create(
        name="crm", client_type="confidential", authorization_grant_type="client-credentials"
    )
    content_type = ContentType.objects.get_for_model(Application)
    browser = Client()
    force_login_verified(browser, otto)

    existing = browser.get(f"/admin/r/{content_type.pk}/{application.pk}/")
    missing = browser.get(f"/admin/r/{content_type.pk}/{application.pk + 1000}/")

    assert existing.status_code == missing.status_code == 404
