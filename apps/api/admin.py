from django.contrib import admin, messages

from apps.api.models import TokenSession
from apps.api.services import end_token_session
from apps.rbac.admin_access import RbacAdminMixin
from apps.rbac.services import restrict


@admin.register(TokenSession)
class TokenSessionAdmin(RbacAdminMixin, admin.ModelAdmin):
    """User-client sign-ins; ending one stops every JWT of it at its next use."""

    rbac_resource = "token-sessions"

    list_display = ["id", "user", "created_at", "refreshed_at", "ip", "ended_at", "end_reason"]
    list_filter = ["end_reason"]
    raw_id_fields = ["user"]
    readonly_fields = [field.name for field in TokenSession._meta.fields]
    actions = ["end_sessions"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="End the selected sessions and all their tokens",
                  permissions=["change"])  # fmt: skip
    def end_sessions(self, request, queryset):
        # The list shows what the person may read; ending needs ``token-sessions:write``.
        workable = restrict(queryset, request.user, "write").filter(ended_at__isnull=True)
        ended = sum(
            end_token_session(session, reason=TokenSession.EndReason.REVOKED, actor=request.user)
            for session in workable
        )
        self.message_user(request, f"{ended} sessions ended.", messages.SUCCESS)
