"""Roles, permissions, bindings and object grants."""

from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class RbacConfig(AppConfig):
    name = "apps.rbac"
    label = "rbac"
    verbose_name = "Access control"

    def ready(self):
        from apps.rbac import events, receivers  # noqa: F401

        # Each app declares its protected models in its own rbac.py.
        autodiscover_modules("rbac")
