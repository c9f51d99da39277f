"""Cross-cutting pieces no app owns: client addresses, request context, health."""

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = "Core"
