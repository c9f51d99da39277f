"""Cross-cutting pieces no app owns: client addresses, request context, health, encryption."""

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = "Core"

    def ready(self):
        from celery.signals import task_postrun, task_prerun
        from django.conf import settings

        from apps.core import classification  # noqa: F401 - registers the system check
        from apps.core.crypto import audit
        from apps.core.crypto.keyring import default_keyring
        from apps.core.logging import install_log_scrubbing

        # Reads of access-logged fields inside a task become one data.access event per task.
        task_prerun.connect(audit.open_task_batch, weak=False)
        task_postrun.connect(audit.close_task_batch, weak=False)

        if settings.PRODUCTION:
            # A missing or malformed keyset stops the process now, not at the first request.
            default_keyring().load_all()

        # Web processes, Celery workers and management commands all pass through here.
        install_log_scrubbing()

        from apps.core.converters import RowIdConverter, register_once

        register_once(RowIdConverter, "id")
