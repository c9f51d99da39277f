"""Personal data partners keep about their customers."""

from django.db.models import Q

from apps.gdpr.registry import ORDER_PARTNER_RECORDS, Provider, Subject, register
from apps.gdpr.rows import rows
from apps.partners.models import Customer


def _records(subject: Subject):
    linked = Q(pk__in=subject.customer_ids)
    if subject.user_id is not None:
        linked |= Q(owner_id=subject.user_id)
    return Customer.objects.filter(linked)


@register
class CustomerProvider(Provider):
    """A partner keeps its customer record (its own reference, for its books); the person goes."""

    name = "partner_customers"
    order = ORDER_PARTNER_RECORDS
    models = ("partners.Customer",)

    def export(self, subject: Subject) -> dict[str, list[dict]]:
        records = _records(subject).order_by("id")
        return {
            "customers": rows(
                records, "id", "partner__name", "reference", "display_name", "email", "created_at"
            )
        }

    def erase(self, subject: Subject) -> dict:
        # Customer ids come from the request, so a second run still finds the records it
        # already cleared and clears them again. One statement for all of them: encrypted
        # fields can be set to NULL by update() (no ciphertext to bind to a row), and the
        # email's blind index goes with the address, since it would still match it.
        cleared = _records(subject).update(
            display_name=None, email=None, email_index=None, owner=None
        )
        return {"pseudonymised": cleared}
