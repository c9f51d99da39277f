"""Card tokenisation and controlled detokenisation."""

from django.apps import AppConfig


class PciConfig(AppConfig):
    name = "apps.pci"
    label = "pci"
    verbose_name = "Card vault"

    def ready(self):
        from django.urls import register_converter

        from apps.pci.converters import CardTokenConverter

        # Before any URLconf is loaded: card addresses match only the shapes of a token.
        register_converter(CardTokenConverter, "card_token")
