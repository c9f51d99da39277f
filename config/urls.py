from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

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
    # The split view serves Swagger UI's start-up script as a file of its own, not inline, so
    # the docs page runs no inline script (no ReDoc: its page needs one). Swagger UI does set
    # inline styles, which this page alone allows; it shows the public schema and no one's data.
    path(
        "api/docs/",
        csp_update({"style-src": ["'self'", "'unsafe-inline'"]})(
            SpectacularSwaggerSplitView.as_view(url_name="api-schema")
        ),
        name="api-docs",
    ),
    # OAuth2 and OpenID Connect: partner sign-in, machine-client tokens, discovery and keys.
    path("o/", include("apps.accounts.oidc_urls", namespace="oauth2_provider")),
    path("account/cards/", include("apps.pci.urls")),
    # Any other address under /api/ answers in the API's error shape, not with an HTML page.
    re_path(r"^api/", api_not_found),
]
