from django.contrib import admin, messages

from apps.api.models import TokenSession
from apps.api.services import end_token_session


@admin.register(TokenSession)
class TokenSessionAdmin(admin.ModelAdmin):
    """User-client sign-ins; ending one stops every JWT of it at its next use."""

    list_display = ["id", "user", "created_at", "refreshed_at", "ip", "ended_at", "end_reason"]
    list_filter = ["end_reason"]
    raw_id_fields = ["user"]
    readonly_fields = [field.name for field in TokenSession._meta.fields]
    actions = ["end_sessions"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="End the selected sessions and all their tokens")
    def end_sessions(self, request, queryset):
        ended = sum(
            end_token_session(session, reason=TokenSession.EndReason.REVOKED, actor=request.user)
            for session in queryset.filter(ended_at__isnull=True)
        )
        self.message_user(request, f"{ended} sessions ended.", messages.SUCCESS)
