"""Cards the subject stored in the vault."""

from apps.gdpr.registry import ORDER_CREDENTIALS, Provider, Subject, register
from apps.gdpr.rows import rows
from apps.pci.models import CardToken
from apps.siem.events import emit


@register
class CardProvider(Provider):
    """Exported masked (brand, last four, expiry); erased by deleting the only ciphertext."""

    name = "cards"
    order = ORDER_CREDENTIALS + 40
    models = ("pci.CardToken",)

    def export(self, subject: Subject) -> dict[str, list[dict]]:
        cards = CardToken.objects.filter(owner_user_id=subject.user_id).order_by("created_at")
        return {
            "cards": rows(cards, "token", "brand", "last_four", "expiry_month", "expiry_year",
                          "created_at")
        }  # fmt: skip

    def erase(self, subject: Subject) -> dict:
        tokens = list(
            CardToken.objects.filter(owner_user_id=subject.user_id).values_list("token", flat=True)
        )
        deleted, _ = CardToken.objects.filter(token__in=tokens).delete()
        if tokens:
            emit(
                "data.modification",
                actor="system:gdpr",
                subject=subject.pseudonym,
                details={"action": "cards.erased", "cards": tokens},
            )
        return {"deleted": deleted}
