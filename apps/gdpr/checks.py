"""System check: every model marked personal has a privacy provider."""

from django.apps import apps
from django.core import checks

from apps.gdpr import registry


def _personal_models() -> list[str]:
    """Labels of the models the classification registry marks personal, if it is installed.

    TODO: the classification registry (apps/core/classification.py) arrives with the encrypted
    data work; until then there is nothing to compare with and the check passes.
    """
    try:
        from apps.core import classification
    except ImportError:
        return []
    lister = getattr(classification, "personal_models", None)
    if lister is None:
        return []
    labels = []
    for model in lister():
        labels.append(model if isinstance(model, str) else model._meta.label)
    return labels


def providers_cover_personal_models(app_configs=None, **kwargs):
    covered = registry.covered_models()
    errors = []
    for label in _personal_models():
        if label.lower() not in covered:
            errors.append(
                checks.Error(
                    f"{label} holds personal data but no privacy provider answers for it",
                    hint="Declare a Provider listing it in its app's privacy.py (docs/gdpr.md).",
                    id="gdpr.E001",
                )
            )
    for label in sorted(covered):
        try:
            apps.get_model(label)
        except LookupError:
            errors.append(
                checks.Warning(
                    f"a privacy provider names {label}, which is not installed", id="gdpr.W001"
                )
            )
    return errors


def register_checks() -> None:
    checks.register(providers_cover_personal_models, "gdpr")
