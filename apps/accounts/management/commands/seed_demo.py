"""Create the demo people of the embedded default, each with a fresh development password."""

import secrets

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apps.accounts.models import User
from apps.rbac.models import Permission, Role
from apps.rbac.seed import install
from apps.rbac.services import bind_role

# The seed role each demo person holds; the administrator is a superuser instead.
DEMO_ROLES = {"customer": "customer", "compliance officer": "compliance-officer"}

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
            if Role.objects.filter(name__in=DEMO_ROLES.values()).count() != len(DEMO_ROLES):
                install(Role, Permission)  # a database whose seed roles were removed

            for email, role, flags in DEMO_PEOPLE:
                if User.objects.filter(email=email).exists():
                    self.stdout.write(f"{role}: {email} already exists, left unchanged")
                    continue

                password = secrets.token_urlsafe(12)
                user = User.objects.create_user(email, password, **flags)
                EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
                if role in DEMO_ROLES:
                    bind_role(role=Role.objects.get(name=DEMO_ROLES[role]), user=user,
                              granted_by=None, reason="demo account")  # fmt: skip
                # Shown once, here, for the developer at the keyboard; never stored in clear.
                self.stdout.write(f"{role}: {email} password {password}")
