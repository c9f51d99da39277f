"""Personal data of the API app: the subject's JWT token sessions."""

from apps.api.models import TokenSession
from apps.gdpr.registry import ORDER_CREDENTIALS, Provider, Subject, register
from apps.gdpr.rows import rows


@register
class TokenSessionProvider(Provider):
    name = "api_token_sessions"
    order = ORDER_CREDENTIALS + 10
    models = ("api.TokenSession",)

    def export(self, subject: Subject) -> dict[str, list[dict]]:
        sessions = TokenSession.objects.filter(user_id=subject.user_id).order_by("created_at")
        return {
            "api_token_sessions": rows(
                sessions,
                "created_at",
                "refreshed_at",
                "ended_at",
                "end_reason",
                "ip",
                "user_agent",
            )
        }

    def erase(self, subject: Subject) -> dict:
        deleted, _ = TokenSession.objects.filter(user_id=subject.user_id).delete()
        return {"deleted": deleted}
