"""Security-event ingestion: partners and internal services post batches of events.

Each event in a batch is validated on its own: good ones are stored, bad ones come back with
their index and reasons, so one malformed event never costs a partner the rest of its batch.
"""

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.partners.access import token_scopes
from apps.rbac.decisions import authorize_every_object
from apps.siem.ingestion import store_events, validate_event

WRITE_SCOPE = "events:write"
# Access control's permission for people and internal service accounts: security-events is
# no resource with owners, so only an unscoped grant (security-events:ingest:all) admits.
INGEST_RESOURCE, INGEST_ACTION = "security-events", "ingest"


class EventWriters(permissions.BasePermission):
    """Partner clients need a token with events:write; people and internal service accounts
    need ``security-events:ingest:all`` from access control. Everyone else is refused."""

    message = "This caller may not send security events."

    def has_permission(self, request, view):
        if request.auth is not None and hasattr(request.auth, "scope"):
            return WRITE_SCOPE in token_scopes(request)
        return _may_ingest(request.user)


def _may_ingest(user) -> bool:
    return authorize_every_object(user, INGEST_ACTION, INGEST_RESOURCE).allowed


def may_write_as_portal(request) -> bool:
    return not hasattr(request.auth, "scope") and _may_ingest(request.user)


def source_of(request) -> str:
    application = getattr(request.auth, "application", None)
    if application is not None:
        return f"client:{application.client_id}"
    return f"user:{request.user.pk}"


class EventBatchSerializer(serializers.Serializer):
    # Items are judged one by one in the view, each with its own reasons.
    events = serializers.ListField(allow_empty=False)

    def validate_events(self, value):
        if len(value) > settings.SIEM_INGEST_MAX_BATCH:
            raise serializers.ValidationError(
                f"at most {settings.SIEM_INGEST_MAX_BATCH} events per batch"
            )
        return value


BATCH_EXAMPLE = OpenApiExample(
    "Two events",
    value={
        "events": [
            {
                "event_type": "auth.login.failure",
                "occurred_at": "2026-12-04T10:00:00Z",
                "ip": "198.51.100.7",
                "details": {"identifier": "casey@example.com"},
            },
            {"event_type": "no.such.type", "occurred_at": "2026-12-04T10:00:01Z"},
        ]
    },
    request_only=True,
)


class BatchAnswerSerializer(serializers.Serializer):
    accepted = serializers.ListField(child=serializers.DictField(), help_text="index and id")
    rejected = serializers.ListField(child=serializers.DictField(), help_text="index and errors")


BATCH_ANSWER_EXAMPLE = OpenApiExample(
    "One kept, one refused",
    value={
        "accepted": [{"index": 0, "id": 90211}],
        "rejected": [
            {"index": 1, "errors": {"event_type": ["unknown event type 'no.such.type'"]}}
        ],
    },
    response_only=True,
)  # fmt: skip


class EventIngestView(APIView):
    """POST /api/v1/events/: store a batch; answer which events were kept and which refused."""

    permission_classes = [EventWriters]

    @extend_schema(
        summary="Send a batch of security events",
        request=EventBatchSerializer,
        examples=[BATCH_EXAMPLE, BATCH_ANSWER_EXAMPLE],
        responses={200: BatchAnswerSerializer},
    )
    def post(self, request):
        envelope = EventBatchSerializer(data=request.data)
        envelope.is_valid(raise_exception=True)

        as_portal = may_write_as_portal(request)
        source = source_of(request)
        valid, rejected = [], []
        for index, raw in enumerate(envelope.validated_data["events"]):
            clean, errors = validate_event(raw, as_portal=as_portal)
            if errors:
                rejected.append({"index": index, "errors": errors})
            else:
                valid.append((index, clean))

        stored = store_events([data for _, data in valid], source=source)
        accepted = [
            {"index": index, "id": event.pk}
            for (index, _), event in zip(valid, stored, strict=True)
        ]
        return Response(
            {"accepted": accepted, "rejected": rejected},
            status=status.HTTP_200_OK,
        )
