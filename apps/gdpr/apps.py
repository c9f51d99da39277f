"""Data-subject requests, consent and retention."""

from django.apps import AppConfig


class GdprConfig(AppConfig):
    name = "apps.gdpr"
    label = "gdpr"
    verbose_name = "Privacy"

    def ready(self):
        from apps.gdpr import checks, registry
        from apps.siem.events import register_event_type

        registry.autodiscover()
        checks.register_checks()
        for event_type, (severity, outcome) in EVENT_TYPES.items():
            register_event_type(event_type, severity, outcome)


EVENT_TYPES = {
    "gdpr.request.received": ("info", "success"),
    "gdpr.request.approved": ("info", "success"),
    "gdpr.request.rejected": ("low", "success"),
    "gdpr.request.cancelled": ("info", "success"),
    "gdpr.request.completed": ("info", "success"),
    "gdpr.request.failed": ("high", "failure"),
    "gdpr.request.overdue": ("medium", "unknown"),
    "gdpr.export.downloaded": ("info", "success"),
    "gdpr.consent.changed": ("info", "success"),
}
