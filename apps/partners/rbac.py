"""How access control reads a customer record: its partner is the scope, its owner the person."""

from apps.partners.models import Customer
from apps.rbac.registry import declare

declare(Customer, resource="customers", owner="owner", attributes={"partner": "partner"})
