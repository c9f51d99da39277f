"""Data-subject requests, consent and retention."""

from django.apps import AppConfig


class GdprConfig(AppConfig):
    name = "apps.gdpr"
    label = "gdpr"
    verbose_name = "Privacy"
