"""The admin is an OTP admin site, and its login page is the portal's login.

django-otp's admin site admits only sessions verified with a second factor. Its own login form
would be a second way in, beside allauth's, with its own throttling and replay rules; instead
`/admin/login/` never signs anyone in and sends the browser to the portal's login, which runs
the second-factor stage and then returns to the admin.
"""

from functools import wraps
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django_otp.admin import OTPAdminSite

from apps.accounts.redirects import is_local_path


class PortalAdminSite(OTPAdminSite):
    site_header = "Portal administration"
    site_title = "Portal administration"

    def __init__(self, name="admin"):
        super().__init__(name)

    def admin_view(self, view, cacheable=False):
        return super().admin_view(_recording_refusals(view), cacheable)

    @method_decorator(never_cache)
    def login(self, request, extra_context=None):
        next_url = request.GET.get("next", "")
        if not is_local_path(next_url):
            next_url = reverse("admin:index")
        return redirect(f"{reverse('account_login')}?{urlencode({'next': next_url})}")


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
