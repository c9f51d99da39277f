"""The portal as an OpenID Connect provider: which applications may exist and what tokens say.

django-oauth-toolkit does the protocol. This module holds the portal's rules on top of it:

* an application uses the authorization code flow (with PKCE, enforced in settings) or, for
  machine clients, client credentials; implicit, password, hybrid and device grants are
  refused when the application is saved, whatever saves it, and again at every request;
* ID tokens are signed with the portal's RSA key, never with a client secret (HS256);
* ID tokens and the userinfo endpoint carry the address and whether it is verified, so
  a relying party can apply the same linking rules the portal applies to its own providers.
"""

import json

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
