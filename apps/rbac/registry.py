"""Which model is which resource, and how its owner and scope attributes are read.

The app that owns a model declares it in its own ``rbac.py`` module, which ``apps.rbac``
imports at start-up::

    from apps.rbac.registry import declare
    declare(Customer, resource="customers", owner="owner", attributes={"partner": "partner"})

``owner`` and every attribute name a field on the model (a foreign key is read through its
column, so reading it never costs a query). An undeclared model cannot be authorized against:
the decision point refuses it loudly rather than guessing.
"""

from dataclasses import dataclass, field

from django.core.exceptions import ImproperlyConfigured
from django.db import models


@dataclass(frozen=True)
class Declaration:
    resource: str
    model: type[models.Model]
    owner: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)

    def column(self, field_name: str) -> str:
        """The attribute holding the raw value: ``partner_id`` for the ``partner`` key."""
        return self.model._meta.get_field(field_name).attname

    def owner_id(self, obj) -> object:
        return getattr(obj, self.column(self.owner)) if self.owner else None

    def attribute_value(self, obj, kind: str) -> object:
        return getattr(obj, self.column(self.attributes[kind]))


_by_resource: dict[str, Declaration] = {}
_by_model: dict[type[models.Model], Declaration] = {}


def declare(model, *, resource: str, owner: str | None = None, attributes=None) -> Declaration:
    """Make ``model`` known as ``resource``; declaring the same thing twice is harmless."""
    declaration = Declaration(resource, model, owner, dict(attributes or {}))
    for name in [owner, *declaration.attributes.values()]:
        if name is not None:
            model._meta.get_field(name)  # fails at start-up on a typo, not at the first request
    existing = _by_resource.get(resource)
    if existing is not None and existing.model is not model:
        raise ImproperlyConfigured(f"resource {resource!r} is already declared for another model")
    _by_resource[resource] = declaration
    _by_model[model] = declaration
    return declaration


def for_model(model) -> Declaration:
    model = model._meta.concrete_model
    try:
        return _by_model[model]
    except KeyError:
        raise ImproperlyConfigured(f"{model.__name__} is not declared to apps.rbac") from None


def for_resource(resource: str) -> Declaration | None:
    return _by_resource.get(resource)


def declarations() -> list[Declaration]:
    return sorted(_by_resource.values(), key=lambda d: d.resource)
