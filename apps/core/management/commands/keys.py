"""Create keysets, add and promote keys, list them with their use, and remove unused ones.

    manage.py keys list                      every keyset: key ids, states, values per key
    manage.py keys create pii --output F     a new keyset in a file (for PORTAL_KEYSET_PII_FILE)
    manage.py keys add pii                   a new key, made primary (--not-primary to stage it)
    manage.py keys promote pii 12345         make an existing key primary
    manage.py keys remove pii 12345          refused while any stored value still uses the key

Keysets read from a file (``_FILE`` or the development folder) are rewritten in place; a keyset
given inline in ``PORTAL_KEYSET_<NAME>`` cannot be, so pass ``--output`` and move the result
into your secret store.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.core.crypto.keyring import KEYSETS, KeyringError, default_keyring, generate_keyset_json
from apps.core.crypto.rotation import key_usage


class Command(BaseCommand):
    help = "Manage the named Tink keysets used for field encryption and blind indexes."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)

        listing = actions.add_parser("list", help="key ids, states and stored values per key")
        listing.add_argument("name", nargs="?", choices=list(KEYSETS))

        create = actions.add_parser("create", help="generate a new keyset")
        create.add_argument("name", choices=list(KEYSETS))
        create.add_argument("--output", type=Path, help="file to write (default: stdout)")

        add = actions.add_parser("add", help="add a new key, primary unless --not-primary")
        add.add_argument("name", choices=list(KEYSETS))
        add.add_argument("--not-primary", action="store_true")
        add.add_argument("--output", type=Path)

        promote = actions.add_parser("promote", help="make an existing key primary")
        promote.add_argument("name", choices=list(KEYSETS))
        promote.add_argument("key_id", type=int)
        promote.add_argument("--output", type=Path)

        remove = actions.add_parser("remove", help="remove a key no stored value uses")
        remove.add_argument("name", choices=list(KEYSETS))
        remove.add_argument("key_id", type=int)
        remove.add_argument("--output", type=Path)

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"_{action}")(**options)
        except KeyringError as error:
            raise CommandError(str(error)) from None

    def _list(self, name=None, **options):
        keyring = default_keyring()
        for keyset in [name] if name else KEYSETS:
            usage = key_usage(keyset)
            self.stdout.write(f"{keyset} ({keyring.describe_source(keyset)})")
            for key in keyring.keys(keyset):
                marker = " primary" if key.primary else ""
                rows = usage.pop(key.key_id, 0)
                self.stdout.write(f"  {key.key_id:>10}  {key.status:<9}{marker:<8}  {rows} values")
            for unknown_id, rows in usage.items():
                # Values sealed by a key the keyset no longer holds: they cannot be read.
                self.stdout.write(f"  {unknown_id:>10}  MISSING            {rows} values")

    def _create(self, name, output=None, **options):
        text = generate_keyset_json(name, master=default_keyring().master)
        if output is None:
            self.stdout.write(text)
            return
        if output.exists():
            raise CommandError(f"{output} exists; a keyset is never overwritten by create")
        default_keyring().store(name, text, path=output)
        self.stdout.write(f"wrote a new {name} keyset to {output}")

    def _add(self, name, not_primary=False, output=None, **options):
        key_id, text = default_keyring().add_key(name, make_primary=not not_primary)
        path = self._store(name, text, output)
        state = "staged (not primary)" if not_primary else "primary"
        self.stdout.write(f"added key {key_id} to {name} as {state}; keyset written to {path}")
        if not not_primary:
            self.stdout.write("now run `manage.py rotate_keys` to re-encrypt stored values")

    def _promote(self, name, key_id, output=None, **options):
        path = self._store(name, default_keyring().promote_key(name, key_id), output)
        self.stdout.write(f"key {key_id} is now the primary key of {name}; written to {path}")

    def _remove(self, name, key_id, output=None, **options):
        rows = key_usage(name).get(key_id, 0)
        if rows:
            raise CommandError(
                f"key {key_id} of {name} still sealed {rows} stored values; run "
                "`manage.py rotate_keys` first, then remove it"
            )
        path = self._store(name, default_keyring().remove_key(name, key_id), output)
        self.stdout.write(f"removed key {key_id} from {name}; written to {path}")

    def _store(self, name, text, output):
        return default_keyring().store(name, text, path=output)
