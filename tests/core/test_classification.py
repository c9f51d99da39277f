"""The classification registry is enforced by a system check, and retention by a task."""

import datetime

import pytest
from django.core import checks
from django.db import models
from django.test.utils import isolate_apps
from django.utils import timezone

from apps.accounts.models import Profile
from apps.core.classification import (
    classification_errors,
    classified,
    confidential,
    internal,
    restricted,
)
from apps.core.crypto import EncryptedModel, EncryptedTextField
from apps.core.models import RetentionRecord
from apps.core.retention import apply_retention_policies
from tests.conftest import make_person


def error_ids(model):
    return [error.id for error in classification_errors([model])]


@isolate_apps("apps.core")
def test_the_check_fails_for_an_unencrypted_confidential_field():
    @classified(personal=True, fields={"id": internal(), "salary": confidential()})
    class Payslip(models.Model):  # noqa: DJ008 - a throwaway model, never shown
        salary = models.CharField(max_length=20)

        class Meta:
            app_label = "core"

    errors = classification_errors([Payslip])

    assert [error.id for error in errors] == ["core.E114"]
    assert errors[0].level == checks.ERROR
    assert errors[0].msg == "core.Payslip.salary is confidential but not encrypted"


@isolate_apps("apps.core")
def test_the_check_fails_for_an_unclassified_field_of_a_personal_model():
    @classified(personal=True, fields={"id": internal()})
    class Contact(models.Model):  # noqa: DJ008 - a throwaway model, never shown
        nickname = models.CharField(max_length=20)

        class Meta:
            app_label = "core"

    assert error_ids(Contact) == ["core.E113"]


@isolate_apps("apps.core")
def test_the_check_fails_for_encrypted_fields_on_an_unclassified_model():
    class Secretive(EncryptedModel):
        note = EncryptedTextField(null=True)

        class Meta:
            app_label = "core"

    assert error_ids(Secretive) == ["core.E111"]


@isolate_apps("apps.core")
def test_the_check_accepts_an_encrypted_restricted_field():
    @classified(
        personal=True,
        fields={"id": internal(), "row_nonce": internal(), "passport": restricted()},
    )
    class Traveller(EncryptedModel):
        passport = EncryptedTextField(null=True)

        class Meta:
            app_label = "core"

    assert error_ids(Traveller) == []


@isolate_apps("apps.core")
def test_the_check_fails_for_a_field_stored_outside_its_regions(settings):
    settings.PORTAL_DATA_REGION = "us"

    @classified(personal=False, fields={"id": internal(regions=("eu",))})
    class Ledger(models.Model):  # noqa: DJ008 - a throwaway model, never shown
        class Meta:
            app_label = "core"

    assert error_ids(Ledger) == ["core.E115"]


def test_the_installed_models_pass_the_check():
    assert checks.run_checks(tags=[checks.Tags.security]) == []


# --- Retention --------------------------------------------------------------------------


@pytest.mark.django_db
def test_retention_clears_expired_fields_once_and_records_it():
    old_user, new_user = make_person("old@example.com"), make_person("new@example.com")
    for user in (old_user, new_user):
        Profile.objects.create(
            user=user, first_name="Kept", address="1 Old Street",
            date_of_birth=datetime.date(1970, 1, 1),
        )  # fmt: skip
    four_years_ago = timezone.now() - datetime.timedelta(days=4 * 365)
    Profile.objects.filter(user=old_user).update(updated_at=four_years_ago)

    first = apply_retention_policies()
    second = apply_retention_policies()

    old, new = Profile.objects.get(user=old_user), Profile.objects.get(user=new_user)
    assert (old.address, old.date_of_birth, old.first_name) == (None, None, "Kept")
    assert (new.address, new.date_of_birth) == ("1 Old Street", datetime.date(1970, 1, 1))
    assert sorted((r.field_name, r.action, r.rows) for r in first) == [
        ("address", "anonymised", 1),
        ("date_of_birth", "anonymised", 1),
    ]
    assert second == []
    assert RetentionRecord.objects.count() == 2


def test_retention_runs_every_day_on_the_scheduler(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["core-apply-retention"]

    assert entry == {"task": "apps.core.tasks.apply_retention", "schedule": 24 * 60 * 60}


@isolate_apps("apps.core")
def test_encrypted_fields_on_a_model_that_is_not_an_encrypted_model_fail_the_check():
    # A row nonce of its own is not enough: EncryptedModel is also what loads ciphertext as
    # sealed values, without which a stored ciphertext would be read back as the plain value.
    class Lookalike(models.Model):  # noqa: DJ008 - a throwaway model, never shown
        row_nonce = models.UUIDField(unique=True)
        note = EncryptedTextField(null=True)

        class Meta:
            app_label = "core"

    class Proper(EncryptedModel):
        note = EncryptedTextField(null=True)

        class Meta:
            app_label = "core"

    assert [error.id for error in Lookalike._meta.get_field("note").check()] == ["core.E101"]
    assert Proper._meta.get_field("note").check() == []
