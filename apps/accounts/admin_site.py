"""The admin is an OTP admin site, and its login page is the portal's login.

django-otp's admin site admits only sessions verified with a second factor. Its own login form
would be a second way in, beside allauth's, with its own throttling and replay rules; instead
`/admin/login/` never signs anyone in and sends the browser to the portal's login, which runs
the second-factor stage and then returns to the admin. Its password form likewise sends staff to
the portal's own password page.

Every page the site registers is opened by access control (``apps.rbac.admin_access``), never
by Django's model permissions: our apps write ``RbacAdminMixin`` into their pages, core's pages
name their ``rbac_resource``, and the pages libraries register themselves are given the
resource listed in ``LIBRARY_PAGES``. A page with none of these stops the start-up.
"""

from functools import wraps
from urllib.parse import urlencode

from django.contrib.admin import ModelAdmin
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db.models.base import ModelBase
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django_otp.admin import OTPAdminSite

from apps.accounts.redirects import is_local_path

# Admin pages the installed libraries register themselves, and the resource each is opened as.
# None is declared to the registry, so only an unscoped grant opens them: their rows are
# credentials and sign-in internals that people manage for themselves on their account pages;
# in the admin, staff work them whole or not at all.
LIBRARY_PAGES = {
    "auth.group": "groups",
    "account.emailaddress": "email-addresses",
    "account.emailconfirmation": "email-addresses",  # registered only without HMAC confirmations
    "socialaccount.socialapp": "social-apps",
    "socialaccount.socialaccount": "social-accounts",
    "socialaccount.socialtoken": "social-accounts",
    "otp_totp.totpdevice": "mfa-devices",
    "usersessions.usersession": "user-sessions",  # then replaced by apps.accounts.admin's page
    "oauth2_provider.accesstoken": "oauth-tokens",
    "oauth2_provider.refreshtoken": "oauth-tokens",
    "oauth2_provider.idtoken": "oauth-tokens",
    "oauth2_provider.grant": "oauth-tokens",
    "django_celery_beat.periodictask": "scheduled-tasks",
    "django_celery_beat.intervalschedule": "scheduled-tasks",
    "django_celery_beat.crontabschedule": "scheduled-tasks",
    "django_celery_beat.solarschedule": "scheduled-tasks",
    "django_celery_beat.clockedschedule": "scheduled-tasks",
}


class PortalAdminSite(OTPAdminSite):
    site_header = "Portal administration"
    site_title = "Portal administration"

    def __init__(self, name="admin"):
        super().__init__(name)

    def register(self, model_or_iterable, admin_class=None, **options):
        """Register pages only as opened by access control; refuse one nobody can place."""
        from apps.rbac.admin_access import opened_by_access_control

        models = (
            [model_or_iterable] if isinstance(model_or_iterable, ModelBase) else model_or_iterable
        )
        for model in models:
            if model._meta.swapped:
                continue  # Django's own User, replaced by ours: the admin skips it too
            page = admin_class or ModelAdmin
            resource = getattr(page, "rbac_resource", None) or LIBRARY_PAGES.get(
                model._meta.label_lower
            )
            if resource is None:
                raise ImproperlyConfigured(
                    f"the admin page of {model._meta.label} names no rbac_resource: every admin "
                    "page is opened by access control (see docs/access-control.md)"
                )
            super().register(model, opened_by_access_control(page, resource), **options)

    def get_urls(self):
        # Django's "view on site" loads any row of any model for any staff member and sends
        # them to its public page. No page here has one (the OAuth toolkit's application names
        # one the portal does not mount: a 500), so it finds nothing; the name stays for the
        # admin's templates.
        nowhere = path("r/<path:content_type_id>/<path:object_id>/",
                       self.admin_view(_not_found), name="view_on_site")  # fmt: skip
        return [
            nowhere if getattr(pattern, "name", None) == "view_on_site" else pattern
            for pattern in super().get_urls()
        ]

    def admin_view(self, view, cacheable=False):
        return super().admin_view(_recording_refusals(view), cacheable)

    @method_decorator(never_cache)
    def login(self, request, extra_context=None):
        next_url = request.GET.get("next", "")
        if not is_local_path(next_url):
            next_url = reverse("admin:index")
        query = urlencode({"next": next_url})
        user = request.user
        if not user.is_authenticated:
            return redirect(f"{reverse('account_login')}?{query}")
        if self.has_permission(request):
            return redirect(next_url)
        # Staff whose session has not passed a second factor prove one, then come back.
        if user.is_active and user.is_staff and not user.is_verified():
            return redirect(f"{reverse('mfa_reauthenticate')}?{query}")
        # Signed in, but not someone the admin admits: the login page would send them straight
        # back here, round and round. This is where such a person's admin visit is refused.
        from apps.rbac.middleware import record_denial

        record_denial(request, user=user, resource="admin", action="read",
                      reason="not admitted to the admin")  # fmt: skip
        raise PermissionDenied

    def password_change(self, request, extra_context=None):
        # One way to change a password: the portal's page, which records
        # auth.password.changed and offers to end other sessions. Django's admin form would
        # change it silently, so it changes nothing and sends staff there.
        return redirect(reverse("account_change_password"))

    def password_change_done(self, request, extra_context=None):
        return redirect(reverse("account_change_password"))


def _not_found(request, *args, **kwargs):
    raise Http404


def _recording_refusals(view):
    """Record ``auth.unauthorized.access`` once when an admin page refuses a signed-in person.

    The admin asks ``has_*_permission`` many times per page (menus, buttons, inlines), so the
    refusal is recorded where a page is actually refused: when its view raises
    PermissionDenied, which Django answers with its plain 403 page.
    """

    @wraps(view)
    def recording(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied:
            from apps.rbac.middleware import record_admin_refusal

            record_admin_refusal(request, view, object_id=kwargs.get("object_id"))
            raise

    return recording
