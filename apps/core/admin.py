from django.contrib import admin

from apps.core.models import OutboundEmail


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    """Delivery state only: bodies may hold one-time links and are not shown."""

    list_display = ["id", "subject", "state", "attempts", "created_at", "sent_at"]
    list_filter = ["state"]
    fields = ["subject", "state", "attempts", "created_at", "sent_at", "last_error"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
