"""The vault is in the data classification registry, and the system check covers it."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import models, transaction
from django.test.utils import isolate_apps
from django.utils import timezone

from apps.core.classification import (
    DataClass,
    RetentionAction,
    classification_errors,
    classified,
    internal,
    policy_of,
    restricted,
)
from apps.core.retention import apply_retention_policies
from apps.pci import services
from apps.pci.access import Caller
from apps.pci.models import CardToken
from tests.pci import cards


def test_every_field_of_a_stored_card_is_classified_and_the_check_passes():
    policy = policy_of(CardToken)

    assert policy is not None
    assert policy.personal
    assert {f.name for f in CardToken._meta.concrete_fields} == set(policy.fields)
    assert classification_errors([CardToken]) == []


def test_the_card_number_is_restricted_encrypted_access_logged_and_kept_90_days():
    number = policy_of(CardToken).fields["pan_ciphertext"]

    assert number.data_class == DataClass.RESTRICTED
    assert number.must_be_encrypted
    assert number.access_logged
    assert number.retention_days == settings.PCI_CARD_RETENTION_DAYS == 90
    assert number.retention_action == RetentionAction.DELETE


@pytest.mark.parametrize("name", ["fingerprint", "last_four", "brand", "expiry_month"])
def test_what_may_be_shown_of_a_card_is_declared_too(name):
    assert policy_of(CardToken).fields[name].data_class == DataClass.INTERNAL


@isolate_apps("apps.core")
def test_the_check_would_fail_a_vault_that_kept_the_number_in_a_plain_column():
    @classified(
        personal=True,
        retention_enforced_by="a task",
        fields={
            "id": internal(),
            "pan_ciphertext": restricted(
                retention_days=90, retention_action=RetentionAction.DELETE
            ),
        },
    )
    class CarelessVault(models.Model):  # noqa: DJ008 - a throwaway model, never shown
        pan_ciphertext = models.BinaryField()

        class Meta:
            app_label = "core"

    assert [error.id for error in classification_errors([CarelessVault])] == ["core.E114"]


@pytest.mark.django_db
def test_a_number_that_is_not_a_ciphertext_is_never_written(customer):
    card, _ = services.tokenize_card(
        pan=cards.VISA, expiry_month=12, expiry_year=2030, owner=customer,
        actor=Caller.for_user(customer),
    )  # fmt: skip

    card.pan_ciphertext = cards.VISA.encode()
    with pytest.raises(ValueError, match="not encrypted") as refused, transaction.atomic():
        card.save(update_fields=["pan_ciphertext"])

    assert cards.VISA not in str(refused.value)
    stored = bytes(CardToken.objects.get(pk=card.pk).pan_ciphertext)
    assert cards.VISA.encode() not in stored


@pytest.mark.django_db
def test_the_vault_keeps_cards_for_the_declared_period_and_the_generic_run_leaves_them(
    customer,
):
    """Renewal restarts a card's period, which the generic retention run (counting from one
    column) cannot know: the vault's own purge enforces it, so the generic run skips cards."""
    before = timezone.now()
    card, _ = services.tokenize_card(
        pan=cards.VISA, expiry_month=12, expiry_year=2030, owner=customer,
        actor=Caller.for_user(customer),
    )  # fmt: skip

    assert card.expires_at - before >= timedelta(days=90)
    assert card.expires_at - before < timedelta(days=90, minutes=1)
    apply_retention_policies(now=timezone.now() + timedelta(days=365), models=[CardToken])
    assert CardToken.objects.filter(pk=card.pk).exists()
