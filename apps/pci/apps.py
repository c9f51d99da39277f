"""Card tokenisation and controlled detokenisation."""

from django.apps import AppConfig


class PciConfig(AppConfig):
    name = "apps.pci"
    label = "pci"
    verbose_name = "Card vault"

    def ready(self):
        from apps.core.converters import register_once
        from apps.pci.converters import CardTokenConverter

        # Before any URLconf is loaded: card addresses match only the shapes of a token.
        register_once(CardTokenConverter, "card_token")
