"""Providers for data this app keeps and for parts no app of ours owns.

Sessions, the admin's change log and the mail outbox belong to Django or to ``apps.core``,
which imports no other app, so their providers live here.

Celery task results are not stored (CELERY_TASK_IGNORE_RESULT and no result backend), so there
is nothing of the subject to export or erase there; a result backend added later needs a
provider here.
"""

from django.apps import apps
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.db.models import Q
from django.utils import timezone

from apps.core.models import OutboundEmail
from apps.gdpr import scan
from apps.gdpr.models import ConsentRecord, DataSubjectRequest
from apps.gdpr.registry import (
    ORDER_ADMIN_LOG,
    ORDER_CONSENTS,
    ORDER_CREDENTIALS,
    ORDER_OUTBOX,
    ORDER_SESSIONS,
    Provider,
    Subject,
    register,
)
from apps.gdpr.rows import rows


@register
class ConsentProvider(Provider):
    name = "consents"
    order = ORDER_CONSENTS
    # Requests are exported here and kept on erasure: they are the proof, with the pseudonym.
    models = ("gdpr.ConsentRecord", "gdpr.DataSubjectRequest")

    def export(self, subject: Subject) -> dict[str, list[dict]]:
        records = ConsentRecord.objects.filter(user_id=subject.user_id).order_by("recorded_at")
        requests = DataSubjectRequest.objects.filter(subject_ref=subject.pseudonym)
        return {
            "consents": rows(
                records, "purpose__slug", "purpose__version", "granted", "recorded_at", "source"
            ),
            "privacy_requests": rows(
                requests.order_by("received_at"), "id", "kind", "state", "received_at", "due_at"
            ),
        }

    def erase(self, subject: Subject) -> dict:
        # The requests themselves stay: they are the proof that the erasure happened, and they
        # hold only the pseudonym.
        deleted, _ = ConsentRecord.objects.filter(user_id=subject.user_id).delete()
        return {"deleted": deleted}


@register
class SessionProvider(Provider):
    """Database sessions hold only the user id, but they are the person's live sign-ins."""

    name = "sessions"
    order = ORDER_SESSIONS
    models = ("sessions.Session", "usersessions.UserSession")

    def _session_keys(self, subject: Subject) -> list[str]:
        if subject.user_id is None:
            return []
        if apps.is_installed("allauth.usersessions"):
            # allauth keeps a row per session and user: a lookup by user, whatever the size of
            # the session table.
            from allauth.usersessions.models import UserSession

            return list(
                UserSession.objects.filter(user_id=subject.user_id).values_list(
                    "session_key", flat=True
                )
            )
        # Without that index the user id is only inside the signed session data, so every live
        # session is decoded: this grows with the number of live sessions (docs/gdpr.md).
        wanted = str(subject.user_id)
        live = Session.objects.filter(expire_date__gt=timezone.now()).iterator(chunk_size=2000)
        return [s.session_key for s in live if s.get_decoded().get("_auth_user_id") == wanted]

    def export(self, subject: Subject) -> dict[str, list[dict]]:
        keys = self._session_keys(subject)
        live = Session.objects.filter(session_key__in=keys).order_by("expire_date")
        return {"sessions": [{"expires_at": s.expire_date.isoformat()} for s in live]}

    def erase(self, subject: Subject) -> dict:
        keys = self._session_keys(subject)
        deleted, _ = Session.objects.filter(session_key__in=keys).delete()
        if apps.is_installed("allauth.usersessions"):
            from allauth.usersessions.models import UserSession

            UserSession.objects.filter(user_id=subject.user_id).delete()
        return {"deleted": deleted}


@register
class AdminLogProvider(Provider):
    """The admin's change log: what the subject did as staff, and what staff did to them."""

    name = "admin_log"
    order = ORDER_ADMIN_LOG
    models = ("admin.LogEntry",)

    def _about_subject(self, subject: Subject):
        from apps.accounts.models import User

        user_type = ContentType.objects.get_for_model(User)
        return LogEntry.objects.filter(content_type=user_type, object_id=str(subject.user_id))

    def export(self, subject: Subject) -> dict[str, list[dict]]:
        fields = ("action_time", "content_type__model", "object_id", "action_flag")
        return {
            "admin_actions_by_you": rows(
                LogEntry.objects.filter(user_id=subject.user_id).order_by("action_time"), *fields
            ),
            "admin_actions_on_your_account": rows(
                self._about_subject(subject).order_by("action_time"), *fields
            ),
        }

    def erase(self, subject: Subject) -> dict:
        # Entries written by the subject go with them; entries about the account are staff
        # history and stay, with the object's description reduced to the pseudonym.
        deleted, _ = LogEntry.objects.filter(user_id=subject.user_id).delete()
        relabelled = self._about_subject(subject).update(object_repr=subject.pseudonym)
        return {"deleted": deleted, "pseudonymised": relabelled}


@register
class OutboxProvider(Provider):
    """Records of mail sent to the subject (bodies are already wiped after delivery)."""

    name = "outbox"
    order = ORDER_OUTBOX
    models = ("core.OutboundEmail",)

    def _messages(self, subject: Subject):
        to_subject = Q()
        for address in subject.emails:
            to_subject |= Q(recipients__icontains=address)
        if not to_subject:
            return OutboundEmail.objects.none()
        # A search inside the JSON list reads every message; the scan's trigram index of the
        # table names the few rows that mention an address at all, and the exact condition is
        # applied to those.
        candidates = scan.rows_mentioning(OutboundEmail, list(subject.emails))
        return OutboundEmail.objects.filter(to_subject, pk__in=candidates)

    def export(self, subject: Subject) -> dict[str, list[dict]]:
        messages = self._messages(subject).order_by("created_at")
        return {"emails_sent": rows(messages, "created_at", "subject", "state", "sent_at")}

    def erase(self, subject: Subject) -> dict:
        deleted, _ = self._messages(subject).delete()
        return {"deleted": deleted}


@register
class OAuthTokenProvider(Provider):
    """OAuth2 grants and tokens issued to the subject, and any client application they own."""

    name = "oauth_tokens"
    order = ORDER_CREDENTIALS
    models = (
        "oauth2_provider.Application",
        "oauth2_provider.Grant",
        "oauth2_provider.AccessToken",
        "oauth2_provider.RefreshToken",
        "oauth2_provider.IDToken",
        "oauth2_provider.DeviceGrant",
    )

    def _models(self):
        from oauth2_provider import models as oauth

        # Tokens before applications: deleting an application cascades into its tokens anyway,
        # but a token of someone else's application must go by its own row.
        return [
            oauth.get_access_token_model(),
            oauth.get_refresh_token_model(),
            oauth.get_id_token_model(),
            oauth.get_grant_model(),
            oauth.DeviceGrant,
            oauth.get_application_model(),
        ]

    def export(self, subject: Subject) -> dict[str, list[dict]]:
        from oauth2_provider import models as oauth

        tokens = oauth.get_access_token_model().objects.filter(user_id=subject.user_id)
        applications = oauth.get_application_model().objects.filter(user_id=subject.user_id)
        return {
            "oauth_access_tokens": rows(
                tokens.order_by("created"), "created", "expires", "scope", "application__name"
            ),
            "oauth_applications": rows(applications.order_by("created"), "name", "created"),
        }

    def erase(self, subject: Subject) -> dict:
        deleted = 0
        for model in self._models():
            count, _ = model.objects.filter(user_id=subject.user_id).delete()
            deleted += count
        return {"deleted": deleted}
