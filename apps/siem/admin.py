from django.contrib import admin

from apps.siem.models import SecurityEvent


@admin.register(SecurityEvent)
class SecurityEventAdmin(admin.ModelAdmin):
    """Staff with the view permission read events; nobody adds, edits or deletes them here."""

    list_display = ["occurred_at", "event_type", "severity", "outcome", "actor", "ip"]
    list_filter = ["event_type", "severity", "outcome"]
    search_fields = ["actor", "subject", "ip", "request_id"]
    date_hierarchy = "occurred_at"
    readonly_fields = [field.name for field in SecurityEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
