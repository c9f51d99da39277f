from django.core.management.base import BaseCommand, CommandError

from apps.partners.models import Partner
from apps.partners.scopes import PARTNER_SCOPES
from apps.partners.services import register_partner_application


class Command(BaseCommand):
    help = "Register a client-credentials application for a partner and print its credentials."

    def add_arguments(self, parser):
        parser.add_argument("--partner", required=True, help="Partner name (created if new)")
        parser.add_argument("--name", required=True, help="Application name")
        parser.add_argument(
            "--scopes",
            required=True,
            help=f"Space-separated, from: {' '.join(sorted(PARTNER_SCOPES))}",
        )

    def handle(self, *args, partner, name, scopes, **options):
        owner, _ = Partner.objects.get_or_create(name=partner)
        try:
            application, secret = register_partner_application(
                owner, name=name, scopes=set(scopes.split()), actor="cli"
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        # The secret is stored hashed: this is the only time anyone sees it.
        self.stdout.write(f"partner_id={owner.pk}")
        self.stdout.write(f"client_id={application.client_id}")
        self.stdout.write(f"client_secret={secret}")
