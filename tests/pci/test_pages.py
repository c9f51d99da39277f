"""Cards on pages and in the admin: brand and last four, never more."""

import csv
import io

import pytest
from django.urls import reverse

from apps.pci import services
from apps.pci.access import Caller
from apps.pci.models import CardToken
from apps.siem.models import SecurityEvent
from tests.conftest import give_permissions, make_person
from tests.pci import cards
from tests.support import force_login_verified

pytestmark = pytest.mark.django_db


def save_card(owner, number=cards.VISA):
    card, _ = services.tokenize_card(
        pan=number, expiry_month=12, expiry_year=2030, owner=owner,
        actor=Caller.for_user(owner),
    )  # fmt: skip
    return card


@pytest.fixture
def vault_admin(db):
    """Vera, staff who may browse and delete cards and read the vault access log."""
    user = make_person("vera@example.com", is_staff=True)
    give_permissions(user, "cards:read:all", "cards:delete:all", "security-events:read:all")
    return user


def test_the_account_page_lists_saved_cards_masked(client, customer, mallory):
    save_card(customer, cards.VISA)
    save_card(mallory, cards.MASTERCARD)
    client.force_login(customer)

    page = client.get(reverse("account_overview")).content.decode()

    assert "Saved cards" in page
    assert "Visa •••• 1111" in page
    assert "4444" not in page, "another user's card must not be listed"
    assert cards.VISA not in page


def test_a_user_removes_a_saved_card_from_the_account_page(client, customer):
    card = save_card(customer)
    client.force_login(customer)

    response = client.post(reverse("pci:delete_card", args=[card.token]))

    assert response.status_code == 302
    assert not CardToken.objects.exists()
    assert SecurityEvent.objects.filter(details__action="card.deleted").exists()


def test_a_user_cannot_remove_someone_elses_card(client, customer, mallory):
    card = save_card(customer)
    client.force_login(mallory)

    response = client.post(reverse("pci:delete_card", args=[card.token]))

    assert response.status_code == 404
    assert CardToken.objects.filter(pk=card.pk).exists()


def test_the_admin_shows_cards_masked_and_never_the_ciphertext(client, customer, vault_admin):
    card = save_card(customer, cards.AMEX)
    force_login_verified(client, vault_admin)

    listing = client.get(reverse("admin:pci_cardtoken_changelist")).content.decode()
    detail = client.get(reverse("admin:pci_cardtoken_change", args=[card.pk])).content.decode()

    for page in (listing, detail):
        assert "Amex •••• 0005" in page
        assert cards.AMEX not in page
        assert "ciphertext" not in page.lower()
        assert card.fingerprint not in page


def test_the_admin_export_of_cards_is_masked(client, customer, vault_admin):
    card = save_card(customer, cards.AMEX)
    force_login_verified(client, vault_admin)

    response = client.post(
        reverse("admin:pci_cardtoken_changelist"),
        {"action": "export_masked_csv", "_selected_action": [card.pk]},
    )

    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1][:3] == [card.token, "Amex •••• 0005", "12/30"]
    assert cards.AMEX not in response.content.decode()


def test_the_vault_access_log_lists_detokenisations_and_refusals(
    client, customer, mallory, vault_admin
):
    card = save_card(customer)
    with pytest.raises(services.DetokenizationRefused):
        services.detokenize_card(
            token=card.token, purpose="curious", actor=Caller.for_user(mallory)
        )
    force_login_verified(client, vault_admin)

    page = client.get(reverse("admin:pci_cardaccessevent_changelist")).content.decode()

    assert f"card:{card.token}" in page
    assert "not_permitted" in page
    assert "curious" in page
    assert "card.tokenized" not in page, "only access events belong in the access log"


def test_deleting_a_card_in_the_admin_goes_through_the_service(client, customer, vault_admin):
    card = save_card(customer)
    force_login_verified(client, vault_admin)

    client.post(
        reverse("admin:pci_cardtoken_changelist"),
        {"action": "delete_selected", "_selected_action": [card.pk], "post": "yes"},
    )

    assert not CardToken.objects.exists()
    event = SecurityEvent.objects.get(details__action="card.deleted")
    assert event.actor == f"user:{vault_admin.pk}"


def test_removing_a_card_by_an_address_no_token_could_have_is_not_found(client, customer):
    client.force_login(customer)

    response = client.post("/account/cards/tok_\x00/delete/")

    assert response.status_code == 404
