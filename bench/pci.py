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
Detokenise waits for one flush of the write-ahead log per call and the plain read for none, so
the script also prints what a bare durable commit cost on this disk just after the measures.
Run with `.venv/bin/python bench/pci.py` (PostgreSQL when DATABASE_URL points at it).
"""

import argparse
import os
import secrets
import time
from datetime import timedelta
from pathlib import Path

from _django import describe_database, grant, throwaway_database
from django.db import connection, transaction
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


def interleaved_rates(first, second, *, seconds: float, rounds: int = 8, numbers_from: int = 0):
    """Alternate short slices of both measures, so that load elsewhere on the shared machine
    weighs on both alike. Each call gets a number no call of the run had (a new card)."""
    totals = {"first": [0, 0.0], "second": [0, 0.0]}
    for _ in range(rounds):
        for name, action in (("first", first), ("second", second)):
            first_number = numbers_from + 10_000_000 * (name == "second") + totals[name][0]
            count, elapsed = timed(action, seconds / rounds, first_number)
            totals[name][0] += count
            totals[name][1] += elapsed
    return [(count / elapsed, count) for count, elapsed in totals.values()]


def measure_tokenise(owner, caller, seconds: float) -> dict:
    from apps.core import statements
    from apps.pci import services
    from apps.pci.models import CardToken

    sample, _ = services.tokenize_card(
        pan=card_number(0), expiry_month=12, expiry_year=2030, owner=owner, actor=caller
    )
    ciphertext = bytes(sample.pan_ciphertext)
    fingerprint_length = len(sample.fingerprint)
    built_insert_sql = statements.insert_statement(CardToken, transaction.get_connection())

    def tokenise(n):
        services.tokenize_card(
            pan=card_number(n), expiry_month=12, expiry_year=2030, owner=owner, actor=caller
        )

    def plain_row(n):
        now = timezone.now()
        return CardToken(
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

    def plain_insert(n):
        plain_row(n).save(force_insert=True)

    def built_insert(n):
        # For reference only: the same row by a statement built once and prepared, as the
        # vault writes its own (apps/core/statements.py), so without the ORM's share.
        db = transaction.get_connection()
        fields = statements.insertable_fields(CardToken)
        with statements.prepared_cursor(db) as cursor:
            cursor.execute(built_insert_sql, statements.values_of(plain_row(n), fields, db))

    timed(tokenise, 1.0, 20_000_000)
    timed(plain_insert, 1.0, 30_000_000)
    (vault, vault_count), (plain, plain_count) = interleaved_rates(
        tokenise, plain_insert, seconds=seconds
    )
    (vault_again, _), (built, _) = interleaved_rates(
        tokenise, built_insert, seconds=seconds / 2, numbers_from=50_000_000
    )
    return {
        "vault": vault, "vault_count": vault_count, "plain": plain, "plain_count": plain_count,
        "vault_again": vault_again, "built": built,
        "statements": statements_per_call(tokenise, plain_insert),
    }  # fmt: skip


def measure_detokenise(revealer_caller, seconds: float) -> dict:
    from apps.core import statements
    from apps.pci import services
    from apps.pci.models import CardToken

    tokens = list(
        CardToken.objects.filter(created_via="api").values_list("token", flat=True)[:2000]
    )

    def detokenise(n):
        services.detokenize_card(
            token=tokens[n % len(tokens)], purpose=PURPOSE, actor=revealer_caller
        )

    def plain_read(n):
        bytes(CardToken.objects.get(token=tokens[n % len(tokens)]).pan_ciphertext)

    def built_read(n):
        # For reference only: the row by a statement built once, as the vault reads it.
        bytes(statements.get_by(CardToken, "token", tokens[n % len(tokens)]).pan_ciphertext)

    timed(detokenise, 1.0, 0)
    timed(plain_read, 1.0, 0)
    (vault, vault_count), (plain, plain_count) = interleaved_rates(
        detokenise, plain_read, seconds=seconds
    )
    (vault_again, _), (built, _) = interleaved_rates(detokenise, built_read, seconds=seconds / 2)
    return {
        "vault": vault, "vault_count": vault_count, "plain": plain, "plain_count": plain_count,
        "vault_again": vault_again, "built": built,
        "statements": statements_per_call(detokenise, plain_read),
        "commit": durable_commit_microseconds(min(seconds / 4, 2.0)),
    }  # fmt: skip


def durable_commit_microseconds(seconds: float) -> float:
    """Mean time of an autocommitted one-row insert into a table without indexes.

    The least any durably recorded event costs, on this disk at this moment: detokenise commits
    one such flush of the write-ahead log per call, the plain read none, so a run on a disk
    having a slow minute lowers the ratio whatever the vault's own code costs.
    """
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_commit_floor (n integer)")
        count, elapsed = timed(
            lambda n: cursor.execute("INSERT INTO bench_commit_floor VALUES (%s)", [n]), seconds, 0
        )
        cursor.execute("DROP TABLE bench_commit_floor")
    return elapsed / count * 1e6


def statements_per_call(vault_action, plain_action) -> tuple[int, int]:
    """Statements of one call of each, warm, outside the timed loops."""
    counts = []
    for action in (vault_action, plain_action):
        with CaptureQueriesContext(connection) as captured:
            action(40_000_000)
        counts.append(len(captured.captured_queries))
    return tuple(counts)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="duration of each measure")
    args = parser.parse_args()

    with throwaway_database():
        from apps.accounts.models import User
        from apps.pci.access import Caller

        owner = User.objects.create_user("bench.owner@example.com", None)
        revealer = User.objects.create_user("bench.revealer@example.com", None)
        grant(revealer, "cards:detokenize:all", role_name="bench-card-revealer")
        tokenised = measure_tokenise(owner, Caller.for_user(owner), args.seconds)
        revealed = measure_detokenise(
            Caller.for_user(revealer, second_factor_recent=True), args.seconds
        )

    print(f"database: {describe_database()}  (cpus: {os.cpu_count()})")
    for (vault_name, plain_name, target), figures in (
        (("tokenise", "plain insert", 0.60), tokenised),
        (("detokenise", "plain read", 0.50), revealed),
    ):
        print(f"{plain_name + ':':13s} {figures['plain']:8.1f} /s  ({figures['plain_count']})")
        print(f"{vault_name + ':':13s} {figures['vault']:8.1f} /s  ({figures['vault_count']})")
        ratio = figures["vault"] / figures["plain"]
        print(f"ratio {vault_name}/{plain_name}: {ratio:.2f}  (target >= {target:.2f})")
        print(
            f"  for reference, the same row by a statement built once and prepared, as the vault "
            f"does it: {figures['built']:.1f} /s against {vault_name} {figures['vault_again']:.1f}"
            f" /s, ratio {figures['vault_again'] / figures['built']:.2f}"
        )
        vault_statements, plain_statements = figures["statements"]
        print(f"  statements per call: {vault_name} {vault_statements}, {plain_name} "
              f"{plain_statements}")  # fmt: skip
        if "commit" in figures:
            print(
                f"  a durable commit on this disk just after: {figures['commit']:.0f} us on "
                f"average (a one-row autocommitted insert, no index; {vault_name} waits for one "
                f"per call, the {plain_name} for none)"
            )
    print(f"seconds per measure: {args.seconds:.0f}, and half that for the references")
    print(f"load average at the end: {Path('/proc/loadavg').read_text().split()[:3]}")


if __name__ == "__main__":
    main()
