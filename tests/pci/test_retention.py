"""Cards are kept 90 days unless renewed; a scheduled task run by a real worker purges them."""

import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from apps.pci import services
from apps.pci.access import Caller
from apps.pci.models import CardToken
from apps.pci.tasks import purge_expired_card_tokens
from apps.siem.models import SecurityEvent
from tests.pci import cards


def save_card(owner, number, *, expired: bool):
    card, _ = services.tokenize_card(
        pan=number, expiry_month=12, expiry_year=2030, owner=owner,
        actor=Caller.for_user(owner),
    )  # fmt: skip
    if expired:
        CardToken.objects.filter(pk=card.pk).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )
    return card


def wait_until(condition, *, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.2)


@pytest.mark.django_db
def test_a_new_card_is_kept_for_90_days(customer):
    card = save_card(customer, cards.VISA, expired=False)

    kept_for = card.expires_at - card.created_at
    assert kept_for == timedelta(days=90)


@pytest.mark.django_db
def test_renewing_a_card_keeps_it_90_days_from_now(customer):
    card = save_card(customer, cards.VISA, expired=True)

    services.renew_card_token(card=card, actor=Caller.for_user(customer))

    card.refresh_from_db()
    assert card.expires_at > timezone.now() + timedelta(days=89)


def test_the_purge_is_scheduled_with_celery_beat():
    entry = settings.CELERY_BEAT_SCHEDULE["pci-purge-expired-card-tokens"]

    assert entry["task"] == purge_expired_card_tokens.name
    assert entry["schedule"] <= 24 * 60 * 60


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_purges_expired_cards_once_and_keeps_the_rest(customer, celery_worker):
    expired = save_card(customer, cards.VISA, expired=True)
    kept = save_card(customer, cards.MASTERCARD, expired=False)

    purge_expired_card_tokens.delay()
    wait_until(lambda: not CardToken.objects.filter(pk=expired.pk).exists())
    # A second run, as after a redelivery, finds nothing more to do.
    purge_expired_card_tokens.delay()
    wait_until(lambda: celery_worker.log().count("purge_expired_card_tokens") >= 4)

    assert CardToken.objects.filter(pk=kept.pk).exists()
    purged = SecurityEvent.objects.filter(details__action="card.purged")
    assert list(purged.values_list("subject", flat=True)) == [f"card:{expired.token}"]
    assert purged.get().actor == "system:retention"
