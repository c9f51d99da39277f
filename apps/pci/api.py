"""The vault's REST endpoints: tokenise, list (masked), delete and detokenise cards.

Users act on their own cards; a machine client acts for a partner, named by ``partner`` in the
request, with the scopes of its token. Responses show a card only as brand and last four, except
the detokenise response, which is marked uncacheable.
"""

from django.db.models import QuerySet
from django.utils.cache import add_never_cache_headers
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.partners.models import Partner
from apps.pci import access, services
from apps.pci.access import Caller, caller_from_request
from apps.pci.models import CardToken
from apps.pci.validation import CardRejected

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


class VaultView(APIView):
    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer]
    parser_classes = [JSONParser, FormParser]

    def caller(self) -> Caller:
        return caller_from_request(self.request)

    def owner_for(self, caller: Caller, partner_id, action: str):
        """The party whose cards are meant: the caller, or a partner it may act for."""
        if partner_id is None:
            if caller.is_client:
                raise ValidationError({"partner": ["A client must name the partner."]})
            return caller.user
        partner = Partner.objects.filter(pk=partner_id, is_active=True).first()
        if partner is None or not access.authorized(caller, action, partner)[0]:
            raise PermissionDenied("Not allowed for this partner.")
        return partner


def cards_of(owner) -> QuerySet:
    if isinstance(owner, Partner):
        return CardToken.objects.filter(owner_partner=owner)
    return CardToken.objects.filter(owner_user=owner)


def card_for(caller: Caller, token: str, action: str) -> CardToken:
    """The card a caller may act on, or 404 whether it is missing or not theirs."""
    card = CardToken.objects.filter(token=token).first()
    if card is None or not access.authorized(caller, action, card.owner)[0]:
        raise NotFound
    return card


class CardListView(VaultView):
    def get(self, request):
        caller = self.caller()
        owner = self.owner_for(caller, _partner_param(request.query_params), access.READ)
        cards = cards_of(owner).select_related("owner_user", "owner_partner")[:500]
        return Response({"results": CardSerializer(cards, many=True).data})

    def post(self, request):
        caller = self.caller()
        if not hasattr(request.data, "keys"):
            raise ValidationError({"detail": ["Send an object."]})
        offered_code = SECURITY_CODE_FIELDS & {str(key).lower() for key in request.data}
        if offered_code:
            return Response(
                {"security_code": [services.SecurityCodeRefused.message]},
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
            field = "number" if not rejected.rule.startswith("expir") else rejected.rule
            return Response(
                {field: [rejected.message], "rule": rejected.rule},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(
            CardSerializer(card).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class CardDetailView(VaultView):
    def get(self, request, token):
        return Response(CardSerializer(card_for(self.caller(), token, access.READ)).data)

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
            response = Response(
                {"detail": self.REFUSAL_TEXT.get(reason, "Not allowed."), "reason": reason},
                status=status.HTTP_400_BAD_REQUEST
                if reason == "no_purpose"
                else status.HTTP_403_FORBIDDEN,
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
