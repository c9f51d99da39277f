from django.contrib import admin

from apps.core.models import KeyRotation, OutboundEmail, RetentionRecord

# Core imports no other app, so its pages only name their access-control resource; the admin
# site opens them through authorize() (apps.rbac.admin_access), keeping the refusals below.


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    """Delivery state only: bodies may hold one-time links and are not shown."""

    rbac_resource = "outbound-email"

    list_display = ["id", "subject", "state", "attempts", "created_at", "sent_at"]
    list_filter = ["state"]
    fields = ["subject", "state", "attempts", "created_at", "sent_at", "last_error"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class _ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(KeyRotation)
class KeyRotationAdmin(_ReadOnlyAdmin):
    """Where staff watch a rotation progress (``manage.py rotate_keys`` or its task)."""

    rbac_resource = "key-rotations"

    list_display = ["model_label", "target", "state", "rows_seen", "rows_rewritten", "updated_at"]
    list_filter = ["state"]


@admin.register(RetentionRecord)
class RetentionRecordAdmin(_ReadOnlyAdmin):
    rbac_resource = "retention-records"
    list_display = ["ran_at", "model_label", "field_name", "action", "rows", "cutoff"]
    list_filter = ["action", "model_label"]
