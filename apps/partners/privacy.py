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
        # already pseudonymised and writes the same values again.
        # Row by row: the name and email are encrypted fields bound to their row, which
        # QuerySet.update() cannot write.
        updated = 0
        for record in _records(subject):
            record.display_name = f"erased {subject.pseudonym}"
            record.email = ""
            record.owner = None
            # The blind index goes too: left alone, it would still match the old address.
            record.save(update_fields=["display_name", "email", "email_index", "owner"])
            updated += 1
        return {"pseudonymised": updated}
