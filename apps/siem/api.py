"""Security-event ingestion: partners and internal services post batches of events.

Each event in a batch is validated on its own: good ones are stored, bad ones come back with
their index and reasons, so one malformed event never costs a partner the rest of its batch.
"""

import json
import re

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.partners.access import token_scopes
from apps.siem.events import EVENT_TYPES
from apps.siem.ingestion import store_events
from apps.siem.models import SecurityEvent

WRITE_SCOPE = "events:write"
INGEST_PERMISSION = "siem.ingest_securityevent"
MAX_DETAILS_BYTES = 8192
MAX_CLOCK_SKEW = timezone.timedelta(minutes=5)
MAX_AGE = timezone.timedelta(days=7)
SERVICE_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Only the portal itself, and internal services trusted with the model permission, may write
# events under this service name: the shipped rules act on it (block addresses, lock accounts).
PORTAL_SERVICE = "portal"


class EventWriters(permissions.BasePermission):
    """Partner clients need a token with events:write; people and internal service accounts
    need the ``ingest_securityevent`` permission. Everyone else is refused."""

    message = "This caller may not send security events."

    def has_permission(self, request, view):
        if request.auth is not None and hasattr(request.auth, "scope"):
            return WRITE_SCOPE in token_scopes(request)
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm(INGEST_PERMISSION))


def may_write_as_portal(request) -> bool:
    return not hasattr(request.auth, "scope") and request.user.has_perm(INGEST_PERMISSION)


def source_of(request) -> str:
    application = getattr(request.auth, "application", None)
    if application is not None:
        return f"client:{application.client_id}"
    return f"user:{request.user.pk}"


class IncomingEventSerializer(serializers.Serializer):
    event_type = serializers.CharField(max_length=64)
    occurred_at = serializers.DateTimeField()
    severity = serializers.ChoiceField(choices=SecurityEvent.Severity.choices, required=False)
    outcome = serializers.ChoiceField(choices=SecurityEvent.Outcome.choices, required=False)
    actor = serializers.CharField(max_length=128, required=False, allow_blank=True, default="")
    subject = serializers.CharField(max_length=128, required=False, allow_blank=True, default="")
    service = serializers.CharField(max_length=64, required=False)
    ip = serializers.IPAddressField(required=False, allow_null=True, default=None)
    user_agent = serializers.CharField(
        max_length=512, required=False, allow_blank=True, default="", trim_whitespace=False
    )
    request_id = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    details = serializers.DictField(required=False, default=dict)

    def validate_event_type(self, value):
        if value not in EVENT_TYPES:
            raise serializers.ValidationError(f"unknown event type {value!r}")
        return value

    def validate_occurred_at(self, value):
        now = timezone.now()
        if value > now + MAX_CLOCK_SKEW:
            raise serializers.ValidationError("lies in the future")
        if value < now - MAX_AGE:
            raise serializers.ValidationError("is older than 7 days")
        return value

    def validate_service(self, value):
        if not SERVICE_NAME.match(value):
            raise serializers.ValidationError("must be lower-case letters, digits, . _ or -")
        if value == PORTAL_SERVICE and not self.context["as_portal"]:
            raise serializers.ValidationError("is reserved for the portal's own services")
        return value

    def validate_request_id(self, value):
        if value and not REQUEST_ID.match(value):
            raise serializers.ValidationError("must be 1-64 letters, digits, . _ or -")
        return value

    def validate_details(self, value):
        if len(json.dumps(value, default=str)) > MAX_DETAILS_BYTES:
            raise serializers.ValidationError(
                f"must serialise to at most {MAX_DETAILS_BYTES} bytes"
            )
        return value


class EventBatchSerializer(serializers.Serializer):
    events = serializers.ListField(child=serializers.JSONField(), allow_empty=False)

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


class EventIngestView(APIView):
    """POST /api/v1/events/: store a batch; answer which events were kept and which refused."""

    permission_classes = [EventWriters]

    @extend_schema(
        summary="Send a batch of security events",
        request=EventBatchSerializer,
        examples=[BATCH_EXAMPLE],
        responses={200: None},
    )
    def post(self, request):
        envelope = EventBatchSerializer(data=request.data)
        envelope.is_valid(raise_exception=True)

        as_portal = may_write_as_portal(request)
        source = source_of(request)
        valid, rejected = [], []
        for index, raw in enumerate(envelope.validated_data["events"]):
            if not isinstance(raw, dict):
                rejected.append({"index": index, "errors": {"event": ["must be an object"]}})
                continue
            item = IncomingEventSerializer(data=raw, context={"as_portal": as_portal})
            if item.is_valid():
                valid.append((index, item.validated_data))
            else:
                rejected.append({"index": index, "errors": _plain(item.errors)})

        stored = store_events([data for _, data in valid], source=source)
        accepted = [
            {"index": index, "id": event.pk}
            for (index, _), event in zip(valid, stored, strict=True)
        ]
        return Response(
            {"accepted": accepted, "rejected": rejected},
            status=status.HTTP_200_OK,
        )


def _plain(errors) -> dict:
    return {name: [str(message) for message in messages] for name, messages in errors.items()}
