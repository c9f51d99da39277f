from django.core.management.base import BaseCommand, CommandError

from apps.siem.services import verify_and_report


class Command(BaseCommand):
    help = "Verify the security-event hash chain; on a break, open an incident and exit 1."

    def handle(self, *args, **options):
        result = verify_and_report(by="system:verify-command")
        if not result.ok:
            raise CommandError(str(result))
        self.stdout.write(str(result))
