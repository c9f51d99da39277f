"""Everything under /api/v1/: the API base and each app's own `api_urls` module.

An app joins the API by adding `apps/<app>/api_urls.py`; it is mounted here under /api/v1/
with no other change. The list of apps is fixed and checked at start-up, so a typo in a module
is an import error, never a silently missing endpoint.
"""

from importlib.util import find_spec

from django.conf import settings
from django.urls import include, path

API_APPS = ["api", "accounts", "partners", "rbac", "gdpr", "pci", "siem", "core"]

urlpatterns = [
    path("", include(f"apps.{app}.api_urls"))
    for app in API_APPS
    if find_spec(f"apps.{app}") and find_spec(f"apps.{app}.api_urls")
]

if settings.PORTAL_API_BENCH_VIEWS:
    from apps.partners.bench import PlainCustomerList

    # Never in production (see settings): the baseline bench/api.py compares against.
    urlpatterns.append(path("bench/plain-customers/", PlainCustomerList.as_view()))
