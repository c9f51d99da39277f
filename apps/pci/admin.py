import csv

from django.contrib import admin
from django.http import HttpResponse
from django.urls import reverse
from django.utils.html import format_html

from apps.pci import services
from apps.pci.access import Caller
from apps.pci.models import CardAccessEvent, CardToken
from apps.rbac.admin_access import RbacAdminMixin


@admin.register(CardToken)
class CardTokenAdmin(RbacAdminMixin, admin.ModelAdmin):
    """Cards as brand and last four only; the number never appears here, not even encrypted.

    Opened and narrowed by apps.rbac like the vault's API: ``cards:read`` lists the cards its
    scope covers, ``cards:delete`` removes them (through the service, which decides again).
    """

    rbac_resource = "cards"

    list_display = ["token", "masked", "expiry", "owner_user", "owner_partner", "expires_at"]
    list_filter = ["brand", "token_format"]
    search_fields = ["token", "last_four"]
    fields = [
        "token", "token_format", "masked", "expiry", "owner_user", "owner_partner",
        "created_at", "created_by", "created_via", "renewed_at", "expires_at", "reveal",
    ]  # fmt: skip
    readonly_fields = fields
    actions = ["export_masked_csv"]

    @admin.display(description="card")
    def masked(self, card):
        return card.masked

    @admin.display(description="expiry")
    def expiry(self, card):
        return card.expiry

    @admin.display(description="card number")
    def reveal(self, card):
        # The page asks for a reason and a fresh second factor, and records every attempt.
        url = reverse("pci:reveal_card", args=[card.token])
        return format_html('<a href="{}">Reveal (recorded, needs a reason)</a>', url)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        services.delete_card_token(card=obj, actor=Caller.for_user(request.user))

    def delete_queryset(self, request, queryset):
        for card in queryset:
            self.delete_model(request, card)

    @admin.action(description="Export selected cards (masked) as CSV")
    def export_masked_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="cards.csv"'
        writer = csv.writer(response)
        writer.writerow(["token", "card", "expiry", "owner", "created_at", "expires_at"])
        for card in queryset.select_related("owner_user", "owner_partner"):
            writer.writerow(
                [
                    card.token,
                    card.masked,
                    card.expiry,
                    services.owner_reference(card.owner),
                    card.created_at.isoformat(),
                    card.expires_at.isoformat(),
                ]
            )
        return response


@admin.register(CardAccessEvent)
class CardAccessEventAdmin(RbacAdminMixin, admin.ModelAdmin):
    """The vault access log: who asked for which card's number, why, and whether they got it.

    Its rows are security events (``data.access`` about a card), which the event browser shows
    to the same people: so it is the ``security-events`` resource, read-only like the browser.
    """

    rbac_resource = "security-events"

    list_display = ["occurred_at", "actor", "subject", "outcome", "purpose", "reason", "ip"]
    list_filter = ["outcome"]
    search_fields = ["actor", "subject", "request_id"]
    date_hierarchy = "occurred_at"
    readonly_fields = [field.name for field in CardAccessEvent._meta.fields]

    @admin.display(description="purpose")
    def purpose(self, event):
        return event.details.get("purpose", "")

    @admin.display(description="reason")
    def reason(self, event):
        return event.details.get("reason", "")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
