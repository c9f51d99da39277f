"""Data-subject requests, consent and retention."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _index_new_columns(using, **kwargs):
    """After every migrate, give new or changed tables the verification scan's search index."""
    from django.db import DEFAULT_DB_ALIAS

    from apps.gdpr import scan

    # The scan searches the default database, the only one the portal has.
    if using == DEFAULT_DB_ALIAS:
        scan.ensure_search_indexes()


class GdprConfig(AppConfig):
    name = "apps.gdpr"
    label = "gdpr"
    verbose_name = "Privacy"

    def ready(self):
        from apps.gdpr import checks, registry
        from apps.siem.events import register_event_type

        registry.autodiscover()
        # Sent once per app after each migrate; this app's own is enough, and comes after
        # every migration of the run has been applied.
        post_migrate.connect(_index_new_columns, sender=self, dispatch_uid="gdpr-scan-indexes")
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
