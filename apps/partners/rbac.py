"""How access control reads the partners app's models.

A customer record: its partner is the scope, its owner the person. A partner is its own scope
(``partner:42`` covers partner 42), and an OAuth application's link names its partner.
"""

from apps.partners.models import Customer, Partner, PartnerApplication
from apps.rbac.registry import declare

declare(Customer, resource="customers", owner="owner", attributes={"partner": "partner"})
declare(Partner, resource="partners", attributes={"partner": "id"})
declare(PartnerApplication, resource="partner-applications", attributes={"partner": "partner"})
