"""The actions of the libraries' admin pages change rows, so reading a page does not run them.

django-celery-beat's "disable / run tasks", django-oauth-toolkit's "revoke tokens" and allauth's
"mark as verified" name no permission, which Django reads as "whoever opens the list". Rhea
holds a read-only role on each page (a support desk that looks things up) and must not be able
to stop the scheduler's tasks, sign people out of their clients or vouch for an address.
"""

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.test import Client
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from oauth2_provider.models import AccessToken

from tests.conftest import give_permissions, make_person
from tests.support import force_login_verified

pytestmark = pytest.mark.django_db


def _reader_of(resource):
    rhea = make_person(f"rhea.{resource}@example.com", is_staff=True)
    give_permissions(rhea, f"{resource}:read:all")
    browser = Client()
    force_login_verified(browser, rhea)
    return browser


def _run(browser, url, action, row):
    return browser.post(url, {"action": action, "_selected_action": [row.pk], "post": "yes"})


def test_a_reader_of_scheduled_tasks_cannot_disable_them():
    every_minute = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.MINUTES)
    task = PeriodicTask.objects.create(
        name="expire bindings", task="apps.rbac.tasks.expire_role_bindings",
        interval=every_minute, enabled=True,
    )  # fmt: skip
    browser = _reader_of("scheduled-tasks")

    _run(browser, "/admin/django_celery_beat/periodictask/", "disable_tasks", task)

    task.refresh_from_db()
    assert task.enabled


def test_a_reader_of_oauth_tokens_cannot_revoke_them():
    holder = make_person("tom.tokens@example.com")
    token = AccessToken.objects.create(
        user=holder, token="not-a-real-token", expires=timezone.now() + timedelta(hours=1)
    )
    browser = _reader_of("oauth-tokens")

    _run(browser, "/admin/oauth2_provider/accesstoken/", "revoke_tokens", token)

    assert AccessToken.objects.filter(pk=token.pk).exists()


def test_a_reader_of_email_addresses_cannot_mark_one_verified():
    claimant = make_person("someone@example.com", verified=False)
    address = EmailAddress.objects.get(user=claimant)
    browser = _reader_of("email-addresses")

    _run(browser, "/admin/account/emailaddress/", "make_verified", address)

    address.refresh_from_db()
    assert not address.verified
