from django.core.management.base import BaseCommand

from apps.rbac import versions
from apps.rbac.models import Permission, Role
from apps.rbac.seed import SEED_ROLES, install


class Command(BaseCommand):
    help = "Create the seed roles, or restore them to their documented permissions."

    def handle(self, *args, **options):
        install(Role, Permission)
        versions.bump_all()
        self.stdout.write(f"seed roles in place: {', '.join(SEED_ROLES)}")
