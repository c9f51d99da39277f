"""Django's admin, installed with the portal's OTP admin site as the default site.

Kept apart from admin_site.py: this module is imported while apps load, before models exist.
"""

from django.contrib.admin.apps import AdminConfig


class PortalAdminConfig(AdminConfig):
    default_site = "apps.accounts.admin_site.PortalAdminSite"
