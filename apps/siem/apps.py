"""Security events, detection and incidents."""

from django.apps import AppConfig


class SiemConfig(AppConfig):
    name = "apps.siem"
    label = "siem"
    verbose_name = "Security events"

    def ready(self):
        from apps.siem import receivers  # noqa: F401 - connects the detection hand-off
