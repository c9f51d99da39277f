"""No test card number in plain text: not in a dump of the database, not in any worker log."""

import subprocess
import time

import pytest
from django.conf import settings
from django.db import connection

from apps.core.scrub import REDACTED
from apps.pci import services
from apps.pci.access import Caller
from config.celery import app as celery_app
from tests.pci import cards

pytestmark = pytest.mark.django_db(transaction=True)


def fill_the_vault(owner, revealer):
    """Every test number tokenised, revealed once and pushed through a refusal."""
    olivia = Caller.for_user(revealer, second_factor_recent=True)
    for number in cards.TEST_PANS:
        card, _ = services.tokenize_card(
            pan=number, expiry_month=12, expiry_year=2030, owner=owner,
            actor=Caller.for_user(owner),
        )  # fmt: skip
        services.detokenize_card(token=card.token, purpose=f"audit of {number}", actor=olivia)
        with pytest.raises(services.DetokenizationRefused):
            services.detokenize_card(token=number, purpose="x", actor=Caller.for_user(owner))


def every_column_of_every_table() -> str:
    """SELECT of every column of every table, as text, on whatever database this is."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT * FROM {quoted}")
            for row in cursor.fetchall():
                for value in row:
                    chunks.append(
                        bytes(value).decode("latin-1")
                        if isinstance(value, (bytes, memoryview))
                        else str(value)
                    )
    return "\n".join(chunks)


def assert_no_test_pan_in(text: str, where: str):
    for number in cards.TEST_PANS:
        assert number not in text, f"{number[-4:]} in plain text in {where}"
        spaced = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
        assert spaced not in text, f"{number[-4:]} (spaced) in plain text in {where}"


def test_no_test_card_number_is_in_any_column_of_any_table(customer, card_revealer):
    fill_the_vault(customer, card_revealer)

    dump = every_column_of_every_table()

    assert "card.tokenized" in dump, "the vault's rows must be part of what was read"
    assert_no_test_pan_in(dump, "a SELECT of every column")


def test_no_test_card_number_is_in_a_pg_dump_of_the_database(customer, card_revealer):
    if connection.vendor != "postgresql":
        pytest.skip("pg_dump needs PostgreSQL; the SELECT of every column covers SQLite")
    fill_the_vault(customer, card_revealer)
    db = settings.DATABASES["default"]

    dump = subprocess.run(
        [
            "pg_dump", "--data-only", "--no-owner",
            "-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432),
            "-U", db["USER"] or "postgres", db["NAME"],
        ],
        capture_output=True, text=True, check=True, timeout=60,
        env={"PGPASSWORD": db.get("PASSWORD") or "", "PATH": "/usr/bin:/bin"},
    ).stdout  # fmt: skip

    assert "pci_cardtoken" in dump
    assert_no_test_pan_in(dump, "pg_dump")


@pytest.mark.worker
def test_a_card_number_in_a_message_the_worker_rejects_is_not_in_its_log(celery_worker):
    """Celery logs the body of a message for a task it does not know, arguments and all."""
    celery_app.send_task("tests.no_such_task", args=[cards.VISA_SPACED, cards.MASTERCARD])

    deadline = time.monotonic() + 30
    while "tests.no_such_task" not in celery_worker.log():
        assert time.monotonic() < deadline, f"no unknown task in: {celery_worker.log()[-1500:]}"
        time.sleep(0.2)

    log = celery_worker.log()
    assert REDACTED in log
    assert_no_test_pan_in(log, "the worker log")
