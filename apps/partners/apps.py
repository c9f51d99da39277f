"""Partner organisations that integrate through the API, and the customers they manage."""

from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "apps.partners"
    label = "partners"
    verbose_name = "Partners"
