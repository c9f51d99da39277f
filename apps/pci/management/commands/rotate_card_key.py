from django.core.management.base import BaseCommand

from apps.pci.keys import rotate_development_card_key
from apps.pci.tasks import reencrypt_card_tokens


class Command(BaseCommand):
    help = (
        "Add a new primary key to the development card keyset and queue the re-encryption of "
        "every stored card under it. In production the keyset lives in PCI_AEAD_KEYSET(_FILE): "
        "add the key there, restart, then queue apps.pci.tasks.reencrypt_card_tokens."
    )

    def handle(self, *args, **options):
        key_id = rotate_development_card_key()
        reencrypt_card_tokens.delay()
        self.stdout.write(f"new primary card key {key_id}; re-encryption queued")
