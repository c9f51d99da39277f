"""Partner customer endpoints: create, read, update, list."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError

from apps.api.filters import UtcIsoDateTimeFilter
from apps.api.permissions import ClientScopes
from apps.partners import access
from apps.partners.models import Customer
from apps.partners.services import (
    DuplicateReference,
    create_customer,
    record_customer_reads,
    update_customer,
)

PERSONAL_FIELDS = ["display_name", "email"]
DUPLICATE = {"reference": ["A customer with this reference already exists."]}


class CustomerSerializer(serializers.ModelSerializer):
    """A customer; `display_name` and `email` appear only for tokens with customers:personal."""

    # Stored encrypted; declared here because their model fields are not Django's own.
    display_name = serializers.CharField(
        max_length=200, required=False, allow_blank=True, allow_null=True
    )
    email = serializers.EmailField(required=False, allow_blank=True, allow_null=True)

    class Meta:
        model = Customer
        fields = ["id", "reference", "display_name", "email", "created_at"]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {
            # Uniqueness per partner is checked by the database, inside the service.
            "reference": {"validators": []},
        }

    def __init__(self, *args, show_personal: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not show_personal:
            for name in PERSONAL_FIELDS:
                self.fields.pop(name)


CUSTOMER_EXAMPLE = OpenApiExample(
    "Customer",
    value={
        "id": 42,
        "reference": "crm-1001",
        "display_name": "Casey Jones",
        "email": "casey@example.com",
        "created_at": "2026-01-31T09:30:00Z",
    },
    response_only=True,
)
NEW_CUSTOMER_EXAMPLE = OpenApiExample(
    "New customer",
    value={"reference": "crm-1001", "display_name": "Casey Jones", "email": "casey@example.com"},
    request_only=True,
)


class CustomerFilter(filters.FilterSet):
    created_after = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Customer
        fields = ["reference"]


class CustomerAccess(permissions.BasePermission):
    """Access control decides, on the resource for lists and creation, on each object else."""

    message = "You may not do this with customers."

    def has_permission(self, request, view):
        return access.may_use_customers(request)

    def has_object_permission(self, request, view, obj):
        return access.may_act_on(request, obj)


@extend_schema_view(
    list=extend_schema(summary="List your customers", examples=[CUSTOMER_EXAMPLE]),
    retrieve=extend_schema(summary="Read one customer", examples=[CUSTOMER_EXAMPLE]),
    create=extend_schema(
        summary="Create a customer", examples=[NEW_CUSTOMER_EXAMPLE, CUSTOMER_EXAMPLE]
    ),
    update=extend_schema(
        summary="Replace a customer's fields", examples=[NEW_CUSTOMER_EXAMPLE, CUSTOMER_EXAMPLE]
    ),
    partial_update=extend_schema(
        summary="Change some of a customer's fields",
        examples=[
            OpenApiExample(
                "New email address", value={"email": "casey.j@example.com"}, request_only=True
            ),
            CUSTOMER_EXAMPLE,
        ],
    ),
)
class CustomerViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = CustomerSerializer
    permission_classes = [ClientScopes, CustomerAccess]
    client_scopes = {"read": access.READ, "write": access.WRITE}
    filterset_class = CustomerFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Customer.objects.none()  # schema generation: no caller to restrict for
        return access.visible_customers(self.request).order_by("-id")

    def shows_personal(self) -> bool:
        # The schema documents the fullest answer; the fields are optional in it.
        if getattr(self, "swagger_fake_view", False):
            return True
        return access.may_see_personal_fields(self.request)

    def get_serializer(self, *args, **kwargs):
        kwargs.setdefault("show_personal", self.shows_personal())
        return super().get_serializer(*args, **kwargs)

    def finalize_response(self, request, response, *args, **kwargs):
        self._record_reads(response)
        return super().finalize_response(request, response, *args, **kwargs)

    def _record_reads(self, response):
        # Every answer that shows personal fields leaves one batched data.access event.
        shown = getattr(self, "_shown_customers", None)
        if shown and response.status_code < 400 and self.shows_personal():
            record_customer_reads(
                shown, fields=PERSONAL_FIELDS, actor=access.caller_reference(self.request)
            )

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        self._shown_customers = page
        return page

    def get_object(self):
        customer = super().get_object()
        self._shown_customers = [customer]
        return customer

    def perform_create(self, serializer):
        # A customer belongs to a partner: the caller's, who must be allowed to add to it.
        partner = getattr(self.request, "partner", None)
        if partner is None or not access.may_act_on(self.request, Customer(partner=partner)):
            raise PermissionDenied(CustomerAccess.message)
        try:
            serializer.instance = create_customer(
                partner,
                data=serializer.validated_data,
                actor=access.caller_reference(self.request),
            )
        except DuplicateReference:
            raise ValidationError(DUPLICATE) from None
        self._shown_customers = [serializer.instance]

    def perform_update(self, serializer):
        try:
            update_customer(
                serializer.instance,
                data=serializer.validated_data,
                actor=access.caller_reference(self.request),
            )
        except DuplicateReference:
            raise ValidationError(DUPLICATE) from None
