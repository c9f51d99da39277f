"""Create the demo people of the embedded default, each with a fresh development password."""

import secrets

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apps.accounts.models import User

COMPLIANCE_GROUP = "Compliance officers"
# What a compliance officer may look at in the admin before the access-control model exists.
COMPLIANCE_PERMISSIONS = ["view_securityevent", "view_outboundemail"]

DEMO_PEOPLE = [
    ("customer@example.com", "customer", {}),
    ("compliance@example.com", "compliance officer", {"is_staff": True}),
    ("admin@example.com", "administrator", {"is_staff": True, "is_superuser": True}),
]


class Command(BaseCommand):
    help = "Create a demo customer, compliance officer and administrator (development only)."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("seed_demo creates known accounts and refuses to run in production")

        with transaction.atomic():
            compliance, _ = Group.objects.get_or_create(name=COMPLIANCE_GROUP)
            compliance.permissions.set(
                Permission.objects.filter(codename__in=COMPLIANCE_PERMISSIONS)
            )

            for email, role, flags in DEMO_PEOPLE:
                if User.objects.filter(email=email).exists():
                    self.stdout.write(f"{role}: {email} already exists, left unchanged")
                    continue

                password = secrets.token_urlsafe(12)
                user = User.objects.create_user(email, password, **flags)
                EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
                if role == "compliance officer":
                    user.groups.add(compliance)
                # Shown once, here, for the developer at the keyboard; never stored in clear.
                self.stdout.write(f"{role}: {email} password {password}")
