"""What the card vault costs beyond storing and reading a row.

Measured in one run on one machine, on a throwaway copy of the configured database:

* tokenise: validate the number and expiry, fingerprint it under the card PRF key, encrypt it
  with AES-256-GCM, and insert the row and its security event in one statement (a card held
  already is found by the unique fingerprint, not by a lookup); against a plain insert of a
  row of the same shape (same table, same sizes) with no validation or cryptography;
* detokenise: look the token up, check the caller's right and second factor, decrypt, and
  write the data.access event (committed before the number is returned); against a plain read
  of the same row by its token.

The ratios vault/plain are the figures of merit; targets: tokenise >= 0.6, detokenise >= 0.5.
Run with `.venv/bin/python bench/pci.py` (PostgreSQL when DATABASE_URL points at it).
"""

import argparse
import os
import secrets
import time
from datetime import timedelta
from pathlib import Path

from _django import describe_database, grant, throwaway_database
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

PURPOSE = "benchmark of the card vault"


def card_number(n: int) -> str:
    """A distinct Luhn-valid 16-digit Visa number for each n.

    The check digit is computed, not searched for: this runs inside the tokenise side's timed
    loop, and the plain side has no such harness cost.
    """
    body = f"4{n:014d}"
    total = 0
    # Counted from the right of the finished number, the check digit is position 0, so the
    # body's rightmost digit is doubled.
    for position, character in enumerate(reversed(body)):
        value = int(character) * (1 if position % 2 else 2)
        total += value - 9 if value > 9 else value
    return body + str((10 - total % 10) % 10)


def timed(action, seconds: float, first_number: int) -> tuple[int, float]:
    count = 0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        action(first_number + count)
        count += 1
    return count, elapsed


def interleaved_rates(first, second, *, seconds: float, rounds: int = 8):
    """Alternate short slices of both measures, so that load elsewhere on the shared machine
    weighs on both alike."""
    totals = {"first": [0, 0.0], "second": [0, 0.0]}
    for _ in range(rounds):
        for name, action in (("first", first), ("second", second)):
            count, elapsed = timed(action, seconds / rounds, 10_000_000 * (name == "second")
                                   + totals[name][0])  # fmt: skip
            totals[name][0] += count
            totals[name][1] += elapsed
    return [(count / elapsed, count) for count, elapsed in totals.values()]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="duration of each measure")
    args = parser.parse_args()

    with throwaway_database():
        from apps.accounts.models import User
        from apps.pci import services
        from apps.pci.access import Caller
        from apps.pci.models import CardToken

        owner = User.objects.create_user("bench.owner@example.com", None)
        revealer = User.objects.create_user("bench.revealer@example.com", None)
        grant(revealer, "cards:detokenize:all", role_name="bench-card-revealer")
        owner_caller = Caller.for_user(owner)
        revealer_caller = Caller.for_user(revealer, second_factor_recent=True)
        sample, _ = services.tokenize_card(
            pan=card_number(0), expiry_month=12, expiry_year=2030, owner=owner,
            actor=owner_caller,
        )  # fmt: skip
        ciphertext = bytes(sample.pan_ciphertext)
        fingerprint_length = len(sample.fingerprint)

        def tokenise(n):
            services.tokenize_card(
                pan=card_number(n), expiry_month=12, expiry_year=2030, owner=owner,
                actor=owner_caller,
            )  # fmt: skip

        def plain_insert(n):
            now = timezone.now()
            CardToken.objects.create(
                token=f"tok_{secrets.token_hex(12)}",
                pan_ciphertext=ciphertext,
                fingerprint=secrets.token_hex(fingerprint_length // 2),
                brand="Visa",
                last_four=f"{n % 10000:04d}",
                expiry_month=12,
                expiry_year=2030,
                owner_user=owner,
                created_at=now,
                created_by="user:1",
                created_via="bench",
                expires_at=now + timedelta(days=90),
            )

        timed(tokenise, 1.0, 20_000_000)
        timed(plain_insert, 1.0, 30_000_000)
        (tokenise_rate, tokenised), (insert_rate, inserted) = interleaved_rates(
            tokenise, plain_insert, seconds=args.seconds
        )

        tokens = list(
            CardToken.objects.filter(created_via="api").values_list("token", flat=True)[:2000]
        )

        def detokenise(n):
            services.detokenize_card(
                token=tokens[n % len(tokens)], purpose=PURPOSE, actor=revealer_caller
            )

        def plain_read(n):
            bytes(CardToken.objects.get(token=tokens[n % len(tokens)]).pan_ciphertext)

        timed(detokenise, 1.0, 0)
        timed(plain_read, 1.0, 0)
        (detokenise_rate, revealed), (read_rate, read) = interleaved_rates(
            detokenise, plain_read, seconds=args.seconds
        )

        # Statements per operation, warm, outside the timed loops.
        queries = {}
        for name, action in (
            ("tokenise", tokenise), ("plain insert", plain_insert),
            ("detokenise", detokenise), ("plain read", plain_read),
        ):  # fmt: skip
            with CaptureQueriesContext(connection) as captured:
                action(40_000_000)
            queries[name] = len(captured.captured_queries)

    print(f"database: {describe_database()}  (cpus: {os.cpu_count()})")
    print(f"plain insert: {insert_rate:8.1f} /s  ({inserted} in {args.seconds:.0f} s)")
    print(f"tokenise:     {tokenise_rate:8.1f} /s  ({tokenised} in {args.seconds:.0f} s)")
    print(f"ratio tokenise/insert: {tokenise_rate / insert_rate:.2f}  (target >= 0.60)")
    print(f"plain read:   {read_rate:8.1f} /s  ({read} in {args.seconds:.0f} s)")
    print(f"detokenise:   {detokenise_rate:8.1f} /s  ({revealed} in {args.seconds:.0f} s)")
    print(f"ratio detokenise/read: {detokenise_rate / read_rate:.2f}  (target >= 0.50)")
    print("statements per operation: " + ", ".join(f"{k} {v}" for k, v in queries.items()))
    print(f"load average at the end: {Path('/proc/loadavg').read_text().split()[:3]}")


if __name__ == "__main__":
    main()
