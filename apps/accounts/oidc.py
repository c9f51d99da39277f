"""The portal as an OpenID Connect provider: which applications may exist and what tokens say.

django-oauth-toolkit does the protocol. This module holds the portal's rules on top of it:

* an application uses the authorization code flow (with PKCE, enforced in settings) or, for
  machine clients, client credentials; implicit, password, hybrid and device grants are
  refused when the application is saved, whatever saves it, and again at every request;
* ID tokens are signed with the portal's RSA key, never with a client secret (HS256);
* ID tokens and the userinfo endpoint carry the address and whether it is verified, so
  a relying party can apply the same linking rules the portal applies to its own providers;
* a request whose parameters or credentials hold a NUL character is refused before the
  toolkit sees it (``refuse_nul_characters``).
"""

import base64
import binascii
import json
from functools import wraps

from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.http import JsonResponse
from oauth2_provider.models import AbstractApplication, Application
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.views import ConnectDiscoveryInfoView

ALLOWED_GRANT_TYPES = {
    AbstractApplication.GRANT_AUTHORIZATION_CODE: "Authorization code (partner sign-in)",
    AbstractApplication.GRANT_CLIENT_CREDENTIALS: "Client credentials (machine clients)",
}
# What a client may send as grant_type at the token endpoint.
_TOKEN_ENDPOINT_GRANTS = {"authorization_code", "refresh_token", "client_credentials"}


def application_problems(application) -> dict[str, str]:
    """Each rule an application breaks, keyed by the field to fix; empty when it may be saved."""
    problems = {}
    if application.authorization_grant_type not in ALLOWED_GRANT_TYPES:
        # Implicit and password grants leak tokens or passwords to the client; hybrid and
        # device grants are not offered by this portal.
        problems["authorization_grant_type"] = (
            "Only the authorization code and client credentials grants are allowed."
        )
    if application.algorithm == AbstractApplication.HS256_ALGORITHM:
        # An HS256 ID token is signed with the client secret, which the client also holds.
        problems["algorithm"] = "ID tokens are signed with the portal's RSA key (RS256)."
    if (
        application.authorization_grant_type == AbstractApplication.GRANT_CLIENT_CREDENTIALS
        and application.client_type != AbstractApplication.CLIENT_CONFIDENTIAL
    ):
        problems["client_type"] = "A machine client must be confidential (it holds a secret)."
    return problems


@receiver(pre_save, sender=Application)
def refuse_forbidden_application(sender, instance, **kwargs):
    # The admin form reports these on its fields; this catches the shell, fixtures and code.
    problems = application_problems(instance)
    if problems:
        raise ValidationError(problems)


def _verified_email(request) -> bool:
    return EmailAddress.objects.filter(
        user=request.user, email=request.user.email, verified=True
    ).exists()


class PortalOAuth2Validator(OAuth2Validator):
    """django-oauth-toolkit's validator with the portal's grants and claims."""

    # The scope each claim needs; the toolkit's defaults plus nothing the portal does not fill.
    oidc_claim_scope = {"sub": "openid", "email": "email", "email_verified": "email"}

    def get_additional_claims(self):
        # Taking no request makes the claims request-agnostic, so they are also listed in
        # the discovery document's claims_supported.
        return {
            "email": lambda request: request.user.email,
            "email_verified": _verified_email,
        }

    def validate_grant_type(self, client_id, grant_type, client, request, *args, **kwargs):
        if grant_type not in _TOKEN_ENDPOINT_GRANTS:
            return False
        if client.authorization_grant_type not in ALLOWED_GRANT_TYPES:
            return False
        return super().validate_grant_type(client_id, grant_type, client, request, *args, **kwargs)

    def validate_response_type(self, client_id, response_type, client, request, *args, **kwargs):
        if response_type != "code":
            return False
        return super().validate_response_type(
            client_id, response_type, client, request, *args, **kwargs
        )


_NUL = "\x00"


def _carries_nul(request) -> bool:
    sent = [*request.GET.lists(), *request.POST.lists()]
    if any(_NUL in name or any(_NUL in value for value in values) for name, values in sent):
        return True
    scheme, _, credentials = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if _NUL in credentials:
        return True
    if scheme.lower() == "basic":
        try:
            return b"\x00" in base64.b64decode(credentials, validate=True)
        except (binascii.Error, ValueError):
            return False  # not Basic credentials at all; the toolkit refuses them
    return False


def refuse_nul_characters(view):
    """Answer a request carrying a NUL anywhere the toolkit reads with 400 invalid_request.

    The toolkit looks clients, codes and tokens up by what was sent; PostgreSQL's text cannot
    hold U+0000 and psycopg 3 refuses it with an error the toolkit does not expect (it catches
    only the ValueError of psycopg 2), so the lookup ended in a 500. No client id, secret, code,
    token or URI holds one.
    """

    @wraps(view)
    def guarded(request, *args, **kwargs):
        if _carries_nul(request):
            return JsonResponse(
                {"error": "invalid_request", "error_description": "Malformed parameter."},
                status=400,
            )
        return view(request, *args, **kwargs)

    return guarded


class DiscoveryView(ConnectDiscoveryInfoView):
    """The toolkit's discovery document, stating only what this portal accepts."""

    def get(self, request, *args, **kwargs):
        toolkit_response = super().get(request, *args, **kwargs)
        document = json.loads(toolkit_response.content)

        # The toolkit lists HS256 whenever it could sign with a client secret; we never do.
        document["id_token_signing_alg_values_supported"] = [AbstractApplication.RS256_ALGORITHM]
        document["grant_types_supported"] = sorted(_TOKEN_ENDPOINT_GRANTS)

        response = JsonResponse(document)
        response["Access-Control-Allow-Origin"] = "*"
        return response
