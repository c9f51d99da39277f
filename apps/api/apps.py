from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The partner API's shared base: authentication, errors, paging, throttling, tokens."""

    name = "apps.api"
    label = "api"
    verbose_name = "Partner API"

    def ready(self):
        from apps.api import receivers, schema  # noqa: F401 - signal receivers, schema parts
