"""Pages that no other browser test walks through keep the Content-Security-Policy too.

The admin (Django's own scripts and widgets) and the API's Swagger UI run scripts of their own;
the ``page`` fixture fails a test on any refusal Chromium reports.
"""

import pytest
from django.test import Client

from tests.support import force_login_verified

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_admin_and_the_api_docs_run_under_the_policy(live_server, page, admin_user):
    signed_in = Client()
    force_login_verified(signed_in, admin_user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": signed_in.cookies["sessionid"].value,
          "url": live_server.url}]
    )  # fmt: skip

    page.goto(f"{live_server.url}/admin/")
    assert (
        page.get_by_role("link", name="Log out").count() + page.locator("#logout-form").count() > 0
    )
    page.goto(f"{live_server.url}/admin/siem/detectionrule/add/")
    page.wait_for_load_state("networkidle")
    page.goto(f"{live_server.url}/admin/accounts/user/{admin_user.pk}/change/")
    page.wait_for_load_state("networkidle")

    page.goto(f"{live_server.url}/api/docs/")
    page.locator(".swagger-ui .info").wait_for()


def test_every_page_answers_with_the_policy(client):
    response = client.get("/accounts/login/")

    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
