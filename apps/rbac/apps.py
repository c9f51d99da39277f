"""Roles, permissions, bindings and object grants."""

from django.apps import AppConfig


class RbacConfig(AppConfig):
    name = "apps.rbac"
    label = "rbac"
    verbose_name = "Access control"
