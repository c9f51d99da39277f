"""The check API: may subject S do action A on object O, and which objects of a type may S act on.

Callers need the ``access:check`` permission (and, for OAuth2 clients, the ``authz:check``
token scope). An answer never reaches beyond what the caller itself may read: an object the
caller cannot read is "not found", and the listing is the intersection of the subject's objects
with the caller's readable ones. An unknown subject is simply denied everything.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.rbac import registry
from apps.rbac.decisions import authorize, restrict
from apps.rbac.drf import RbacPermission, RbacQuerysetMixin
from apps.rbac.models import AccessReview

NAME = r"^[a-z*][a-z0-9*_-]{0,63}$"


class _CheckBase:
    permission_classes = [RbacPermission]
    rbac_resource = "access"
    rbac_actions = {"GET": "check", "POST": "check"}
    rbac_token_scopes = {"check": "authz:check"}


CHECK_EXAMPLES = [
    OpenApiExample(
        "May user 17 change customer 1234?",
        value={"subject": 17, "action": "write", "resource": "customers", "object": "1234"},
        request_only=True,
    ),
    OpenApiExample("Allowed", value={"allowed": True}, response_only=True),
]
# List examples name one row: the schema generator wraps it in the list or page itself.
OBJECTS_EXAMPLE = OpenApiExample(
    "A customer user 17 may read", value={"id": "1234"}, response_only=True
)


class CheckQuestion(serializers.Serializer):
    subject = serializers.IntegerField(min_value=1, help_text="The user id being asked about")
    action = serializers.RegexField(NAME)
    resource = serializers.RegexField(NAME)
    object = serializers.CharField(max_length=64, help_text="The object's id")


class CheckAnswer(serializers.Serializer):
    allowed = serializers.BooleanField()


class ObjectsQuestion(serializers.Serializer):
    subject = serializers.IntegerField(min_value=1)
    action = serializers.RegexField(NAME)
    resource = serializers.RegexField(NAME)


class ObjectId(serializers.Serializer):
    id = serializers.CharField(source="pk")


def _declared(resource: str):
    declaration = registry.for_resource(resource)
    if declaration is None:
        raise NotFound
    return declaration


def _subject(pk):
    # An unknown or disabled subject is denied everything; the answer does not say which.
    return get_user_model().objects.filter(pk=pk, is_active=True).first()


def _readable_object(request, declaration, object_id):
    try:
        object_id = declaration.model._meta.pk.to_python(object_id)
    except ValidationError:
        raise NotFound from None
    queryset = restrict(declaration.model.objects.all(), request.user, "read")
    found = queryset.filter(pk=object_id).first()
    if found is None:
        raise NotFound
    return found


class CheckView(_CheckBase, APIView):
    @extend_schema(
        request=CheckQuestion, responses={200: CheckAnswer}, tags=["access"],
        examples=CHECK_EXAMPLES,
    )  # fmt: skip
    def post(self, request):
        """May the subject do the action on this object?"""
        question = CheckQuestion(data=request.data)
        question.is_valid(raise_exception=True)
        data = question.validated_data
        declaration = _declared(data["resource"])
        obj = _readable_object(request, declaration, data["object"])

        subject = _subject(data["subject"])
        allowed = (
            subject is not None
            and authorize(subject, data["action"], declaration.resource, obj).allowed
        )
        return Response({"allowed": allowed})


class ObjectsView(_CheckBase, ListAPIView):
    """Which objects of this type may the subject do the action on? Paged, newest id first."""

    serializer_class = ObjectId

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            # The schema generator calls this with no question; the answer type is an id.
            return AccessReview.objects.none()
        question = ObjectsQuestion(data=self.request.query_params)
        question.is_valid(raise_exception=True)
        data = question.validated_data
        declaration = _declared(data["resource"])

        subject = _subject(data["subject"])
        queryset = declaration.model.objects.only("pk")
        if subject is None:
            return queryset.none()
        mine = restrict(queryset, self.request.user, "read")
        return restrict(mine, subject, data["action"])

    def paginate_queryset(self, queryset):
        # The cursor orders by the primary key, whatever it is called on this model.
        self.paginator.ordering = "-pk"
        return super().paginate_queryset(queryset)

    @extend_schema(parameters=[ObjectsQuestion], tags=["access"], examples=[OBJECTS_EXAMPLE])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


REVIEW_EXAMPLE = OpenApiExample(
    "A saved review",
    value={
        "id": "6f1c2b9e-8d4a-4c1e-9a57-3b2f0d7e5a10",
        "created_at": "2026-12-01T08:00:00Z",
        "created_by": 3,
        "entries": [
            {"holder": "user:17", "holder_email": "priya@acme.example",
             "holder_last_login": "2026-11-30T16:20:00Z", "kind": "role",
             "role": "partner-client", "scope": "partner:42", "object": "",
             "granted_by": "user:3", "reason": "Acme CRM integration",
             "granted_at": "2026-06-01T09:00:00Z", "expires_at": None,
             "last_used_at": "2026-11-30T16:21:00Z"},
        ],
    },
    response_only=True,
)  # fmt: skip


class AccessReviewSerializer(serializers.ModelSerializer):
    class Meta:
        model = AccessReview
        fields = ["id", "created_at", "created_by", "entries"]


@extend_schema_view(
    list=extend_schema(
        summary="List saved access reviews", tags=["access"], examples=[REVIEW_EXAMPLE]
    ),
    retrieve=extend_schema(
        summary="Read one saved access review", tags=["access"], examples=[REVIEW_EXAMPLE]
    ),
)
class AccessReviewViewSet(RbacQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """Saved access reviews, for compliance tools; taken in the admin."""

    permission_classes = [RbacPermission]
    rbac_resource = "access-reviews"
    serializer_class = AccessReviewSerializer
    queryset = AccessReview.objects.all()
    pagination_class = None  # reviews are few; each one is large

    def get_queryset(self):
        return super().get_queryset().order_by("-created_at")
