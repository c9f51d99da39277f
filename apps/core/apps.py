"""Cross-cutting pieces no app owns: client addresses, request context, health."""

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = "Core"

    def ready(self):
        from apps.core.logging import install_log_scrubbing

        # Web processes, Celery workers and management commands all pass through here.
        install_log_scrubbing()
