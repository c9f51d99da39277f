"""The vault's REST endpoints: tokenise, list (masked), delete and detokenise cards.

Users act on their own cards. A partner's machine client acts on its partner's cards, with the
scopes of its token (``cards:tokenize``, ``cards:read``, ``cards:delete``, ``cards:detokenize``).
Staff may name a partner with ``partner`` where access control lets them. Responses show a card
only as brand and last four, except the detokenise response, which is marked uncacheable.
"""

from django.db.models import QuerySet
from django.utils.cache import add_never_cache_headers
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from apps.api.errors import error_body, error_response
from apps.partners.models import Partner
from apps.pci import access, services
from apps.pci.access import Caller, caller_from_request
from apps.pci.models import CardToken
from apps.pci.validation import CardRejected
from apps.rbac.middleware import record_denial

# Names under which clients send a card security code; any of them is refused, never stored.
SECURITY_CODE_FIELDS = frozenset(
    {"cvv", "cvv2", "cvc", "cvc2", "cid", "csc", "security_code", "securitycode", "card_code"}
)


class CardSerializer(serializers.ModelSerializer):
    masked = serializers.CharField(read_only=True)
    expiry = serializers.CharField(read_only=True)
    owner = serializers.SerializerMethodField()

    class Meta:
        model = CardToken
        fields = [
            "token", "token_format", "masked", "brand", "last_four", "expiry", "owner",
            "created_at", "expires_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_owner(self, card) -> str:
        return services.owner_reference(card.owner)


class TokenizeSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=64, trim_whitespace=False)
    expiry_month = serializers.CharField(max_length=4)
    expiry_year = serializers.CharField(max_length=4)
    token_format = serializers.ChoiceField(
        choices=CardToken.Format.choices, default=CardToken.Format.OPAQUE
    )
    partner = serializers.IntegerField(required=False, min_value=1)


class DetokenizeSerializer(serializers.Serializer):
    purpose = serializers.CharField(
        max_length=services.PURPOSE_MAX_LENGTH, allow_blank=True, required=False, default=""
    )


# A published test number, never a real card; answers show only brand and last four.
CARD_EXAMPLE = OpenApiExample(
    "A stored card",
    value={"token": "tok_4pQk7Zr2mVx9LbN3sT8wYc", "token_format": "opaque",
           "masked": "Visa •••• 1111", "brand": "Visa", "last_four": "1111",
           "expiry": "12/30", "owner": "user:17", "created_at": "2026-12-04T09:00:00Z",
           "expires_at": "2030-12-31T23:59:59Z"},
    response_only=True,
)  # fmt: skip
TOKENIZE_EXAMPLE = OpenApiExample(
    "Tokenise a test card",
    value={"number": "4111111111111111", "expiry_month": "12", "expiry_year": "2030"},
    request_only=True,
)
DETOKENIZE_EXAMPLES = [
    OpenApiExample("State the purpose", value={"purpose": "chargeback 2026-118"},
                   request_only=True),
    OpenApiExample("Revealed", value={"token": "tok_4pQk7Zr2mVx9LbN3sT8wYc",
                                      "number": "4111111111111111"}, response_only=True),
]  # fmt: skip


class VaultView(GenericAPIView):
    serializer_class = CardSerializer

    def caller(self) -> Caller:
        return caller_from_request(self.request)

    def owner_for(self, caller: Caller, partner_id, action: str):
        """Whose cards are meant: the caller's own, their client's partner, or a named one."""
        if caller.is_client:
            if partner_id not in (None, getattr(caller.partner, "pk", None)):
                raise PermissionDenied("A client acts only for its own partner.")
            owner = caller.partner
        elif partner_id is None:
            return caller.user
        else:
            owner = Partner.objects.filter(pk=partner_id, is_active=True).first()
        if (
            owner is None
            or not access.authorized(caller, action, CardToken(owner_partner=owner))[0]
        ):
            record_denial(self.request, user=caller.user, resource=access.RESOURCE,
                          action=action, reason="partner not granted")  # fmt: skip
            raise PermissionDenied("Not allowed for this partner.")
        return owner


def cards_of(owner) -> QuerySet:
    if isinstance(owner, Partner):
        return CardToken.objects.filter(owner_partner=owner)
    return CardToken.objects.filter(owner_user=owner)


def card_for(caller: Caller, token: str, action: str) -> CardToken:
    """The card a caller may act on, or 404 whether it is missing or not theirs."""
    card = CardToken.objects.filter(token=token).first()
    if card is None or not access.authorized(caller, action, card)[0]:
        raise NotFound
    return card


class CardListView(VaultView):
    # Only for the schema generator, which reads the model from it; lists use cards_of().
    queryset = CardToken.objects.none()

    @extend_schema(
        operation_id="cards_list",
        summary="List stored cards, masked",
        responses={200: CardSerializer(many=True)},
        examples=[CARD_EXAMPLE],
    )
    def get(self, request):
        caller = self.caller()
        owner = self.owner_for(caller, _partner_param(request.query_params), access.READ)
        page = self.paginate_queryset(
            cards_of(owner).select_related("owner_user", "owner_partner")
        )
        return self.get_paginated_response(CardSerializer(page, many=True).data)

    @extend_schema(
        operation_id="cards_tokenize",
        summary="Tokenise a card",
        request=TokenizeSerializer,
        responses={201: CardSerializer, 200: CardSerializer},
        examples=[TOKENIZE_EXAMPLE, CARD_EXAMPLE],
    )
    def post(self, request):
        caller = self.caller()
        if not hasattr(request.data, "keys"):
            raise ValidationError({"non_field_errors": ["Send a JSON object."]})
        if SECURITY_CODE_FIELDS & {str(key).lower() for key in request.data}:
            message = services.SecurityCodeRefused.message
            return Response(
                error_body("security_code_refused", message, {"security_code": [message]}),
                status=status.HTTP_400_BAD_REQUEST,
            )

        form = TokenizeSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        owner = self.owner_for(caller, data.get("partner"), access.TOKENIZE)

        try:
            card, created = services.tokenize_card(
                pan=data["number"],
                expiry_month=data["expiry_month"],
                expiry_year=data["expiry_year"],
                owner=owner,
                actor=caller,
                via="api",
                token_format=data["token_format"],
            )
        except CardRejected as rejected:
            field = rejected.rule if rejected.rule.startswith("expir") else "number"
            body = error_body("invalid_card", rejected.message, {field: [rejected.message]})
            return Response({**body, "rule": rejected.rule}, status=status.HTTP_400_BAD_REQUEST)
        return Response(
            CardSerializer(card).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class CardDetailView(VaultView):
    @extend_schema(
        operation_id="cards_read", summary="Read one stored card, masked", examples=[CARD_EXAMPLE]
    )
    def get(self, request, token):
        return Response(CardSerializer(card_for(self.caller(), token, access.READ)).data)

    @extend_schema(
        operation_id="cards_delete",
        summary="Delete a stored card",
        responses={204: None},
    )
    def delete(self, request, token):
        caller = self.caller()
        services.delete_card_token(card=card_for(caller, token, access.DELETE), actor=caller)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DetokenizeView(VaultView):
    # Refusals are answered, not raised: raising would roll back the event recording them.
    REFUSAL_TEXT = {
        "no_purpose": "State the purpose of revealing this card number.",
        "second_factor_required": "Confirm your second factor, then try again within 5 minutes.",
        "expired": "This card has passed its retention date.",
    }

    @extend_schema(
        operation_id="cards_detokenize",
        summary="Reveal a card number (cards:detokenize, second factor, stated purpose)",
        request=DetokenizeSerializer,
        examples=DETOKENIZE_EXAMPLES,
        responses={
            200: inline_serializer(
                "RevealedCard",
                {"token": serializers.CharField(), "number": serializers.CharField()},
            )
        },
    )
    def post(self, request, token):
        form = DetokenizeSerializer(data=request.data if hasattr(request.data, "keys") else {})
        form.is_valid(raise_exception=True)
        try:
            number = services.detokenize_card(
                token=token, purpose=form.validated_data["purpose"], actor=self.caller()
            )
        except services.DetokenizationRefused as refused:
            # Unknown, forbidden and out-of-scope look alike to the caller.
            reason = refused.reason if refused.reason in self.REFUSAL_TEXT else "not_permitted"
            response = error_response(
                status.HTTP_400_BAD_REQUEST
                if reason == "no_purpose"
                else status.HTTP_403_FORBIDDEN,
                reason,
                self.REFUSAL_TEXT.get(reason, "You may not reveal this card number."),
            )
        else:
            response = Response({"token": token, "number": number})
        add_never_cache_headers(response)
        return response


def _partner_param(params):
    raw = params.get("partner")
    if raw in (None, ""):
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise ValidationError({"partner": ["A partner id is a number."]})
    return int(raw)
