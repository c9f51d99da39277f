"""The OpenID provider's endpoints under /o/: the toolkit's protocol views and nothing else.

Left out on purpose: the toolkit's self-service application pages (partner applications are
registered by staff in the admin), dynamic client registration, the device flow, and
RP-initiated logout, none of which the portal offers.
"""

from django.urls import path, re_path
from oauth2_provider import views

from apps.accounts.oidc import DiscoveryView, refuse_nul_characters

app_name = "oauth2_provider"

urlpatterns = [
    # The endpoints that look anything up by what the client sent are guarded against NUL.
    path(
        "authorize/",
        refuse_nul_characters(views.AuthorizationView.as_view()),
        name="authorize",
    ),
    path("token/", refuse_nul_characters(views.TokenView.as_view()), name="token"),
    path(
        "revoke_token/",
        refuse_nul_characters(views.RevokeTokenView.as_view()),
        name="revoke-token",
    ),
    path(
        "introspect/",
        refuse_nul_characters(views.IntrospectTokenView.as_view()),
        name="introspect",
    ),
    re_path(
        r"^\.well-known/openid-configuration$",
        DiscoveryView.as_view(),
        name="oidc-connect-discovery-info",
    ),
    # RFC 8414 metadata; mounted here, its address also fixes the issuer the toolkit puts in
    # authorization responses to the one the discovery document names.
    path(
        ".well-known/oauth-authorization-server",
        views.OAuthServerMetadataView.as_view(),
        name="oauth-server-metadata",
    ),
    path(".well-known/jwks.json", views.JwksInfoView.as_view(), name="jwks-info"),
    path("userinfo/", refuse_nul_characters(views.UserInfoView.as_view()), name="user-info"),
]
