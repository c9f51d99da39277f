"""The decision point: ``authorize()`` for one object, ``restrict()`` for a queryset.

Both read the same compact summary of a person's grants, resolved from the database once per
version (see ``apps.rbac.versions``) and cached in the shared cache and in process memory:

* a map from (resource, action) to the scopes granted, each scope written ``all``, ``own`` or
  ``kind:value`` with the role and binding that granted it;
* the ids of objects granted one by one (django-guardian rows, for the person and their groups),
  resolved per resource and action on first use, or a marker saying there are too many to hold,
  in which case the database is asked instead.
"""

import logging
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission as AuthPermission
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connections, models
from django.db.models import F, Q, Value
from django.db.models.functions import Cast, Replace
from django.utils import timezone
from guardian.models import GroupObjectPermission, UserObjectPermission

from apps.rbac import registry, versions
from apps.rbac.models import SCOPE_ALL, SCOPE_OWN, WILDCARD, RoleBinding

logger = logging.getLogger(__name__)

GRANTS_KEY = "rbac:grants:{}:{}"
OBJECTS_KEY = "rbac:objects:{}:{}:{}:{}"
CACHE_SECONDS = 3600
# Beyond this many single-object grants for one resource and action, the ids are not held in
# memory: restrict() joins the grant table in SQL instead and authorize() asks per object.
OBJECT_ID_LIMIT = 20_000
MEMO_SIZE = 20_000
# A binding's "last used" time is written at most this often per process.
USAGE_WRITE_INTERVAL = 3600

# Django's own permission verbs, so that the stock codenames are reused for object grants.
_GUARDIAN_VERBS = {"read": "view", "write": "change", "create": "add", "delete": "delete"}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str

    def __bool__(self):
        return self.allowed


@dataclass
class Grants:
    """Everything one person may do, as of one version of the grant tables."""

    user_id: object
    version: str = ""
    active: bool = False
    superuser: bool = False
    requires_mfa: bool = False
    roles: frozenset = frozenset()
    group_ids: tuple = ()
    valid_until: datetime | None = None
    # (resource, action) -> {scope: (role name, binding id)}
    scopes: dict = field(default_factory=dict)

    def scopes_for(self, resource: str, action: str) -> dict:
        found = {}
        for key in ((WILDCARD, WILDCARD), (WILDCARD, action), (resource, WILDCARD)):
            found.update(self.scopes.get(key, {}))
        found.update(self.scopes.get((resource, action), {}))
        return found


_memo: OrderedDict = OrderedDict()
_usage_written: dict = {}


def _remember(key, value):
    _memo[key] = value
    _memo.move_to_end(key)
    while len(_memo) > MEMO_SIZE:
        _memo.popitem(last=False)


def _recall(key):
    value = _memo.get(key)
    if value is None:
        value = cache.get(":".join(map(str, key)))
        if value is not None:
            _remember(key, value)
    return value


def _store(key, value):
    _remember(key, value)
    cache.set(":".join(map(str, key)), value, CACHE_SECONDS)


def _narrow(permission_scope: str, binding_scope: str) -> str | None:
    """The scope a permission grants through a binding, or None when it grants nothing."""
    if permission_scope == SCOPE_OWN:
        return SCOPE_OWN
    if not binding_scope:
        # An attribute scope needs a value, and only a binding can supply it.
        return SCOPE_ALL if permission_scope == SCOPE_ALL else None
    kind = binding_scope.partition(":")[0]
    if permission_scope in {SCOPE_ALL, kind}:
        return binding_scope
    return None


def _resolve(user_id, version: str) -> Grants:
    user_model = get_user_model()
    grants = Grants(user_id=user_id, version=version)
    row = user_model.objects.filter(pk=user_id).values("is_active", "is_superuser").first()
    if row is None or not row["is_active"]:
        return grants
    grants.active = True
    grants.superuser = row["is_superuser"]
    grants.group_ids = tuple(
        user_model.groups.through.objects.filter(user_id=user_id).values_list(
            "group_id", flat=True
        )
    )

    now = timezone.now()
    rows = (
        RoleBinding.objects.filter(Q(user_id=user_id) | Q(group_id__in=grants.group_ids))
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .values_list(
            "id",
            "scope",
            "expires_at",
            "role__name",
            "role__requires_mfa",
            "role__permissions__resource",
            "role__permissions__action",
            "role__permissions__scope",
        )
    )
    roles = set()
    for binding_id, binding_scope, expires_at, role, requires_mfa, res, act, perm_scope in rows:
        roles.add(role)
        grants.requires_mfa = grants.requires_mfa or requires_mfa
        if expires_at is not None and (
            grants.valid_until is None or expires_at < grants.valid_until
        ):
            grants.valid_until = expires_at
        if res is None:
            continue
        scope = _narrow(perm_scope, binding_scope)
        if scope is not None:
            grants.scopes.setdefault((res, act), {}).setdefault(scope, (role, binding_id))
    grants.roles = frozenset(roles)
    return grants


def grants_for(user) -> Grants | None:
    """The person's current grants, or None for an anonymous visitor."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    version = versions.current(user.pk)
    key = ("rbac", "grants", user.pk, version)
    grants = _recall(key)
    # A binding that expires lapses on time, even though no write bumped the version.
    if grants is None or (grants.valid_until and grants.valid_until <= timezone.now()):
        grants = _resolve(user.pk, version)
        _store(key, grants)
    return grants


def deciding_soon(user):
    """A block at whose end a decision for ``user`` is asked: what it reads first goes out now.

    Use it around a database read that must come before the decision (the object decided on):
    the shared cache answers meanwhile (``versions.reading_ahead``).
    """
    is_person = user is not None and getattr(user, "is_authenticated", False)
    return versions.reading_ahead(user.pk if is_person else None)


def guardian_codename(declaration: registry.Declaration, action: str) -> str:
    return f"{_GUARDIAN_VERBS.get(action, action)}_{declaration.model._meta.model_name}"


def guardian_permission_id(declaration, action) -> int | None:
    content_type = ContentType.objects.get_for_model(declaration.model)
    key = ("rbac", "authperm", content_type.pk, action)
    found = _memo.get(key)
    if found is None:
        found = (
            AuthPermission.objects.filter(
                content_type=content_type, codename=guardian_codename(declaration, action)
            )
            .values_list("pk", flat=True)
            .first()
        )
        if found is None:
            return None
        _remember(key, found)
    return found


def _grant_rows(grants: Grants, declaration, action):
    """The guardian rows granting ``action`` on objects of this model to the person."""
    permission_id = guardian_permission_id(declaration, action)
    if permission_id is None:
        return None
    content_type = ContentType.objects.get_for_model(declaration.model)
    mine = UserObjectPermission.objects.filter(
        user_id=grants.user_id, permission_id=permission_id, content_type=content_type
    ).values_list("object_pk", flat=True)
    theirs = GroupObjectPermission.objects.filter(
        group_id__in=grants.group_ids, permission_id=permission_id, content_type=content_type
    ).values_list("object_pk", flat=True)
    return mine, theirs


_TOO_MANY = "too-many"


def object_ids(grants: Grants, user, declaration, action):
    """The ids (as text) of objects granted one by one, or _TOO_MANY to ask SQL instead."""
    key = ("rbac", "objects", user.pk, grants.version, declaration.resource, action)
    found = _recall(key)
    if found is not None:
        return found
    rows = _grant_rows(grants, declaration, action)
    if rows is None:
        found = frozenset()
    else:
        mine, theirs = rows
        ids = (
            list(mine.union(theirs)[: OBJECT_ID_LIMIT + 1])
            if grants.group_ids
            else list(mine[: OBJECT_ID_LIMIT + 1])
        )
        found = _TOO_MANY if len(ids) > OBJECT_ID_LIMIT else frozenset(ids)
    _store(key, found)
    return found


def _has_object_grant(grants, user, declaration, action, obj) -> bool:
    ids = object_ids(grants, user, declaration, action)
    if ids != _TOO_MANY:
        return str(obj.pk) in ids
    mine, theirs = _grant_rows(grants, declaration, action)
    return (
        mine.filter(object_pk=str(obj.pk)).exists()
        or theirs.filter(object_pk=str(obj.pk)).exists()
    )


def _note_usage(binding_id) -> None:
    now = time.monotonic()
    if now - _usage_written.get(binding_id, -USAGE_WRITE_INTERVAL) < USAGE_WRITE_INTERVAL:
        return
    _usage_written[binding_id] = now
    RoleBinding.objects.filter(pk=binding_id).update(last_used_at=timezone.now())


def _allow(reason: str, via) -> Decision:
    if via is not None:
        _note_usage(via[1])
    return Decision(True, reason)


def authorize(user, action: str, resource: str, obj=None) -> Decision:
    """May ``user`` do ``action`` on ``resource`` (on ``obj`` when given)? Denies by default.

    Without an object the question is whether the person may do the action on some object of
    the resource at all (a list page, a create form); with one, whether on that object.
    """
    grants = grants_for(user)
    if grants is None:
        return Decision(False, "not signed in")
    if not grants.active:
        return Decision(False, "account inactive or gone")
    if grants.superuser:
        return Decision(True, "superuser")
    if obj is None:
        return _decide_on_resource(grants, user, action, resource)
    return _decide_on_object(grants, user, action, resource, obj)


def authorize_every_object(user, action: str, resource: str) -> Decision:
    """May ``user`` do ``action`` on every object of ``resource``, whatever its scope?

    For pages and lists that cannot be narrowed row by row (roles, bindings, grants: resources
    not declared to the registry): a permission scoped to a partner or to one's own objects
    must not open them whole, so only an unscoped grant (``all``) counts.
    """
    grants = grants_for(user)
    if grants is None:
        return Decision(False, "not signed in")
    if not grants.active:
        return Decision(False, "account inactive or gone")
    if grants.superuser:
        return Decision(True, "superuser")
    via = grants.scopes_for(resource, action).get(SCOPE_ALL)
    if via is not None:
        return _allow(f"role {via[0]} grants {resource}:{action}:all", via)
    return Decision(False, f"no unscoped grant of {resource}:{action}")


def people_allowed_everywhere(action: str, resource: str):
    """Active accounts that may do ``action`` on every object of ``resource``, as a queryset.

    Superusers, and holders of an unscoped grant (``all``, or a wildcard) through a binding
    without a scope that has not expired, personally or through a group. For finding who
    works a queue (to alert them), never for deciding: ``authorize()`` decides.
    """
    live = Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
    bindings = RoleBinding.objects.filter(
        live,
        scope="",
        role__permissions__resource__in=[resource, WILDCARD],
        role__permissions__action__in=[action, WILDCARD],
        role__permissions__scope=SCOPE_ALL,
    )
    holders = (
        Q(is_superuser=True)
        | Q(pk__in=bindings.exclude(user=None).values("user_id"))
        | Q(groups__in=bindings.exclude(group=None).values("group_id"))
    )
    return get_user_model().objects.filter(holders, is_active=True).distinct()


def scope_values(user, action: str, resource: str, kind: str) -> list[str] | None:
    """The values of ``kind`` (partner ids for "partner") in the person's scopes of the action.

    None when nothing narrows them (a superuser, an unscoped grant); an empty list when no grant
    names one. For offering choices in forms; ``authorize()`` still decides what is saved.
    """
    grants = grants_for(user)
    if grants is None or not grants.active:
        return []
    if grants.superuser:
        return None
    scopes = grants.scopes_for(resource, action)
    if SCOPE_ALL in scopes:
        return None
    prefix = f"{kind}:"
    return [scope[len(prefix) :] for scope in scopes if scope.startswith(prefix)]


def _decide_on_resource(grants, user, action, resource) -> Decision:
    scopes = grants.scopes_for(resource, action)
    if scopes:
        scope, via = next(iter(scopes.items()))
        return _allow(f"role {via[0]} grants {resource}:{action}:{scope}", via)
    declaration = registry.for_resource(resource)
    if declaration is not None and object_ids(grants, user, declaration, action):
        return Decision(True, f"object grants of {resource}:{action} exist")
    return Decision(False, f"no role grants {resource}:{action}")


def _matching_scope(scopes, declaration, user, obj) -> str | None:
    if SCOPE_ALL in scopes:
        return SCOPE_ALL
    if SCOPE_OWN in scopes and declaration.owner and declaration.owner_id(obj) == user.pk:
        return SCOPE_OWN
    for kind in declaration.attributes:
        scope = f"{kind}:{declaration.attribute_value(obj, kind)}"
        if scope in scopes:
            return scope
    return None


def _decide_on_object(grants, user, action, resource, obj) -> Decision:
    declaration = registry.for_resource(resource)
    # An object of another type must never borrow this resource's grants.
    if declaration is None or not isinstance(obj, declaration.model):
        return Decision(False, f"{type(obj).__name__} is not declared as {resource}")

    scopes = grants.scopes_for(resource, action)
    scope = _matching_scope(scopes, declaration, user, obj)
    if scope is not None:
        via = scopes[scope]
        return _allow(f"role {via[0]} grants {resource}:{action}:{scope}", via)
    if _has_object_grant(grants, user, declaration, action, obj):
        return Decision(True, f"object grant {resource}:{action} on {obj.pk}")
    return Decision(False, f"no grant of {resource}:{action} covers this object")


def _typed(model_field, values):
    typed = []
    for value in values:
        try:
            typed.append(model_field.to_python(value))
        except (ValidationError, ValueError, TypeError):
            logger.warning("ignoring scope value of the wrong type for %s", model_field.name)
    return typed


def _object_pk_as_key(model, alias):
    """Guardian's text object id, as the database stores the model's primary key."""
    internal = model._meta.pk.get_internal_type()
    if internal == "UUIDField" and connections[alias].vendor != "postgresql":
        # Without a native UUID type Django stores 32 hex digits; str(uuid) has hyphens.
        return Replace("object_pk", Value("-"), Value(""))
    if internal == "UUIDField":
        return Cast("object_pk", models.UUIDField())
    if internal in {"AutoField", "BigAutoField", "IntegerField", "BigIntegerField"}:
        return Cast("object_pk", models.BigIntegerField())
    return F("object_pk")


def restrict(queryset, user, action: str):
    """``queryset`` narrowed, in SQL, to the objects ``authorize()`` would allow."""
    declaration = registry.for_model(queryset.model)
    grants = grants_for(user)
    if grants is None or not grants.active:
        return queryset.none()
    if grants.superuser:
        return queryset

    scopes = grants.scopes_for(declaration.resource, action)
    if SCOPE_ALL in scopes:
        return queryset

    conditions = []
    if SCOPE_OWN in scopes and declaration.owner:
        conditions.append(Q(**{declaration.column(declaration.owner): user.pk}))
    for kind, field_name in declaration.attributes.items():
        prefix = f"{kind}:"
        values = [scope[len(prefix) :] for scope in scopes if scope.startswith(prefix)]
        if values:
            model_field = declaration.model._meta.get_field(field_name)
            typed = _typed(model_field, values)
            if typed:
                conditions.append(Q(**{f"{declaration.column(field_name)}__in": typed}))

    ids = object_ids(grants, user, declaration, action)
    if ids == _TOO_MANY:
        mine, theirs = _grant_rows(grants, declaration, action)
        for rows in (mine, theirs):
            as_pk = rows.annotate(as_pk=_object_pk_as_key(declaration.model, queryset.db))
            conditions.append(Q(pk__in=as_pk.values("as_pk")))
    elif ids:
        conditions.append(Q(pk__in=_typed(declaration.model._meta.pk, sorted(ids))))

    if not conditions:
        return queryset.none()
    combined = conditions[0]
    for condition in conditions[1:]:
        combined |= condition
    return queryset.filter(combined)


def forget_memory() -> None:
    _memo.clear()
    _usage_written.clear()
