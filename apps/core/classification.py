"""Every field that holds personal or card data says once how sensitive it is.

A model declares its policy with the ``classified`` decorator::

    @classified(
        personal=True,
        subject="user",                 # whose data a row is (for access events)
        retention_anchor="updated_at",  # retention periods count from this field
        fields={
            "id": internal(),
            "phone": confidential(access_logged=True, retention_days=3 * 365),
            ...
        },
    )
    class Profile(EncryptedModel): ...

Each field gets a class (public, internal, confidential, restricted), whether it must be
encrypted (always for confidential and restricted), whether reads are recorded as
``data.access`` events, how many days it is kept, and the regions where it may be stored.

The system check at the bottom enforces it: a confidential or restricted field that is not an
encrypted field fails ``manage.py check`` (and so start-up and CI), as does a field of a
personal model that has no class, or a field whose regions exclude this deployment's region.
"""

import enum
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.core import checks


class DataClass(enum.StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"
    CONFIDENTIAL = "confidential"
    RESTRICTED = "restricted"


MUST_BE_ENCRYPTED = {DataClass.CONFIDENTIAL, DataClass.RESTRICTED}
ANY_REGION = ("*",)


class RetentionAction(enum.StrEnum):
    ANONYMISE = "anonymise"  # the field is cleared; the row stays
    DELETE = "delete"  # the whole row goes


@dataclass(frozen=True)
class FieldPolicy:
    data_class: DataClass
    encryption_required: bool | None = None
    access_logged: bool = False
    retention_days: int | None = None
    retention_action: RetentionAction = RetentionAction.ANONYMISE
    regions: tuple[str, ...] = ANY_REGION

    @property
    def must_be_encrypted(self) -> bool:
        if self.data_class in MUST_BE_ENCRYPTED:
            return True
        return bool(self.encryption_required)


def public(**options) -> FieldPolicy:
    return FieldPolicy(DataClass.PUBLIC, **options)


def internal(**options) -> FieldPolicy:
    return FieldPolicy(DataClass.INTERNAL, **options)


def confidential(**options) -> FieldPolicy:
    return FieldPolicy(DataClass.CONFIDENTIAL, **options)


def restricted(**options) -> FieldPolicy:
    return FieldPolicy(DataClass.RESTRICTED, **options)


@dataclass(frozen=True)
class ModelPolicy:
    personal: bool
    fields: dict[str, FieldPolicy] = field(default_factory=dict)
    subject: str | None = None
    retention_anchor: str | None = None
    # A model whose retention period restarts when a row is renewed cannot be counted from one
    # column; its own task enforces the period instead (named here), and the generic retention
    # run leaves it alone.
    retention_enforced_by: str | None = None

    def is_access_logged(self, name: str) -> bool:
        policy = self.fields.get(name)
        return policy is not None and policy.access_logged

    def subject_of(self, instance) -> str | None:
        """Whose data this row is, written as security events write subjects."""
        if self.subject is None:
            return None
        value = getattr(instance, f"{self.subject}_id", None)
        return None if value is None else f"user:{value}"


def classified(
    *, personal: bool, fields: dict, subject=None, retention_anchor=None,
    retention_enforced_by=None,
):  # fmt: skip
    """Attach a policy to a model class (as ``Model.data_classification``)."""

    def attach(model):
        model.data_classification = ModelPolicy(
            personal=personal, fields=dict(fields), subject=subject,
            retention_anchor=retention_anchor, retention_enforced_by=retention_enforced_by,
        )  # fmt: skip
        return model

    return attach


def policy_of(model) -> ModelPolicy | None:
    # Looked up on the class itself, so a subclass does not silently inherit a parent's policy.
    return model.__dict__.get("data_classification")


def classified_models():
    return [model for model in apps.get_models() if policy_of(model) is not None]


# --- The system check ------------------------------------------------------------------


def is_encrypted_field(model_field) -> bool:
    """An encrypted field of apps.core.crypto, or a field of an app that seals its values under
    a keyset of its own, says which (``ciphertext_keyset``) and refuses to store anything else
    (the card vault's numbers)."""
    from apps.core.crypto.fields import EncryptedField

    if isinstance(model_field, EncryptedField):
        return True
    return bool(getattr(model_field, "ciphertext_keyset", None))


def classification_errors(models) -> list[checks.CheckMessage]:
    from apps.core.crypto.fields import EncryptedField

    region = settings.PORTAL_DATA_REGION
    errors = []
    for model in models:
        label = model._meta.label
        policy = policy_of(model)
        concrete = {f.name: f for f in model._meta.concrete_fields}
        encrypted = [f for f in concrete.values() if isinstance(f, EncryptedField)]

        if policy is None:
            if encrypted:
                errors.append(
                    checks.Error(
                        f"{label} has encrypted fields but no data classification",
                        hint="Decorate it with apps.core.classification.classified(...).",
                        obj=model,
                        id="core.E111",
                    )
                )
            continue

        for name in policy.fields:
            if name not in concrete:
                errors.append(
                    checks.Error(
                        f"{label} classifies {name!r}, which is not one of its fields",
                        obj=model,
                        id="core.E112",
                    )
                )

        for name, model_field in concrete.items():
            field_policy = policy.fields.get(name)
            if field_policy is None:
                if policy.personal:
                    errors.append(
                        checks.Error(
                            f"{label}.{name} is unclassified, in a model marked personal",
                            hint="Add it to the model's classified(fields=...).",
                            obj=model,
                            id="core.E113",
                        )
                    )
                continue
            if field_policy.must_be_encrypted and not is_encrypted_field(model_field):
                errors.append(
                    checks.Error(
                        f"{label}.{name} is {field_policy.data_class} but not encrypted",
                        hint="Use one of the fields of apps.core.crypto (EncryptedTextField...).",
                        obj=model,
                        id="core.E114",
                    )
                )
            if field_policy.regions != ANY_REGION and region not in field_policy.regions:
                errors.append(
                    checks.Error(
                        f"{label}.{name} may not be stored in region {region!r}",
                        hint=f"Allowed regions: {', '.join(field_policy.regions)}.",
                        obj=model,
                        id="core.E115",
                    )
                )
            anonymised = field_policy.retention_action == RetentionAction.ANONYMISE
            if field_policy.retention_days is not None and anonymised and not model_field.null:
                errors.append(
                    checks.Error(
                        f"{label}.{name} is anonymised after its retention period but not null",
                        obj=model,
                        id="core.E117",
                    )
                )
            if field_policy.retention_days is not None and not (
                policy.retention_anchor or policy.retention_enforced_by
            ):
                errors.append(
                    checks.Error(
                        f"{label}.{name} has a retention period but {label} no retention_anchor",
                        obj=model,
                        id="core.E116",
                    )
                )
    return errors


@checks.register(checks.Tags.security)
def check_data_classification(app_configs=None, **kwargs):
    models = (
        [m for config in app_configs for m in config.get_models()]
        if app_configs
        else apps.get_models()
    )
    return classification_errors(models)
