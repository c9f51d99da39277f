"""Security events, detection and incidents."""

from django.apps import AppConfig


class SiemConfig(AppConfig):
    name = "apps.siem"
    label = "siem"
    verbose_name = "Security events"

    def ready(self):
        # Connect the signal receivers: undecryptable-value alerts and the detection hand-off.
        from apps.siem import crypto_receivers, receivers  # noqa: F401
