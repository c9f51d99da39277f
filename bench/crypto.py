"""What encrypting personal data costs to read, and how fast keys rotate.

Measured in one run on one machine, on a throwaway copy of the configured database:

* reading 10,000 profiles and touching their five encrypted fields (first and last name,
  phone, date of birth, address), against the same rows in a table of plain columns; the
  ratio encrypted/plain time is the figure of merit (target at most 1.5);
* rotation: after a new primary key is added, how many rows per second ``rotate_model``
  re-encrypts (target at least 5,000 rows/s on PostgreSQL).

For reference it also prints a floor that no per-field encryption written in Python can go
under on this machine: the same rows' stored ciphertexts and row nonces loaded without
decrypting (a table of exactly the five fields as bytes), plus five AES-256-GCM decryptions
per row by the `cryptography` library alone, with no key lookup, attribute or decoding.

The keysets are generated for the run in a temporary folder; the development keysets are not
touched. Run with `.venv/bin/python bench/crypto.py`.
"""

import argparse
import datetime
import gc
import os
import tempfile
import time
import uuid

from _django import describe_database, throwaway_database
from django.db import connection, models

from apps.core.crypto.audit import access_batch
from apps.core.crypto.keyring import Keyring, use_keyring


def plain_profile_model():
    """The profile's five personal fields as plain columns: the baseline.

    Declared only once the throwaway database exists: creating that database serialises every
    registered model, and this one has no table until the benchmark makes it.
    """
    from apps.accounts.models import User

    nullable = {"null": True}

    class PlainProfile(models.Model):
        user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="plain_profile")
        first_name = models.CharField(max_length=150, **nullable)
        last_name = models.CharField(max_length=150, **nullable)
        phone = models.CharField(max_length=32, **nullable)
        date_of_birth = models.DateField(**nullable)
        address = models.CharField(max_length=500, **nullable)
        updated_at = models.DateTimeField(auto_now=True)

        class Meta:
            app_label = "core"
            db_table = "bench_plain_profile"

        def __str__(self):
            return f"plain profile #{self.pk}"

    return PlainProfile


FIELDS = ["first_name", "last_name", "phone", "date_of_birth", "address"]


def sealed_profile_model():
    """The five fields as the ciphertext bytes they are stored as, with the row nonce.

    Reading it costs what loading encrypted rows costs before any value is opened: the
    longer values and the nonce column, and nothing of the portal's own code.
    """
    from apps.accounts.models import User

    class SealedProfile(models.Model):
        user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="+")
        row_nonce = models.UUIDField()
        first_name = models.BinaryField(null=True)
        last_name = models.BinaryField(null=True)
        phone = models.BinaryField(null=True)
        date_of_birth = models.BinaryField(null=True)
        address = models.BinaryField(null=True)
        updated_at = models.DateTimeField(auto_now=True)

        class Meta:
            app_label = "core"
            db_table = "bench_sealed_profile"

        def __str__(self):
            return f"sealed profile #{self.pk}"

    return SealedProfile


def copy_ciphertexts(sealed_model) -> None:
    """Copy every profile's stored ciphertexts, byte for byte, into the sealed table."""
    from apps.accounts.models import Profile
    from apps.core.crypto.fields import StoredCiphertext

    columns = [StoredCiphertext(name) for name in FIELDS]
    stored = Profile.objects.values_list("user_id", "row_nonce", *columns)
    sealed_model.objects.bulk_create(
        (
            sealed_model(user_id=user, row_nonce=nonce, **dict(zip(FIELDS, values, strict=True)))
            for user, nonce, *values in stored
        ),
        batch_size=1000,
    )


def bare_decryption_seconds(rows: int) -> float:
    """Five AES-256-GCM decryptions per row by the library alone, of values of the same sizes.

    A throwaway key seals each row's five values once; the timed loop only opens them. This
    is the least any per-field decryption costs here, before a single line of the portal.
    """
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    aead = AESGCM(AESGCM.generate_key(bit_length=256))
    sealed = []
    for number in range(rows):
        associated = f"accounts.profile|field|{uuid.uuid4()}".encode()
        for value in person(number).values():
            nonce = os.urandom(12)
            ciphertext = aead.encrypt(nonce, str(value).encode(), associated)
            sealed.append((nonce, ciphertext, associated))
    decrypt = aead.decrypt
    started = time.perf_counter()
    for nonce, ciphertext, associated in sealed:
        decrypt(nonce, ciphertext, associated)
    return time.perf_counter() - started


def person(number: int) -> dict:
    return {
        "first_name": f"First{number}",
        "last_name": f"Lastname-{number}",
        "phone": f"+44 20 7946 {number:05d}",
        "date_of_birth": datetime.date(1950, 1, 1) + datetime.timedelta(days=number % 20000),
        "address": f"{number} Long Street, Some Town, AB{number % 100} 1CD",
    }


def seed(rows: int, plain_model) -> None:
    from apps.accounts.models import Profile, User

    users = User.objects.bulk_create(
        User(email=f"bench{number}@example.com", password="!") for number in range(rows)
    )
    Profile.objects.bulk_create(
        (Profile(user=user, **person(number)) for number, user in enumerate(users)),
        batch_size=1000,
    )
    plain_model.objects.bulk_create(
        (plain_model(user=user, **person(number)) for number, user in enumerate(users)),
        batch_size=1000,
    )


def read_all(model) -> tuple[float, float]:
    """Wall-clock and this process's CPU seconds to load every row and read its five values.

    Each value is read as a Python value (str or date), so every encrypted one is decrypted.
    The CPU time leaves out the database server and other processes' turns on a shared machine.
    """
    # Every read starts from the same collector state: a full collection of the ~640,000
    # objects of a Django process costs about as much as a whole read, and otherwise falls
    # into whichever read happens to trigger it (runs of the same code ranged from 1.0 to 5.8).
    # What is loaded is then frozen, as the WSGI entry point (config/wsgi.py) does in a server
    # process, so collections during the read walk only what the read itself allocates.
    gc.collect()
    gc.freeze()
    started, cpu_started = time.perf_counter(), time.process_time()
    # One batch, as one request or task would be: one data.access event, not 50,000.
    with access_batch(actor="bench"):
        for row in model.objects.all():
            for name in FIELDS:
                getattr(row, name)
    return time.perf_counter() - started, time.process_time() - cpu_started


def load_average() -> list[str]:
    try:
        with open("/proc/loadavg", encoding="ascii") as source:
            return source.read().split()[:3]
    except OSError:  # not Linux
        return ["unknown"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved reads of each table")
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args()

    with (
        tempfile.TemporaryDirectory() as keyset_dir,
        use_keyring(Keyring(environ={}, directory=keyset_dir, production=False)) as keyring,
        throwaway_database(),
    ):
        from apps.accounts.models import Profile
        from apps.core.crypto.rotation import key_usage, rotate_model

        PlainProfile, SealedProfile = plain_profile_model(), sealed_profile_model()
        with connection.schema_editor() as editor:
            editor.create_model(PlainProfile)
            editor.create_model(SealedProfile)
        seed(args.rows, PlainProfile)
        copy_ciphertexts(SealedProfile)

        read_all(Profile), read_all(PlainProfile), read_all(SealedProfile)  # warm up
        encrypted_time = plain_time = encrypted_cpu = plain_cpu = sealed_time = 0.0
        for _ in range(args.rounds):
            wall, cpu = read_all(Profile)
            encrypted_time, encrypted_cpu = encrypted_time + wall, encrypted_cpu + cpu
            wall, cpu = read_all(PlainProfile)
            plain_time, plain_cpu = plain_time + wall, plain_cpu + cpu
            sealed_time += read_all(SealedProfile)[0]
        decryption_time = sum(bare_decryption_seconds(args.rows) for _ in range(args.rounds))

        key_id, text = keyring.add_key("pii", make_primary=True)
        keyring.store("pii", text)
        started = time.perf_counter()
        run = rotate_model(Profile, batch_size=args.batch_size)
        rotation_time = time.perf_counter() - started
        if key_usage("pii") != {key_id: len(FIELDS) * args.rows}:
            raise RuntimeError("rotation left values under the old key")

    per_read = 1000 / args.rounds
    print(f"database: {describe_database()}")
    print(f"rows: {args.rows}, encrypted fields per row: {len(FIELDS)}, rounds: {args.rounds}")
    print(f"read, plain columns:     {plain_time * per_read:8.1f} ms per {args.rows} rows")
    print(f"read, encrypted columns: {encrypted_time * per_read:8.1f} ms per {args.rows} rows")
    print(f"ratio encrypted/plain: {encrypted_time / plain_time:.2f}  (target <= 1.50)")
    print(
        f"CPU of this process: {plain_cpu * per_read:.1f} vs {encrypted_cpu * per_read:.1f} ms, "
        f"ratio {encrypted_cpu / plain_cpu:.2f}; load average {' '.join(load_average())}"
    )
    floor = sealed_time + decryption_time
    print(
        f"  floor for any per-field encryption here: {sealed_time * per_read:.1f} ms to load "
        f"the ciphertexts and nonces + {decryption_time * per_read:.1f} ms for "
        f"{len(FIELDS) * args.rows} bare AES-GCM decryptions = {floor * per_read:.1f} ms, "
        f"ratio {floor / plain_time:.2f}"
    )
    print(
        f"rotation: {run.rows_rewritten} rows in {rotation_time:.2f} s = "
        f"{run.rows_rewritten / rotation_time:,.0f} rows/s in batches of {args.batch_size} "
        "(target >= 5,000 rows/s on PostgreSQL)"
    )


if __name__ == "__main__":
    main()
