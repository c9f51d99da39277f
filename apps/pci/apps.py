"""Card tokenisation and controlled detokenisation."""

from django.apps import AppConfig


class PciConfig(AppConfig):
    name = "apps.pci"
    label = "pci"
    verbose_name = "Card vault"
