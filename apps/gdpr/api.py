"""Partner endpoints: file data-subject requests for your customers, follow them, read consents.

A partner vouches for its customer's identity with its own credentials, so its requests skip
the verification a user's would need, but every one of them waits for staff approval.
"""

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response

from apps.api.permissions import is_machine_client, token_scopes
from apps.gdpr import services
from apps.gdpr.models import DataSubjectRequest
from apps.partners import access
from apps.partners.models import Customer
from apps.rbac.middleware import record_denial
from apps.rbac.services import authorize, restrict

REQUESTS_SCOPE = "privacy:requests"
CONSENTS_SCOPE = "privacy:consents"
NO_ACCOUNT = "An export is delivered to the person's account; this customer has none."


class RequestSerializer(serializers.ModelSerializer):
    customer = serializers.IntegerField(write_only=True, help_text="Your customer's id")
    deadline = serializers.DateTimeField(read_only=True)

    class Meta:
        model = DataSubjectRequest
        fields = ["id", "kind", "customer", "state", "received_at", "due_at", "deadline",
                  "completed_at"]  # fmt: skip
        read_only_fields = ["id", "state", "received_at", "due_at", "completed_at"]


class ConsentSerializer(serializers.Serializer):
    purpose = serializers.CharField()
    version = serializers.IntegerField()
    granted = serializers.BooleanField()
    recorded_at = serializers.DateTimeField()
    source = serializers.CharField()


class PrivacyScopes(permissions.BasePermission):
    """Requests need privacy:requests; a customer's consents need privacy:consents."""

    message = "This token does not allow this."

    def has_permission(self, request, view):
        needed = CONSENTS_SCOPE if getattr(view, "action", None) == "consents" else REQUESTS_SCOPE
        # Guard: only a partner's machine client files requests for customers.
        if not is_machine_client(request) or getattr(request, "partner", None) is None:
            return False
        return needed in token_scopes(request)


def partner_customers(request):
    """The caller's own customers that access control lets it read."""
    own = Customer.objects.filter(partner=request.partner)
    return restrict(own, request.user, "read")


REQUEST_EXAMPLE = OpenApiExample(
    "An erasure awaiting approval",
    value={"id": 318, "kind": "erasure", "state": "awaiting_approval",
           "received_at": "2026-12-04T09:00:00Z", "due_at": "2027-01-03T09:00:00Z",
           "deadline": "2027-01-03T09:00:00Z", "completed_at": None},
    response_only=True,
)  # fmt: skip
NEW_REQUEST_EXAMPLE = OpenApiExample(
    "Erase customer 1234", value={"kind": "erasure", "customer": 1234}, request_only=True
)
CONSENT_EXAMPLE = OpenApiExample(
    "Newsletter consent",
    value={"purpose": "newsletter", "version": 2, "granted": True,
           "recorded_at": "2026-10-02T14:11:00Z", "source": "web"},
    response_only=True,
)  # fmt: skip


@extend_schema_view(
    list=extend_schema(summary="List the requests you filed", examples=[REQUEST_EXAMPLE]),
    retrieve=extend_schema(summary="Follow one request", examples=[REQUEST_EXAMPLE]),
    create=extend_schema(
        summary="File an export or erasure for one of your customers",
        examples=[NEW_REQUEST_EXAMPLE, REQUEST_EXAMPLE],
    ),
)
class RequestViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = RequestSerializer
    permission_classes = [PrivacyScopes]

    def get_queryset(self):
        partner = getattr(self.request, "partner", None)
        if partner is None:
            return DataSubjectRequest.objects.none()
        # The partner's own requests, and of those only what access control still lets the
        # client read: revoking its binding stops it on the next request.
        own = DataSubjectRequest.objects.filter(partner=partner)
        return restrict(own, self.request.user, "read").order_by("-id")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = (
            partner_customers(request)
            .select_related("owner")
            .filter(pk=serializer.validated_data["customer"])
            .first()
        )
        # Another partner's customer looks exactly like one that does not exist.
        if customer is None:
            raise ValidationError({"customer": ["No such customer."]})
        if not authorize(request.user, "create", "privacy-requests",
                         DataSubjectRequest(partner=request.partner)).allowed:  # fmt: skip
            record_denial(request, user=request.user, resource="privacy-requests",
                          action="create", reason="no grant to file requests")  # fmt: skip
            raise PermissionDenied
        kind = serializer.validated_data["kind"]
        if kind == DataSubjectRequest.Kind.EXPORT and customer.owner is None:
            raise ValidationError({"customer": [NO_ACCOUNT]})

        dsr = services.file_request(
            kind=kind,
            subject=customer.owner,
            channel=DataSubjectRequest.Channel.PARTNER_API,
            by=access.caller_reference(request),
            partner=request.partner,
            customers=[customer],
        )
        return Response(self.get_serializer(dsr).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Read a customer's current consents",
        responses=ConsentSerializer(many=True),
        examples=[CONSENT_EXAMPLE],
    )
    @action(detail=False, methods=["get"], url_path=r"consents/(?P<customer_id>\d+)")
    def consents(self, request, customer_id=None):
        customer = partner_customers(request).filter(pk=customer_id).first()
        if customer is None:
            raise NotFound
        if customer.owner_id is None:
            return Response([])
        current = services.current_consents(customer.owner)
        data = [
            {"purpose": slug, "version": record.purpose.version, "granted": record.granted,
             "recorded_at": record.recorded_at, "source": record.source}
            for slug, record in sorted(current.items())
        ]  # fmt: skip
        return Response(ConsentSerializer(data, many=True).data)
