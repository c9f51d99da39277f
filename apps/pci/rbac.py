"""How access control reads a card: its owning user for "own", its partner for "partner:<id>"."""

from apps.pci.models import CardToken
from apps.rbac.registry import declare

declare(CardToken, resource="cards", owner="owner_user", attributes={"partner": "owner_partner"})
