"""A subject with a little of everything the portal stores about a person."""

import secrets
from datetime import timedelta

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from allauth.usersessions.models import UserSession
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.signals import user_login_failed
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from oauth2_provider.models import AccessToken, Application

from apps.accounts.models import Profile, User
from apps.api.models import TokenSession
from apps.core.models import OutboundEmail
from apps.gdpr.models import ConsentPurpose, ConsentRecord
from apps.partners.models import Customer, Partner
from apps.rbac.models import Role, RoleBinding
from apps.siem.events import emit

SECOND_ADDRESS = "erin.work@example.org"
DISPLAY_NAME = "Erin Quillfeather"


def give_a_full_history(person, *, staff_member):
    """Addresses, sessions, consents, partner record, mail, events and admin log entries."""
    EmailAddress.objects.create(user=person, email=SECOND_ADDRESS, verified=True)

    for _ in range(2):
        session = SessionStore()
        session["_auth_user_id"] = str(person.pk)
        session.create()
        # As allauth's session middleware records every signed-in session.
        UserSession.objects.create(
            user=person, session_key=session.session_key, ip="127.0.0.1", user_agent="Firefox"
        )

    purpose, _ = ConsentPurpose.objects.get_or_create(
        slug="newsletter", version=1, defaults={"title": "Newsletter", "description": "News"}
    )
    ConsentRecord.objects.create(user=person, purpose=purpose, granted=True, source="privacy_page")

    partner, _ = Partner.objects.get_or_create(name="Acme Lending")
    Customer.objects.create(
        partner=partner, owner=person, reference=f"acme-{person.pk}",
        display_name=DISPLAY_NAME, email=person.email,
    )  # fmt: skip

    OutboundEmail.objects.create(recipients=[person.email], subject="Welcome", body_text="")

    emit("auth.login.success", actor=person, details={"method": "password"})
    # Failed logins through the real receiver, with the main and a secondary address.
    user_login_failed.send(sender=__name__, credentials={"email": person.email})
    user_login_failed.send(sender=__name__, credentials={"email": SECOND_ADDRESS.upper()})

    application = Application.objects.create(
        name="Erin's notebook", user=person, client_type="confidential",
        authorization_grant_type="client-credentials",
    )  # fmt: skip
    AccessToken.objects.create(
        user=person, application=application, token=secrets.token_hex(16), scope="read",
        expires=timezone.now() + timedelta(hours=1),
    )  # fmt: skip
    TokenSession.objects.create(
        user=person, refresh_jti=secrets.token_hex(8), credential_hash="x", ip="127.0.0.1",
        user_agent="Erin's phone",
    )  # fmt: skip

    Profile.objects.create(user=person, first_name="Erin", last_name="Quillfeather",
                           phone="+44 20 7946 0123", address="1 Quill Lane")  # fmt: skip
    TOTPDevice.objects.create(user=person, name="phone", confirmed=True)
    SocialAccount.objects.create(user=person, provider="github", uid="erin-gh",
                                 extra_data={"email": person.email})  # fmt: skip
    RoleBinding.objects.create(
        role=Role.objects.create(name=f"reader-{person.pk}"), user=person, scope="*",
        reason="test", granted_by=staff_member,
    )  # fmt: skip

    user_type = ContentType.objects.get_for_model(User)
    LogEntry.objects.log_actions(
        user_id=staff_member.pk, queryset=[person], action_flag=CHANGE,
        change_message=[{"changed": {"fields": ["is_active"]}}], single_object=True,
    )  # fmt: skip
    LogEntry.objects.create(
        user=person, content_type=user_type, object_id=str(staff_member.pk),
        object_repr=str(staff_member), action_flag=CHANGE,
    )  # fmt: skip
