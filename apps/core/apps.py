"""Cross-cutting pieces no app owns: client addresses, request context, health, encryption."""

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = "Core"

    def ready(self):
        from django.conf import settings

        from apps.core import classification  # noqa: F401 - registers the system check
        from apps.core.crypto.keyring import default_keyring
        from apps.core.logging import install_log_scrubbing

        if settings.PRODUCTION:
            # A missing or malformed keyset stops the process now, not at the first request.
            default_keyring().load_all()

        # Web processes, Celery workers and management commands all pass through here.
        install_log_scrubbing()
