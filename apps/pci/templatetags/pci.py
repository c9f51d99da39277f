from django import template

from apps.pci.models import CardToken

register = template.Library()

SAVED_CARDS_SHOWN = 20


@register.inclusion_tag("pci/saved_cards.html")
def saved_cards(user):
    """The "saved cards" section of the account page: masked cards and a way to remove each."""
    cards = CardToken.objects.filter(owner_user=user).only(
        "token", "brand", "last_four", "expiry_month", "expiry_year", "expires_at"
    )[:SAVED_CARDS_SHOWN]
    return {"cards": cards}
