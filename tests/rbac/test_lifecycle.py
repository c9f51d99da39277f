"""Bindings lapse and idle accounts are disabled by the scheduled tasks, on a real worker.

The decisions are taken in this test process with user objects loaded before the worker acted,
as a long-lived process would hold them: the worker's writes must reach them at once.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import User
from apps.partners.models import Customer, Partner
from apps.rbac import tasks
from apps.rbac.models import Role, RoleBinding
from apps.rbac.services import authorize, bind_role
from apps.siem.models import SecurityEvent

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def wait_until(condition, *, timeout=30.0):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


@pytest.fixture
def acme_with_record(db):
    acme = Partner.objects.create(name="Acme")
    return acme, Customer.objects.create(partner=acme, reference="A-1", display_name="x")


def test_an_idle_account_is_disabled_by_the_worker_and_denied_through_a_stale_object(
    celery_worker, acme_with_record
):
    acme, record = acme_with_record
    uma = User.objects.create_user("uma@example.com")
    User.objects.filter(pk=uma.pk).update(last_login=timezone.now() - timedelta(days=400))
    bind_role(
        role=Role.objects.get(name="partner-client"), user=uma, scope=f"partner:{acme.pk}",
        granted_by=None, reason="test",
    )  # fmt: skip
    active_colleague = User.objects.create_user("val@example.com")
    User.objects.filter(pk=active_colleague.pk).update(last_login=timezone.now())
    held_by_a_process = User.objects.get(pk=uma.pk)
    assert authorize(held_by_a_process, "read", "customers", record)

    tasks.disable_inactive_accounts.delay()
    wait_until(lambda: not User.objects.get(pk=uma.pk).is_active)

    assert not authorize(held_by_a_process, "read", "customers", record)
    assert not RoleBinding.objects.filter(user=uma).exists()
    assert User.objects.get(pk=active_colleague.pk).is_active
    event = SecurityEvent.objects.get(event_type="rbac.account.disabled_inactive")
    assert event.subject == f"user:{uma.pk}"
    assert event.details["roles_removed"] == ["partner-client"]


def test_an_expired_binding_is_removed_by_the_worker_and_recorded(celery_worker, acme_with_record):
    acme, record = acme_with_record
    tess = User.objects.create_user("tess@example.com")
    binding = bind_role(
        role=Role.objects.get(name="partner-client"), user=tess, scope=f"partner:{acme.pk}",
        expires_at=timezone.now() + timedelta(hours=1), granted_by=None, reason="test",
    )  # fmt: skip
    RoleBinding.objects.filter(pk=binding.pk).update(expires_at=timezone.now())

    tasks.expire_role_bindings.delay()
    wait_until(lambda: not RoleBinding.objects.filter(pk=binding.pk).exists())

    assert not authorize(tess, "read", "customers", record)
    assert SecurityEvent.objects.filter(event_type="rbac.binding.expired").count() == 1
    # Running it again finds nothing and records nothing more.
    assert tasks.expire_role_bindings() == 0
    assert SecurityEvent.objects.filter(event_type="rbac.binding.expired").count() == 1
