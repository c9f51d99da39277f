"""Every endpoint under /api/v1/ and every admin page is covered by an access suite.

The routes come from the URL resolver and the models from the admin site, so adding an
endpoint or an admin page without a suite that names it (``covers``) fails here, as does an
admin page opened by anything but access control. Public
endpoints are listed below with the reason they need none; a stale entry fails too.
"""

import inspect

from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver

from apps.rbac.admin_access import RbacAdminMixin
from tests.access import test_admin_suites, test_api_suites
from tests.rbac import test_access_suites

SUITE_MODULES = (test_api_suites, test_admin_suites, test_access_suites)

# Route name -> why no access suite asks about it.
PUBLIC_ROUTES = {
    "api-token": "signs people in: open to anyone, rate limited and locked out per account",
    "api-token-refresh": "takes a refresh token as its only credential",
    "api-token-verify": "answers whether a presented token is valid, nothing more",
    "api-health": "liveness for load balancers; says nothing about data",
}


def _routes(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.name


def api_route_names() -> set[str]:
    found = set()
    for route, name in _routes(get_resolver().url_patterns):
        if route.startswith("api/v1/"):
            assert name, f"every API route needs a name to be covered: {route}"
            found.add(name)
    return found


def suite_classes():
    for module in SUITE_MODULES:
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and getattr(cls, "covers", ()):
                yield cls


def covered():
    names, models = set(), set()
    for cls in suite_classes():
        for item in cls.covers:
            (models if inspect.isclass(item) else names).add(item)
    return names, models


def test_every_api_endpoint_is_covered_by_an_access_suite():
    names, _ = covered()
    routes = api_route_names()

    assert routes - names - set(PUBLIC_ROUTES) == set(), "endpoints without an access suite"
    assert names - routes == set(), "suites cover routes that no longer exist"
    assert set(PUBLIC_ROUTES) <= routes, "a public route listed here no longer exists"
    assert not set(PUBLIC_ROUTES) & names


def test_every_admin_page_is_opened_by_access_control_and_covered_by_an_access_suite():
    _, models = covered()
    registered = {model._meta.label_lower for model in admin.site._registry}
    suite_pages = {model._meta.label_lower for model in models}

    assert registered - suite_pages == set(), "admin pages without a suite"
    assert suite_pages - registered == set(), "suites cover admin pages that no longer exist"
    # No page is left to Django's model permissions: each decides through authorize().
    opened_otherwise = {
        model._meta.label_lower
        for model, page in admin.site._registry.items()
        if not isinstance(page, RbacAdminMixin)
    }
    assert opened_otherwise == set()


def test_the_guard_sees_a_new_endpoint_that_no_suite_covers():
    # The guard itself must be able to fail: a route no suite names is reported.
    routes = api_route_names() | {"api-new-thing"}
    names, _ = covered()

    assert routes - names - set(PUBLIC_ROUTES) == {"api-new-thing"}


def test_the_guard_sees_an_admin_page_that_no_suite_covers():
    # Likewise for the admin: a page no suite names is reported.
    _, models = covered()
    suite_pages = {model._meta.label_lower for model in models}
    registered = {model._meta.label_lower for model in admin.site._registry} | {"app.new"}

    assert registered - suite_pages == {"app.new"}
