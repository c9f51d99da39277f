from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from apps.api.views import api_not_found

urlpatterns = [
    path("", include("apps.core.urls")),
    path("", include("apps.accounts.urls")),
    path("", include("apps.accounts.mfa.urls")),
    path("", include("apps.gdpr.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    # Partner API, its schema and its docs (assets served locally by the sidecar package).
    path("api/v1/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    # OAuth2 and OpenID Connect: partner sign-in, machine-client tokens, discovery and keys.
    path("o/", include("apps.accounts.oidc_urls", namespace="oauth2_provider")),
    path("account/cards/", include("apps.pci.urls")),
    # Any other address under /api/ answers in the API's error shape, not with an HTML page.
    re_path(r"^api/", api_not_found),
]
