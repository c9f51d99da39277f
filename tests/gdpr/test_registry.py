"""The provider registry: discovered at start-up, in a fixed order, checked against the models."""

import pytest

from apps.gdpr import checks, registry

BUILT_IN = [
    "consents", "partner_customers", "sessions", "admin_log", "outbox", "security_events",
    "email_addresses", "account",
]  # fmt: skip


def test_the_built_in_providers_are_discovered_in_their_fixed_order():
    names = [provider.name for provider in registry.providers()]
    assert [name for name in names if name in BUILT_IN] == BUILT_IN
    assert names[-1] == "account", "the account row goes last: everything else points at it"


def test_a_personal_model_without_a_provider_fails_the_system_check(monkeypatch):
    monkeypatch.setattr(
        checks, "_personal_models", lambda: ["partners.Customer", "partners.Partner"]
    )

    errors = checks.providers_cover_personal_models()

    assert [error.id for error in errors] == ["gdpr.E001"]
    assert "partners.Partner" in errors[0].msg


def test_every_model_a_provider_names_exists():
    assert checks.providers_cover_personal_models() == []


def test_two_providers_cannot_share_a_name():
    class Impostor(registry.Provider):
        name = "account"

    with pytest.raises(ValueError, match="account"):
        registry.register(Impostor)
