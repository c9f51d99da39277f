"""The access suite on every admin page.

Every page is opened by access control (``RbacAdminMixin``), so each subclasses
``AdminAccessSuite``. A page whose resource is declared to the registry (privacy requests,
consents, cards, partners, profiles, token sessions, incidents...) is asked about each scoped
person: the owner, a person bound to each declared attribute, an object grant. A page whose
resource is not declared (roles, bindings, grants, security events, accounts, the pages of the
libraries we install...) cannot be narrowed row by row, so the suite asks a person holding the
same permission scoped to a partner, who must be refused. Customers and access reviews are in
``tests/rbac/test_access_suites.py``.

Below the suites: superusers open every page, read-only pages stay read-only whatever a role
grants, inlines follow their page, the seed roles open the pages their holders work, and the
admin site refuses to register a page that names no resource.
"""

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from allauth.usersessions.models import UserSession
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, RequestFactory
from django.utils import timezone
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)
from django_otp.plugins.otp_totp.models import TOTPDevice
from oauth2_provider.admin import AccessTokenAdmin
from oauth2_provider.models import AccessToken, Application, Grant, IDToken, RefreshToken

from apps.accounts.admin_site import PortalAdminSite
from apps.accounts.models import Profile, User
from apps.api.models import TokenSession
from apps.core.models import KeyRotation, OutboundEmail, RetentionRecord
from apps.gdpr.models import ConsentPurpose, ConsentRecord, DataSubjectRequest
from apps.gdpr.services import file_request
from apps.partners.models import Partner, PartnerApplication
from apps.pci.models import CardAccessEvent, CardToken
from apps.rbac.admin_access import RbacAdminMixin
from apps.rbac.models import GroupObjectGrant, Role, RoleBinding, UserObjectGrant
from apps.rbac.services import bind_role, create_role, ensure_permission, grant_object_permission
from apps.siem.events import emit
from apps.siem.models import AddressRestriction, DetectionRule, Incident, SecurityEvent
from tests.access_suite import UNAUTHORIZED, AdminAccessSuite
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


# --- Security monitoring ----------------------------------------------------------------------


class TestSecurityEventAdmin(_RbacPage):
    resource = "security-events"
    model = SecurityEvent
    covers = (SecurityEvent,)

    @pytest.fixture
    def access_objects(self, db):
        return emit("auth.login.failure", actor="user:1"), emit(
            "auth.login.failure", actor="user:2"
        )


class TestVaultAccessLogAdmin(_RbacPage):
    # The vault's log is made of security events, shown to the same people as the browser.
    resource = "security-events"
    model = CardAccessEvent
    covers = (CardAccessEvent,)

    @pytest.fixture
    def access_objects(self, db):
        made = [emit("data.access", actor="user:1", subject=f"card:tok_{n}") for n in "ab"]
        return tuple(CardAccessEvent.objects.get(pk=event.pk) for event in made)


class TestAddressRestrictionAdmin(_RbacPage):
    resource = "address-restrictions"
    model = AddressRestriction
    covers = (AddressRestriction,)

    @pytest.fixture
    def access_objects(self, db):
        until = timezone.now() + timedelta(hours=1)
        return tuple(
            AddressRestriction.objects.create(ip=ip, until=until, reason="suite")
            for ip in ("203.0.113.7", "203.0.113.8")
        )


class TestDetectionRuleAdmin(_RbacPage):
    resource = "detection-rules"
    model = DetectionRule
    covers = (DetectionRule,)

    @pytest.fixture
    def access_objects(self, db):
        return tuple(
            DetectionRule.objects.create(name=f"suite-rule-{n}", sigma_yaml=SUITE_RULE)
            for n in "ab"
        )


SUITE_RULE = """title: suite
logsource: {product: portal}
detection:
  selection: {event_type: auth.login.failure}
  condition: selection
"""


# --- Privacy ----------------------------------------------------------------------------------


class TestPrivacyRequestAdmin(_RbacPage):
    resource = "privacy-requests"
    model = DataSubjectRequest
    covers = (DataSubjectRequest,)

    @pytest.fixture
    def access_objects(self, two_customers):
        return tuple(
            file_request(
                kind=DataSubjectRequest.Kind.ERASURE, subject=customer.owner,
                channel=DataSubjectRequest.Channel.PARTNER_API, by="suite",
                partner=customer.partner, customers=[customer],
            )
            for customer in two_customers
        )  # fmt: skip


@pytest.fixture
def purpose(db):
    return ConsentPurpose.objects.create(slug="suite-offers", title="Offers", description="o")


class TestConsentRecordAdmin(_RbacPage):
    resource = "consents"
    model = ConsentRecord
    covers = (ConsentRecord,)

    @pytest.fixture
    def access_objects(self, purpose, casey, dana):
        return tuple(
            ConsentRecord.objects.create(
                user=person, purpose=purpose, granted=True, source="privacy_page"
            )
            for person in (casey, dana)
        )


class TestConsentPurposeAdmin(_RbacPage):
    resource = "consent-purposes"
    model = ConsentPurpose
    covers = (ConsentPurpose,)

    @pytest.fixture
    def access_objects(self, db):
        return tuple(
            ConsentPurpose.objects.create(slug=f"suite-{n}", title=n, description=n)
            for n in ("news", "offers")
        )


# --- The card vault ---------------------------------------------------------------------------


class TestPersonalCardAdmin(_RbacPage):
    resource = "cards"
    model = CardToken
    covers = (CardToken,)
    absent_people = {"attribute:partner": "a card a person owns has no partner"}

    @pytest.fixture
    def access_objects(self, two_personal_cards):
        return two_personal_cards


class TestPartnerCardAdmin(_RbacPage):
    resource = "cards"
    model = CardToken
    covers = (CardToken,)
    absent_people = {"own": "a partner's card has no owning person"}

    @pytest.fixture
    def access_objects(self, two_partner_cards):
        return two_partner_cards


# --- Partners ---------------------------------------------------------------------------------


class TestPartnerAdmin(_RbacPage):
    resource = "partners"
    model = Partner
    covers = (Partner,)

    @pytest.fixture
    def access_objects(self, acme, bolt):
        return acme, bolt


def oauth_application(name, user=None):
    return Application.objects.create(
        name=name, user=user, client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
    )  # fmt: skip


class TestPartnerApplicationAdmin(_RbacPage):
    resource = "partner-applications"
    model = PartnerApplication
    covers = (PartnerApplication,)

    @pytest.fixture
    def access_objects(self, acme, bolt):
        return tuple(
            PartnerApplication.objects.create(
                application=oauth_application(f"{partner.name} CRM"), partner=partner,
                scopes="customers:read",
            )
            for partner in (acme, bolt)
        )  # fmt: skip


# --- Accounts and sign-in ---------------------------------------------------------------------


class TestUserAdmin(_RbacPage):
    resource = "users"
    model = User
    covers = (User,)

    @pytest.fixture
    def access_objects(self, casey, dana):
        return casey, dana


class TestGroupAdmin(_RbacPage):
    resource = "groups"
    model = Group
    covers = (Group,)

    @pytest.fixture
    def access_objects(self, db):
        return tuple(Group.objects.create(name=f"suite-group-{n}") for n in "ab")


class TestProfileAdmin(_RbacPage):
    resource = "profiles"
    model = Profile
    covers = (Profile,)

    @pytest.fixture
    def access_objects(self, casey, dana):
        return tuple(
            Profile.objects.create(user=person, first_name=name)
            for person, name in ((casey, "Casey"), (dana, "Dana"))
        )


class TestTokenSessionAdmin(_RbacPage):
    resource = "token-sessions"
    model = TokenSession
    covers = (TokenSession,)

    @pytest.fixture
    def access_objects(self, casey, dana):
        return tuple(
            TokenSession.objects.create(
                user=person, refresh_jti=f"jti-{person.pk}", credential_hash="x", ip="127.0.0.1"
            )
            for person in (casey, dana)
        )


class TestEmailAddressAdmin(_RbacPage):
    resource = "email-addresses"
    model = EmailAddress
    covers = (EmailAddress,)

    @pytest.fixture
    def access_objects(self, casey, dana):
        return tuple(
            EmailAddress.objects.create(user=person, email=person.email, primary=True)
            for person in (casey, dana)
        )


class TestTotpDeviceAdmin(_RbacPage):
    resource = "mfa-devices"
    model = TOTPDevice
    covers = (TOTPDevice,)

    @pytest.fixture
    def access_objects(self, casey, dana):
        return tuple(TOTPDevice.objects.create(user=p, name="phone") for p in (casey, dana))


class TestUserSessionAdmin(_RbacPage):
    resource = "user-sessions"
    model = UserSession
    covers = (UserSession,)

    @pytest.fixture
    def access_objects(self, casey, dana):
        return tuple(
            UserSession.objects.create(
                user=person,
                ip="127.0.0.1",
                user_agent="suite",
                session_key=f"suite-session-{person.pk}",
            )
            for person in (casey, dana)
        )


@pytest.fixture
def two_social_accounts(casey, dana):
    return tuple(
        SocialAccount.objects.create(user=person, provider="github", uid=f"gh-{person.pk}")
        for person in (casey, dana)
    )


class TestSocialAppAdmin(_RbacPage):
    resource = "social-apps"
    model = SocialApp
    covers = (SocialApp,)

    @pytest.fixture
    def access_objects(self, db):
        return tuple(
            SocialApp.objects.create(provider="github", name=f"suite-{n}", client_id=n)
            for n in "ab"
        )


class TestSocialAccountAdmin(_RbacPage):
    resource = "social-accounts"
    model = SocialAccount
    covers = (SocialAccount,)

    @pytest.fixture
    def access_objects(self, two_social_accounts):
        return two_social_accounts


class TestSocialTokenAdmin(_RbacPage):
    resource = "social-accounts"
    model = SocialToken
    covers = (SocialToken,)

    @pytest.fixture
    def access_objects(self, two_social_accounts):
        app = SocialApp.objects.create(provider="github", name="suite", client_id="suite")
        return tuple(
            SocialToken.objects.create(app=app, account=account, token=f"token-{account.pk}")
            for account in two_social_accounts
        )


# --- OAuth2 / OpenID Connect ------------------------------------------------------------------


@pytest.fixture
def two_applications(casey, dana):
    return oauth_application("Casey's client", casey), oauth_application("Dana's client", dana)


def _soon():
    return timezone.now() + timedelta(hours=1)


class TestOAuthApplicationAdmin(_RbacPage):
    resource = "oauth-applications"
    model = Application
    covers = (Application,)

    @pytest.fixture
    def access_objects(self, two_applications):
        return two_applications


class TestAccessTokenAdmin(_RbacPage):
    resource = "oauth-tokens"
    model = AccessToken
    covers = (AccessToken,)

    @pytest.fixture
    def access_objects(self, two_applications):
        return tuple(
            AccessToken.objects.create(
                application=app, user=app.user, token=f"access-{app.pk}", expires=_soon()
            )
            for app in two_applications
        )


class TestRefreshTokenAdmin(_RbacPage):
    resource = "oauth-tokens"
    model = RefreshToken
    covers = (RefreshToken,)

    @pytest.fixture
    def access_objects(self, two_applications):
        return tuple(
            RefreshToken.objects.create(application=app, user=app.user, token=f"refresh-{app.pk}")
            for app in two_applications
        )


class TestIdTokenAdmin(_RbacPage):
    resource = "oauth-tokens"
    model = IDToken
    covers = (IDToken,)

    @pytest.fixture
    def access_objects(self, two_applications):
        return tuple(
            IDToken.objects.create(application=app, user=app.user, expires=_soon())
            for app in two_applications
        )


class TestGrantAdmin(_RbacPage):
    resource = "oauth-tokens"
    model = Grant
    covers = (Grant,)

    @pytest.fixture
    def access_objects(self, two_applications):
        return tuple(
            Grant.objects.create(
                application=app, user=app.user, code=f"code-{app.pk}", expires=_soon(),
                redirect_uri="https://client.example/callback",
            )
            for app in two_applications
        )  # fmt: skip


# --- Core: mail, keys, retention --------------------------------------------------------------


class TestOutboundEmailAdmin(_RbacPage):
    resource = "outbound-email"
    model = OutboundEmail
    covers = (OutboundEmail,)

    @pytest.fixture
    def access_objects(self, db):
        return tuple(
            OutboundEmail.objects.create(recipients=[f"{n}@example.com"], subject=n, body_text=n)
            for n in ("first", "second")
        )


class TestKeyRotationAdmin(_RbacPage):
    resource = "key-rotations"
    model = KeyRotation
    covers = (KeyRotation,)

    @pytest.fixture
    def access_objects(self, db):
        return tuple(
            KeyRotation.objects.create(model_label="accounts.Profile", target=target)
            for target in ("pii:1", "pii:2")
        )


class TestRetentionRecordAdmin(_RbacPage):
    resource = "retention-records"
    model = RetentionRecord
    covers = (RetentionRecord,)

    @pytest.fixture
    def access_objects(self, db):
        return tuple(
            RetentionRecord.objects.create(
                model_label=label, action="delete", rows=1, cutoff=timezone.now()
            )
            for label in ("siem.SecurityEvent", "core.OutboundEmail")
        )


# --- Scheduled tasks --------------------------------------------------------------------------


@pytest.fixture
def two_intervals(db):
    return tuple(IntervalSchedule.objects.create(every=n, period="minutes") for n in (7, 11))


class TestIntervalScheduleAdmin(_RbacPage):
    resource = "scheduled-tasks"
    model = IntervalSchedule
    covers = (IntervalSchedule,)

    @pytest.fixture
    def access_objects(self, two_intervals):
        return two_intervals


class TestCrontabScheduleAdmin(_RbacPage):
    resource = "scheduled-tasks"
    model = CrontabSchedule
    covers = (CrontabSchedule,)

    @pytest.fixture
    def access_objects(self, db):
        return tuple(CrontabSchedule.objects.create(minute=m, hour="3") for m in ("7", "11"))


class TestSolarScheduleAdmin(_RbacPage):
    resource = "scheduled-tasks"
    model = SolarSchedule
    covers = (SolarSchedule,)

    @pytest.fixture
    def access_objects(self, db):
        return tuple(
            SolarSchedule.objects.create(event=event, latitude=51.5, longitude=-0.1)
            for event in ("sunrise", "sunset")
        )


class TestClockedScheduleAdmin(_RbacPage):
    resource = "scheduled-tasks"
    model = ClockedSchedule
    covers = (ClockedSchedule,)

    @pytest.fixture
    def access_objects(self, db):
        now = timezone.now()
        return tuple(
            ClockedSchedule.objects.create(clocked_time=now + timedelta(days=d)) for d in (1, 2)
        )


class TestPeriodicTaskAdmin(_RbacPage):
    resource = "scheduled-tasks"
    model = PeriodicTask
    covers = (PeriodicTask,)

    @pytest.fixture
    def access_objects(self, two_intervals):
        return tuple(
            PeriodicTask.objects.create(
                name=f"suite-task-{interval.every}",
                task="apps.core.tasks.suite",
                interval=interval,
            )
            for interval in two_intervals
        )


# --- Every page, beyond the suite -------------------------------------------------------------


def _registered_pages():
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label_lower)


def _labels():
    return [model._meta.label_lower for model, _ in _registered_pages()]


def _page_of(label):
    return next(page for model, page in _registered_pages() if model._meta.label_lower == label)


def _registered_model(label):
    return next(model for model, _ in _registered_pages() if model._meta.label_lower == label)


def _asking_as(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


# What each page refuses whoever asks, because the page itself says so (append-only tables,
# rows only a flow creates, rows revoked through an action instead of deleted).
REFUSED_BY_THE_PAGE = {
    "accounts.profile": {"add", "change", "delete"},
    "api.tokensession": {"add"},
    "core.keyrotation": {"add", "change", "delete"},
    "core.outboundemail": {"add", "change"},
    "core.retentionrecord": {"add", "change", "delete"},
    "gdpr.consentrecord": {"add", "change", "delete"},
    "gdpr.datasubjectrequest": {"add", "delete"},
    "oauth2_provider.accesstoken": {"add", "delete"},
    "oauth2_provider.grant": {"add"},
    "oauth2_provider.idtoken": {"add"},
    "oauth2_provider.refreshtoken": {"add", "delete"},
    "pci.cardaccessevent": {"add", "change", "delete"},
    "pci.cardtoken": {"add", "change"},
    "rbac.accessreview": {"change", "delete"},
    "rbac.groupobjectgrant": {"delete"},
    "rbac.role": {"delete"},
    "rbac.rolebinding": {"delete"},
    "rbac.userobjectgrant": {"delete"},
    "siem.incident": {"add", "delete"},
    "siem.securityevent": {"add", "change", "delete"},
}
VERBS = ("view", "add", "change", "delete")


def _offered(page, request):
    return {verb for verb in VERBS if getattr(page, f"has_{verb}_permission")(request)}


@pytest.mark.parametrize("label", _labels())
def test_an_administrator_gets_what_the_page_offers_and_nothing_it_refuses(db, label):
    """``*:*:all`` opens every page, but a read-only page stays read-only whatever the role."""
    person = make_person("admin.role@example.com", is_staff=True)
    bind_role(role=Role.objects.get(name="administrator"), user=person, granted_by=None,
              reason="suite")  # fmt: skip

    offered = _offered(_page_of(label), _asking_as(person))

    assert offered == set(VERBS) - REFUSED_BY_THE_PAGE.get(label, set())


@pytest.mark.parametrize("label", _labels())
def test_a_superuser_opens_every_page_and_is_refused_what_the_page_refuses(db, label):
    """authorize() admits a superuser as Django's model permissions did; the page's own
    refusals bind superusers too, as they always have."""
    root = make_person("root@example.com", is_staff=True, is_superuser=True)
    browser = Client()
    force_login_verified(browser, root)

    assert browser.get(_admin_url(_registered_model(label))).status_code == 200
    assert _offered(_page_of(label), _asking_as(root)) == set(VERBS) - REFUSED_BY_THE_PAGE.get(
        label, set()
    )


def test_a_staff_member_without_a_role_is_offered_no_page(db):
    nobody = make_person("staff.without.role@example.com", is_staff=True)
    request = _asking_as(nobody)

    assert [label for label in _labels() if _offered(_page_of(label), request)] == []
    assert not [label for label in _labels() if _page_of(label).has_module_permission(request)]


def test_an_incidents_timeline_is_shown_to_whoever_may_read_the_incident(two_incidents):
    """Inlines follow their page's decision, not Django's model permissions of their rows."""
    from apps.siem.models import IncidentEntry

    inside, _ = two_incidents
    IncidentEntry.objects.create(incident=inside, kind="comment", text="looked at it")
    analyst = make_person("analyst@example.com", is_staff=True)
    bind_role(role=Role.objects.get(name="security-analyst"), user=analyst, granted_by=None,
              reason="suite")  # fmt: skip
    browser = Client()
    force_login_verified(browser, analyst)

    page = browser.get(_admin_url(Incident, f"{inside.pk}/change/"))

    assert page.status_code == 200
    inlines = {formset.opts.model for formset in page.context["inline_admin_formsets"]}
    assert IncidentEntry in inlines
    assert "looked at it" in page.content.decode()


# The pages each seed role's holders work; every other page refuses them.
SEED_ROLE_PAGES = {
    "compliance-officer": {
        "gdpr.datasubjectrequest", "gdpr.consentrecord", "gdpr.consentpurpose",
        "siem.securityevent", "pci.cardaccessevent", "core.retentionrecord",
        "partners.customer", "rbac.role", "rbac.rolebinding", "rbac.userobjectgrant",
        "rbac.groupobjectgrant", "rbac.accessreview",
    },
    "security-analyst": {
        "siem.securityevent", "pci.cardaccessevent", "siem.incident", "siem.detectionrule",
        "siem.addressrestriction", "rbac.accessreview",
    },
}  # fmt: skip


@pytest.mark.parametrize("role", sorted(SEED_ROLE_PAGES))
def test_a_seed_role_opens_exactly_the_pages_its_holders_work(db, role):
    person = make_person(f"{role}@example.com", is_staff=True)
    bind_role(role=Role.objects.get(name=role), user=person, granted_by=None, reason="suite")
    browser = Client()
    force_login_verified(browser, person)

    opened = {
        label
        for label in _labels()
        if browser.get(_admin_url(_registered_model(label))).status_code == 200
    }

    assert opened == SEED_ROLE_PAGES[role]


def test_a_security_analyst_blocks_an_address_in_the_admin(db):
    analyst = make_person("analyst.blocks@example.com", is_staff=True)
    bind_role(role=Role.objects.get(name="security-analyst"), user=analyst, granted_by=None,
              reason="suite")  # fmt: skip
    browser = Client()
    force_login_verified(browser, analyst)
    until = timezone.now() + timedelta(hours=1)

    response = browser.post(_admin_url(AddressRestriction, "add/"), {
        "ip": "203.0.113.66", "kind": "block", "until_0": until.strftime("%Y-%m-%d"),
        "until_1": until.strftime("%H:%M:%S"), "reason": "credential stuffing",
    })  # fmt: skip

    assert response.status_code == 302
    assert AddressRestriction.objects.get(ip="203.0.113.66").created_by == f"user:{analyst.pk}"


def test_a_refused_admin_form_post_is_recorded_once_as_the_action_it_tried(db):
    """A POST the admin refuses is one event naming the action, and nothing is created."""
    nobody = make_person("staff.poster@example.com", is_staff=True)
    browser = Client()
    force_login_verified(browser, nobody)
    before = SecurityEvent.objects.filter(event_type=UNAUTHORIZED).count()
    rules_before = DetectionRule.objects.count()

    response = browser.post(_admin_url(DetectionRule, "add/"), {"name": "mine"})

    assert response.status_code == 403
    events = SecurityEvent.objects.filter(event_type=UNAUTHORIZED).order_by("-id")
    assert events.count() == before + 1
    assert events.first().details["action"] == "create"
    assert events.first().details["resource"] == "detection-rules"
    assert events.first().actor == f"user:{nobody.pk}"
    assert DetectionRule.objects.count() == rules_before


def test_the_admin_site_refuses_a_page_that_names_no_resource():
    site = PortalAdminSite(name="probe")

    with pytest.raises(ImproperlyConfigured, match="names no rbac_resource"):
        site.register(ConsentPurpose)


def test_the_admin_site_opens_a_library_page_through_access_control_keeping_its_refusals():
    site = PortalAdminSite(name="probe")

    site.register(AccessToken, AccessTokenAdmin)

    page = site.get_model_admin(AccessToken)
    assert isinstance(page, RbacAdminMixin)
    assert page.rbac_resource == "oauth-tokens"
    assert isinstance(page, AccessTokenAdmin)
