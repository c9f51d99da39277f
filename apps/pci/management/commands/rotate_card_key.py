from django.core.management.base import BaseCommand

from apps.pci.keys import rotate_card_key
from apps.pci.tasks import reencrypt_card_tokens


class Command(BaseCommand):
    help = (
        "Add a new primary key to the card keyset (pci) where the keyring keeps it, then queue "
        "the re-encryption of every stored card under it. A keyset given in the environment "
        "cannot be written here: change it in the secret store, restart, and queue "
        "apps.pci.tasks.reencrypt_card_tokens."
    )

    def handle(self, *args, **options):
        key_id = rotate_card_key()
        reencrypt_card_tokens.delay()
        self.stdout.write(f"new primary card key {key_id}; re-encryption queued")
