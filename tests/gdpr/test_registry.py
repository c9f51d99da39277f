"""The provider registry: discovered at start-up, in a fixed order, checked against the models."""

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model

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


def test_every_model_that_points_at_a_user_has_a_provider():
    # A safety net beside the classification check: a foreign key to the user model is
    # personal data by construction. Auth's own permission tables hold nothing personal.
    exempt = {"auth.group", "auth.permission"}
    covered = registry.covered_models()
    user_model = get_user_model()
    missing = [
        model._meta.label
        for model in apps.get_models()
        if model._meta.label_lower not in covered | exempt
        and any(
            field.concrete and getattr(field, "related_model", None) is user_model
            for field in model._meta.get_fields()
        )
    ]
    assert missing == []
