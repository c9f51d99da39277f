"""How every admin page is opened: by ``authorize()``, never by Django's model permissions.

``RbacAdminMixin`` is written into the pages of our own apps. Pages we do not write (those of
the libraries we install, and of ``apps.core``, which imports no other app) are put onto it by
``opened_by_access_control()`` when the admin site registers them; see
``apps.accounts.admin_site``. Inlines are part of their page and follow its decision.

A page's own refusals always stand: a page that never adds or never deletes keeps saying so
whatever the person's role allows. Access control can only narrow what a page offers.
"""

from django.contrib import admin
from django.contrib.admin.options import InlineModelAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q

from apps.rbac import registry
from apps.rbac.decisions import authorize, authorize_every_object, restrict, scope_values

PERMISSION_METHODS = (
    "has_view_permission",
    "has_add_permission",
    "has_change_permission",
    "has_delete_permission",
)


class RbacAdminMixin:
    """Open an admin page only to people ``authorize()`` allows, and list only what they may."""

    rbac_resource: str
    rbac_actions = {"view": "read", "add": "create", "change": "write", "delete": "delete"}

    def _rbac(self, request, verb, obj=None) -> bool:
        action = self.rbac_actions[verb]
        if registry.for_resource(self.rbac_resource) is None:
            # Nothing narrows an undeclared resource's rows, so a scoped grant
            # (partner:42) would open all of them: only an unscoped one admits.
            return authorize_every_object(request.user, action, self.rbac_resource).allowed
        return authorize(request.user, action, self.rbac_resource, obj).allowed

    def has_module_permission(self, request):
        return self._rbac(request, "view")

    def has_view_permission(self, request, obj=None):
        return self._rbac(request, "view", obj) or self._rbac(request, "change", obj)

    def has_add_permission(self, request, *args):
        return self._rbac(request, "add")

    def has_change_permission(self, request, obj=None):
        return self._rbac(request, "change", obj)

    def has_delete_permission(self, request, obj=None):
        return self._rbac(request, "delete", obj)

    def save_form(self, request, form, change):
        """The row as the form leaves it, refused unless the person may write it so.

        The page was opened by a decision on no row (adding) or on the row as stored
        (changing, or "save as new" from it). The form may set the very attributes a scope
        is decided on: someone bound to partner:42 could otherwise add a customer to partner
        43, or move one there. The admin calls this before it writes anything.
        """
        obj = super().save_form(request, form, change)
        if not self._rbac(request, "change" if change else "add", obj):
            raise PermissionDenied
        return obj

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if registry.for_resource(self.rbac_resource) is None:
            return queryset
        return restrict(queryset, request.user, "read")

    def get_form(self, request, obj=None, **kwargs):
        # The row the form is for, read by formfield_for_foreignkey while the form is built.
        request._rbac_form_row = obj
        return super().get_form(request, obj, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        """A field a scope is decided on (a customer's partner) offers only the values the
        person's grants name, and the row's own value: the drop-down must not list every
        partner by name to someone who works one. Saving is decided in save_form all the same.
        """
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        declaration = registry.for_resource(self.rbac_resource)
        kinds = [kind for kind, name in (declaration.attributes if declaration else {}).items()
                 if name == db_field.name]  # fmt: skip
        if formfield is None or not kinds:
            return formfield
        row = getattr(request, "_rbac_form_row", None)
        action = self.rbac_actions["add" if row is None else "change"]
        values = scope_values(request.user, action, self.rbac_resource, kinds[0])
        if values is None:
            return formfield
        offered = Q(pk__in=_valid_keys(db_field.target_field, values))
        if row is not None:
            offered |= Q(pk=getattr(row, db_field.attname))
        formfield.queryset = formfield.queryset.filter(offered)
        return formfield

    def get_inlines(self, request, obj):
        return [self._inline_on_this_page(inline) for inline in super().get_inlines(request, obj)]

    def _inline_on_this_page(self, inline):
        # One class per inline and page, built once: the admin asks for inlines on every view.
        built = self.__dict__.setdefault("_rbac_inlines", {})
        if inline not in built:
            built[inline] = _narrowed_by_its_own_refusals(
                RbacInlineMixin, inline, InlineModelAdmin, rbac_page=self
            )
        return built[inline]


def _valid_keys(key_field, values: list[str]) -> list:
    keys = []
    for value in values:
        try:
            keys.append(key_field.to_python(value))
        except (ValidationError, ValueError, TypeError):
            continue  # a malformed scope value names no row
    return keys


class RbacLibraryAdminMixin(RbacAdminMixin):
    """A library's page: its actions that name no permission need the page's change right."""

    def get_actions(self, request):
        # Django offers an action that names no permission to whoever opens the list. The
        # libraries' actions all change rows (celery beat's "disable" and "run tasks", the
        # OAuth toolkit's "revoke tokens", allauth's "mark verified"): reading is not enough.
        actions = super().get_actions(request)
        if self.has_change_permission(request):
            return actions
        return {
            name: entry
            for name, entry in actions.items()
            if getattr(entry[0], "allowed_permissions", None)
        }


class RbacInlineMixin:
    """Rows shown inside a page are part of it: seen with the page, edited when it is."""

    rbac_page: RbacAdminMixin

    def has_view_permission(self, request, obj=None):
        return self.rbac_page.has_view_permission(request, obj)

    def has_add_permission(self, request, obj):
        return self.rbac_page.has_change_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self.rbac_page.has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.rbac_page.has_change_permission(request, obj)


def opened_by_access_control(admin_class, resource: str):
    """``admin_class`` as a page opened by ``authorize()`` for ``resource``.

    For classes we do not write. Whatever permission methods the class overrides (a library's
    token page that never adds, core's read-only logs) still refuse: the page admits what both
    access control and the class allow. An override that defers to Django's model permissions
    (``super()``) therefore refuses everyone but superusers, which fails closed. Its actions
    that name no permission need the right to change, since we cannot tell which only read.
    """
    if issubclass(admin_class, RbacAdminMixin):
        return admin_class
    return _narrowed_by_its_own_refusals(
        RbacLibraryAdminMixin, admin_class, admin.ModelAdmin, rbac_resource=resource
    )


def _narrowed_by_its_own_refusals(mixin, cls, django_base, **attributes):
    """A subclass of ``cls`` deciding through ``mixin``, AND the permission methods ``cls``
    writes itself (those it does not take from ``django_base``)."""
    for name in PERMISSION_METHODS:
        own = getattr(cls, name)
        if own is not getattr(django_base, name):
            attributes[name] = _both(getattr(mixin, name), own)
    attributes["__module__"] = cls.__module__
    return type(cls.__name__, (mixin, cls), attributes)


def _both(decided, own):
    def allowed(self, request, *args, **kwargs):
        return decided(self, request, *args, **kwargs) and own(self, request, *args, **kwargs)

    allowed.__name__ = own.__name__
    return allowed
