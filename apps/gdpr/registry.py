"""The registry of personal-data providers.

Every app that stores personal data declares a provider in its own ``privacy.py``; the registry
imports those modules when Django starts. A provider knows how to export everything it holds
about a subject and how to erase it (delete it, or pseudonymise what must be kept). Requests
walk the providers in one fixed order, so that records which others point at go last.

This module imports no models, so that a provider module can import it at any time.
"""

from dataclasses import dataclass, field

from django.utils.module_loading import autodiscover_modules

# Positions used by the built-in providers; a new provider picks a free number between them.
ORDER_CONSENTS = 100
ORDER_PROFILE = 150
ORDER_PARTNER_RECORDS = 200
ORDER_SESSIONS = 300
ORDER_CREDENTIALS = 400  # MFA devices, social accounts, tokens
ORDER_ACCESS = 500  # role bindings, object grants
ORDER_ADMIN_LOG = 600
ORDER_OUTBOX = 700
ORDER_SECURITY_EVENTS = 800
ORDER_EMAIL_ADDRESSES = 900
ORDER_ACCOUNT = 1000  # the user row itself, which everything above may point at


@dataclass(frozen=True)
class Subject:
    """Who a request is about, as the providers need to know them.

    ``pseudonym`` is what is left in records that must be kept: the same "user:<id>" reference
    security events already use, which points at nothing once the account row is gone.
    """

    pseudonym: str
    user_id: int | None = None
    customer_ids: tuple[int, ...] = ()
    emails: tuple[str, ...] = field(default=())
    names: tuple[str, ...] = field(default=())
    phones: tuple[str, ...] = field(default=())

    @property
    def identifiers(self) -> tuple[str, ...]:
        return self.emails + self.names + self.phones


class Provider:
    """Base class: set ``name``, ``order`` and ``models``; implement export and erase.

    ``export`` returns ``{table name: [row dict, ...]}``; rows are flat where they can be, so
    that they also make sense as CSV. ``erase`` returns a small summary of counts for the step
    log, never a value from the data. Both must be safe to run twice.
    """

    name = ""
    order = 0
    # "app_label.ModelName" of every model this provider answers for; the system check
    # compares this with the models marked personal.
    models: tuple[str, ...] = ()

    def export(self, subject: Subject) -> dict[str, list[dict]]:
        raise NotImplementedError

    def erase(self, subject: Subject) -> dict:
        raise NotImplementedError


_providers: dict[str, Provider] = {}


def register(provider_class: type[Provider]) -> type[Provider]:
    """Class decorator: add a provider, refusing two with the same name."""
    provider = provider_class()
    if not provider.name:
        raise ValueError(f"{provider_class.__name__} needs a name")
    existing = _providers.get(provider.name)
    if existing is not None and type(existing).__qualname__ != provider_class.__qualname__:
        raise ValueError(f"two privacy providers are named {provider.name!r}")
    _providers[provider.name] = provider
    return provider_class


def providers() -> list[Provider]:
    """Every registered provider, in the fixed order requests walk them."""
    return sorted(_providers.values(), key=lambda provider: (provider.order, provider.name))


def get_provider(name: str) -> Provider:
    return _providers[name]


def covered_models() -> set[str]:
    return {label.lower() for provider in _providers.values() for label in provider.models}


def autodiscover() -> None:
    autodiscover_modules("privacy")
