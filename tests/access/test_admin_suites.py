"""The access suite on every admin page.

Pages opened by access control (``RbacAdminMixin``) subclass ``AdminAccessSuite``: roles,
bindings and object grants are not declared to the registry, so their rows cannot be narrowed
and only an unscoped grant opens them (the suite asks a person holding the same permission
scoped to a partner, who must be refused). Incidents are declared (an assignee holds an object
grant on the incident); customers and access reviews are in ``tests/rbac/test_access_suites.py``.

Every other page is still opened by Django's model permissions, which have no scope: a holder
of ``view_<model>`` sees every row, so there is no scoped person and no id to change that
reaches something the page would otherwise hide. For those pages the suite's questions shrink
to anonymous, signed in but not staff, staff without the permission (refused with a plain 403
that is recorded once), and staff with it; ``MODEL_PERMISSION_PAGES`` lists them.
"""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.auth.models import Permission as AuthPermission
from django.test import Client

from apps.rbac.models import GroupObjectGrant, Role, RoleBinding, UserObjectGrant
from apps.rbac.services import bind_role, create_role, ensure_permission, grant_object_permission
from apps.siem.models import Incident, SecurityEvent
from tests.access_suite import INTERNAL_WORDS, UNAUTHORIZED, AdminAccessSuite
from tests.conftest import make_person
from tests.support import force_login_verified


def _admin_url(model, suffix=""):
    return f"/admin/{model._meta.app_label}/{model._meta.model_name}/{suffix}"


@pytest.fixture
def two_roles(db):
    return tuple(
        create_role(
            name=f"suite-page-{n}",
            permissions=[ensure_permission(f"things:read:{n}")],
            created_by=None,
            reason="suite",
        )
        for n in ("a", "b")
    )


@pytest.fixture
def two_bindings(two_roles, casey, dana):
    return tuple(
        bind_role(role=role, user=person, granted_by=None, reason="suite")
        for role, person in zip(two_roles, (casey, dana), strict=True)
    )


@pytest.fixture
def two_user_grants(two_customers, casey, dana):
    for customer, person in zip(two_customers, (dana, casey), strict=True):
        grant_object_permission(customer, "read", user=person, granted_by=None, reason="suite")
    return tuple(UserObjectGrant.objects.get(user=person) for person in (dana, casey))


@pytest.fixture
def two_group_grants(two_customers):
    groups = [Group.objects.create(name=f"suite-auditors-{n}") for n in ("a", "b")]
    for customer, group in zip(two_customers, groups, strict=True):
        grant_object_permission(customer, "read", group=group, granted_by=None, reason="suite")
    return tuple(GroupObjectGrant.objects.get(group=group) for group in groups)


class _RbacPage(AdminAccessSuite):
    model: type

    @property
    def list_url(self):
        return _admin_url(self.model)

    def detail_url(self, obj):
        return _admin_url(self.model, f"{obj.pk}/change/")


class TestRoleAdmin(_RbacPage):
    resource = "roles"
    model = Role
    covers = (Role,)

    @pytest.fixture
    def access_objects(self, two_roles):
        return two_roles


class TestRoleBindingAdmin(_RbacPage):
    resource = "role-bindings"
    model = RoleBinding
    covers = (RoleBinding,)

    @pytest.fixture
    def access_objects(self, two_bindings):
        return two_bindings


class TestUserObjectGrantAdmin(_RbacPage):
    resource = "object-grants"
    model = UserObjectGrant
    covers = (UserObjectGrant,)

    @pytest.fixture
    def access_objects(self, two_user_grants):
        return two_user_grants


class TestGroupObjectGrantAdmin(_RbacPage):
    resource = "object-grants"
    model = GroupObjectGrant
    covers = (GroupObjectGrant,)

    @pytest.fixture
    def access_objects(self, two_group_grants):
        return two_group_grants


@pytest.fixture
def two_incidents(db):
    from django.utils import timezone

    return tuple(
        Incident.objects.create(title=title, severity="high", detected_at=timezone.now())
        for title in ("inside", "outside")
    )


class TestIncidentAdmin(_RbacPage):
    resource = "incidents"
    model = Incident
    covers = (Incident,)

    @pytest.fixture
    def access_objects(self, two_incidents):
        return two_incidents


def test_a_partner_scoped_officer_cannot_bind_a_role_in_the_admin(two_roles, casey):
    """A compliance officer bound to one partner holds role-bindings:write:partner:<id>; the
    binding page cannot be narrowed to a partner, so it must not let them hand out roles."""
    officer = make_person("scoped.officer@example.com", is_staff=True)
    bind_role(role=Role.objects.get(name="compliance-officer"), user=officer, scope="partner:1",
              granted_by=None, reason="a partner's own officer")  # fmt: skip
    browser = Client()
    force_login_verified(browser, officer)
    administrator = Role.objects.get(name="administrator")

    form = {"role": administrator.pk, "user": officer.pk, "reason": "mine"}

    response = browser.post(_admin_url(RoleBinding, "add/"), form)

    assert response.status_code == 403
    assert not RoleBinding.objects.filter(user=officer, role=administrator).exists()


# --- Pages opened by Django's model permissions ------------------------------------------------

MODEL_PERMISSION_PAGES = [
    "account.emailaddress",
    "accounts.profile",
    "accounts.user",
    "api.tokensession",
    "auth.group",
    "core.keyrotation",
    "core.outboundemail",
    "core.retentionrecord",
    "django_celery_beat.clockedschedule",
    "django_celery_beat.crontabschedule",
    "django_celery_beat.intervalschedule",
    "django_celery_beat.periodictask",
    "django_celery_beat.solarschedule",
    "gdpr.consentpurpose",
    "gdpr.consentrecord",
    "gdpr.datasubjectrequest",
    "oauth2_provider.accesstoken",
    "oauth2_provider.application",
    "oauth2_provider.grant",
    "oauth2_provider.idtoken",
    "oauth2_provider.refreshtoken",
    "otp_totp.totpdevice",
    "partners.partner",
    "partners.partnerapplication",
    "pci.cardaccessevent",
    "pci.cardtoken",
    "siem.addressrestriction",
    "siem.detectionrule",
    "siem.securityevent",
    "socialaccount.socialaccount",
    "socialaccount.socialapp",
    "socialaccount.socialtoken",
    "usersessions.usersession",
]


def _registered(label):
    return next(m for m in admin.site._registry if m._meta.label_lower == label)


def _staff_browser(email, *permissions):
    person = make_person(email, is_staff=True)
    person.user_permissions.add(*permissions)
    browser = Client()
    force_login_verified(browser, person)
    return person, browser


@pytest.mark.parametrize("label", MODEL_PERMISSION_PAGES)
def test_a_model_permission_page_admits_only_staff_holding_the_permission(db, label):
    model = _registered(label)
    changelist = _admin_url(model)
    view = AuthPermission.objects.get(
        content_type__app_label=model._meta.app_label, codename=f"view_{model._meta.model_name}"
    )

    # Anonymous and signed-in people who are not staff go to the login page.
    assert Client().get(changelist).status_code == 302
    outsider = Client()
    force_login_verified(outsider, make_person("not.staff@example.com"))
    assert outsider.get(changelist).status_code == 302

    # Staff without the permission: a plain 403, recorded once with the page's model.
    nobody, browser = _staff_browser("staff.nobody@example.com")
    before = SecurityEvent.objects.filter(event_type=UNAUTHORIZED).count()
    refused = browser.get(changelist)
    assert refused.status_code == 403
    body = refused.content.decode().lower()
    assert not [word for word in INTERNAL_WORDS if word in body]
    events = SecurityEvent.objects.filter(event_type=UNAUTHORIZED).order_by("-id")
    assert events.count() == before + 1
    assert events.first().actor == f"user:{nobody.pk}"
    assert events.first().details["resource"] == label

    # Staff with the permission read the page.
    _, holder = _staff_browser("staff.viewer@example.com", view)
    assert holder.get(changelist).status_code == 200


def test_a_refused_admin_form_post_is_recorded_once_as_the_action_it_tried(db):
    """A POST the admin refuses is one event naming the action, and nothing is created."""
    from apps.siem.models import DetectionRule

    nobody, browser = _staff_browser("staff.poster@example.com")
    before = SecurityEvent.objects.filter(event_type=UNAUTHORIZED).count()
    rules_before = DetectionRule.objects.count()

    response = browser.post(_admin_url(DetectionRule, "add/"), {"name": "mine"})

    assert response.status_code == 403
    events = SecurityEvent.objects.filter(event_type=UNAUTHORIZED).order_by("-id")
    assert events.count() == before + 1
    assert events.first().details["action"] == "create"
    assert events.first().details["resource"] == "siem.detectionrule"
    assert events.first().actor == f"user:{nobody.pk}"
    assert DetectionRule.objects.count() == rules_before
