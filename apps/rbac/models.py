"""Permissions, roles and the bindings that hand roles to people and groups.

A permission is a resource, an action and a scope pattern, written ``resource:action:scope``:

* ``all``: every object of the resource;
* ``own``: objects whose declared owner is the user (see ``apps.rbac.registry``);
* an attribute name such as ``partner``: objects whose declared ``partner`` attribute equals the
  value the binding carries, so the role ``partner-client`` bound with scope ``partner:42``
  grants ``customers:read:partner:42``.

Grants on single objects are not modelled here: they are django-guardian rows, reached only
through ``apps.rbac.services``.
"""

import uuid

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q
from guardian.models import GroupObjectPermission, UserObjectPermission

WILDCARD = "*"
SCOPE_ALL = "all"
SCOPE_OWN = "own"


class Permission(models.Model):
    """One right: ``customers:read:partner``. ``*`` as resource or action matches any."""

    resource = models.SlugField(max_length=64)
    action = models.SlugField(max_length=64)
    scope = models.SlugField(
        max_length=64,
        help_text="all, own, or the name of a scope attribute such as partner",
    )
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["resource", "action", "scope"]
        constraints = [
            models.UniqueConstraint(
                fields=["resource", "action", "scope"], name="rbac_permission_unique"
            )
        ]

    def __str__(self):
        return f"{self.resource}:{self.action}:{self.scope}"

    @property
    def is_attribute_scope(self) -> bool:
        return self.scope not in {SCOPE_ALL, SCOPE_OWN}


class Role(models.Model):
    """A named bundle of permissions, handed out through bindings."""

    name = models.SlugField(max_length=64, unique=True)
    description = models.TextField(blank=True)
    permissions = models.ManyToManyField(Permission, related_name="roles", blank=True)
    requires_mfa = models.BooleanField(
        default=False, help_text="Holders must sign in with a second factor."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class RoleBinding(models.Model):
    """A role held by one user or by every member of a group, optionally narrowed and timed.

    A binding with a scope (``partner:42``) narrows every permission of its role to that scope:
    ``all`` and the matching attribute scope become ``partner:42``; ``own`` stays ``own``;
    permissions scoped to another attribute grant nothing through it.
    """

    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="bindings")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="role_bindings",
    )
    group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.CASCADE, related_name="role_bindings"
    )
    scope = models.CharField(
        max_length=128,
        blank=True,
        help_text="Optional narrowing, written kind:value, e.g. partner:42",
    )
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reason = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False, group__isnull=True))
                | (Q(user__isnull=True, group__isnull=False)),
                name="rbac_binding_user_xor_group",
            )
        ]

    def __str__(self):
        holder = f"user #{self.user_id}" if self.user_id else f"group #{self.group_id}"
        scope = f" on {self.scope}" if self.scope else ""
        return f"{self.role} for {holder}{scope}"

    @property
    def scope_kind(self) -> str:
        return self.scope.partition(":")[0]

    @property
    def scope_value(self) -> str:
        return self.scope.partition(":")[2]


class AccessReview(models.Model):
    """A saved access review: who held what, granted by whom, last used when.

    Kept so that a review signed off months ago can be shown as it was. It can be shared with
    an auditor through an object grant, which is also why its key is a UUID: review links are
    handed around and must not be guessable in sequence.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    entries = models.JSONField(default=list)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"access review of {self.created_at:%Y-%m-%d %H:%M}"


class UserObjectGrant(UserObjectPermission):
    """A single-object grant to one user, as the admin lists it (a guardian row)."""

    class Meta:
        proxy = True
        verbose_name = "object grant to a user"


class GroupObjectGrant(GroupObjectPermission):
    """A single-object grant to a group's members, as the admin lists it (a guardian row)."""

    class Meta:
        proxy = True
        verbose_name = "object grant to a group"
