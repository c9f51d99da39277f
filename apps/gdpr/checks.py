"""System check: every model marked personal has a privacy provider."""

from django.apps import apps
from django.core import checks

from apps.gdpr import registry


def _personal_models() -> list[str]:
    """Labels of the models the classification registry (apps.core.classification) marks
    personal; empty while that registry is not installed."""
    try:
        from apps.core import classification
    except ImportError:
        return []
    return [
        model._meta.label
        for model in classification.classified_models()
        if classification.policy_of(model).personal
    ]


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
        app_label, _, model_name = label.partition(".")
        if app_label not in apps.app_configs:
            # A provider may answer for an optional app; it matters only once it is installed.
            continue
        try:
            apps.get_model(app_label, model_name)
        except LookupError:
            errors.append(
                checks.Warning(
                    f"a privacy provider names {label}, which is not installed", id="gdpr.W001"
                )
            )
    return errors


def register_checks() -> None:
    checks.register(providers_cover_personal_models, "gdpr")
