"""Export and erase one subject with 10,000 related rows, in a small and in a large database.

One run measures both database sizes: first with 1,000 other subjects, then, after adding more,
with 100,000. Each background subject has an account, an address, a partner record, a consent,
a sent email, three security events and (with --sessions) a live session, so every provider
and the verification scan have a realistic table to look through.

Fairness: an unmeasured export and erasure come first (imports, keys, caches), so the small
database does not pay for starting up; after loading and before each measured subject the
security events are sealed, as the scheduled sealing does within seconds in a running portal
(only sealed events are in the scan's trigram index, docs/gdpr.md), and the database is vacuumed
and analysed, as autovacuum would after that many inserts; each size is measured with three
subjects of their own and the fastest run counts, since the machine is shared.

Targets: export and erase each under 5 s, and large/small at most 1.3 for each (the work must
scale with the subject, not with the tables). Run with
`.venv/bin/python bench/gdpr.py` (PostgreSQL: export DATABASE_URL first).
"""

import argparse
import os
import tempfile
import time
from datetime import timedelta

os.environ.setdefault("GDPR_EXPORT_DIR", tempfile.mkdtemp(prefix="gdpr-bench-"))

from _django import describe_database, throwaway_database

SUBJECT_ROWS = 10_000
BATCH = 5_000
TARGET_SECONDS = 5.0
TARGET_RATIO = 1.3


def add_background_subjects(start: int, stop: int, *, sessions: bool) -> None:
    from allauth.account.models import EmailAddress
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from apps.accounts.models import User
    from apps.core.models import OutboundEmail
    from apps.gdpr.models import ConsentPurpose, ConsentRecord
    from apps.partners.models import Customer, Partner
    from apps.siem.models import SecurityEvent

    partner, _ = Partner.objects.get_or_create(name="Bench partner")
    purpose, _ = ConsentPurpose.objects.get_or_create(
        slug="newsletter", version=1, defaults={"title": "News", "description": "News"}
    )
    unusable = make_password(None)
    now = timezone.now()
    store = SessionStore()
    expiry = now + timedelta(days=1)

    for first in range(start, stop, BATCH):
        numbers = range(first, min(first + BATCH, stop))
        users = User.objects.bulk_create(
            User(email=f"person{n}@bench.example", password=unusable) for n in numbers
        )
        EmailAddress.objects.bulk_create(
            EmailAddress(user=u, email=u.email, primary=True, verified=True) for u in users
        )
        Customer.objects.bulk_create(
            Customer(partner=partner, owner=u, reference=f"ref-{u.pk}",
                     display_name=f"Person {u.pk}", email=u.email)
            for u in users
        )  # fmt: skip
        ConsentRecord.objects.bulk_create(
            ConsentRecord(user=u, purpose=purpose, granted=True, source="privacy_page")
            for u in users
        )
        OutboundEmail.objects.bulk_create(
            OutboundEmail(recipients=[u.email], subject="Welcome", body_text="", state="sent")
            for u in users
        )
        if sessions:
            Session.objects.bulk_create(
            Session(session_key=f"bench{u.pk:032d}",
                    session_data=store.encode({"_auth_user_id": str(u.pk)}), expire_date=expiry)
            for u in users
            )  # fmt: skip
        SecurityEvent.objects.bulk_create(
            SecurityEvent(occurred_at=now, event_type=kind, actor=f"user:{u.pk}",
                          subject=f"user:{u.pk}", ip="192.0.2.1", user_agent="bench",
                          details={"method": "password"})
            for u in users
            for kind in ("auth.login.success", "auth.logout", "auth.login.success")
        )  # fmt: skip


def make_subject(label: str):
    """A subject with SUBJECT_ROWS rows spread over the providers' tables."""
    from django.contrib.admin.models import CHANGE, LogEntry
    from django.contrib.contenttypes.models import ContentType
    from django.utils import timezone

    from apps.accounts.models import User
    from apps.core.models import OutboundEmail
    from apps.gdpr.models import ConsentPurpose, ConsentRecord
    from apps.partners.models import Customer, Partner
    from apps.siem.models import SecurityEvent
    from tests.conftest import make_person

    person = make_person(f"subject.{label}@bench.example")
    partner = Partner.objects.get(name="Bench partner")
    purpose = ConsentPurpose.objects.get(slug="newsletter")
    now = timezone.now()
    ref = f"user:{person.pk}"

    SecurityEvent.objects.bulk_create(
        SecurityEvent(occurred_at=now, event_type="auth.login.success", actor=ref, subject=ref,
                      details={"method": "password"})
        for _ in range(4_000)
    )  # fmt: skip
    # Failed logins for the account, as the receiver writes them: by reference, not address.
    SecurityEvent.objects.bulk_create(
        SecurityEvent(occurred_at=now, event_type="auth.login.failure", subject=ref,
                      details={"identifier": ref})
        for _ in range(2_000)
    )  # fmt: skip
    OutboundEmail.objects.bulk_create(
        OutboundEmail(recipients=[person.email], subject="Notice", body_text="", state="sent")
        for _ in range(2_000)
    )
    ConsentRecord.objects.bulk_create(
        ConsentRecord(user=person, purpose=purpose, granted=n % 2 == 0, source="privacy_page")
        for n in range(1_000)
    )
    Customer.objects.bulk_create(
        Customer(partner=partner, owner=person, reference=f"{label}-{n}",
                 display_name=f"Subject {label}", email=person.email)
        for n in range(500)
    )  # fmt: skip
    user_type = ContentType.objects.get_for_model(User)
    LogEntry.objects.bulk_create(
        LogEntry(user=person, content_type=user_type, object_id=str(n), object_repr=f"user #{n}",
                 action_flag=CHANGE, action_time=now)
        for n in range(500)
    )  # fmt: skip
    return person


def run(kind: str, person) -> float:
    from apps.gdpr import services
    from apps.gdpr.models import DataSubjectRequest
    from apps.gdpr.tasks import run_request

    request = services.file_request(kind=kind, subject=person, channel="staff", by="bench")
    DataSubjectRequest.objects.filter(pk=request.pk).update(state="scheduled")
    started = time.perf_counter()
    # The task body, run in this process: the benchmark measures the work, not the broker.
    run_request.apply(args=(request.pk,))
    elapsed = time.perf_counter() - started
    request.refresh_from_db()
    if request.state != "completed":
        raise RuntimeError(
            f"{kind} ended {request.state}: {request.failure} {request.scan_result}"
        )
    slowest = sorted(
        ((step.finished_at - step.started_at).total_seconds(), step.provider)
        for step in request.steps.all()
    )[-3:]
    parts = ", ".join(f"{name} {seconds:.2f} s" for seconds, name in reversed(slowest))
    scan = request.scan_result.get("seconds")
    scanned = f"; scan {scan:.2f} s" if scan is not None else ""
    if request.scan_result.get("unindexed"):
        scanned += f", tables read in full: {', '.join(request.scan_result['unindexed'])}"
    print(f"  {kind}: {elapsed:.2f} s (slowest steps: {parts}{scanned})")
    return elapsed


def analyze() -> None:
    """What a long-lived database's background work would have done after that many new rows.

    The scheduled sealing links every new security event into the hash chain within seconds,
    which is also when an event enters the verification scan's trigram index (docs/gdpr.md);
    and autovacuum refreshes the planner's statistics and moves the trigram indexes' pending
    entries into the index proper.
    """
    from django.db import connection

    from apps.siem.chain import seal_pending

    while seal_pending():
        pass
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def measure(label: str, repeat: int) -> dict[str, float]:
    """The fastest of ``repeat`` runs, each with a subject of its own.

    The machine is shared, so one run can lose a second to someone else's work; the fastest
    run is the one least disturbed, at either database size alike.
    """
    timings = {"export": [], "erase": []}
    for attempt in range(1, repeat + 1):
        # Statistics after the subject's own rows exist: otherwise the planner would believe
        # the subject has no events at all, which no long-lived database would.
        person = make_subject(f"{label}{attempt}")
        analyze()
        timings["export"].append(run("export", person))
        timings["erase"].append(run("erasure", person))
    return {step: min(values) for step, values in timings.items()}


def warm_up() -> None:
    """One unmeasured export and erasure, so that the first measured run does not also pay for
    imports, key loading and cold caches (which would flatter the ratio)."""
    from apps.gdpr import services
    from apps.gdpr.models import DataSubjectRequest
    from apps.gdpr.tasks import run_request
    from tests.conftest import make_person

    person = make_person("warm.up@bench.example")
    for kind in ("export", "erasure"):
        request = services.file_request(kind=kind, subject=person, channel="staff", by="bench")
        DataSubjectRequest.objects.filter(pk=request.pk).update(state="scheduled")
        run_request.apply(args=(request.pk,))


def load_average() -> str:
    try:
        with open("/proc/loadavg") as stats:
            return " ".join(stats.read().split()[:3])
    except OSError:
        return "unknown"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per size; the fastest counts")
    parser.add_argument(
        "--sessions",
        action="store_true",
        help="give every background subject a live session (see docs/gdpr.md: without "
        "allauth.usersessions the session provider decodes every live session)",
    )
    args = parser.parse_args()

    with throwaway_database():
        from django.conf import settings

        settings.CELERY_TASK_ALWAYS_EAGER = False
        started = time.perf_counter()
        add_background_subjects(0, args.small, sessions=args.sessions)
        print(f"{args.small:>7} subjects loaded in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        analyze()
        print(f"        their events sealed, the database analysed in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
        warm_up()
        small = measure("small", args.repeat)

        started = time.perf_counter()
        add_background_subjects(args.small, args.large, sessions=args.sessions)
        print(f"{args.large:>7} subjects loaded in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        analyze()
        print(f"        their events sealed, the database analysed in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
        large = measure("large", args.repeat)

    print(f"database: {describe_database()}; load average {load_average()}")
    print(
        f"subject rows: {SUBJECT_ROWS}; background sessions: {'yes' if args.sessions else 'no'}; "
        f"fastest of {args.repeat} runs per size"
    )
    ok = True
    for step in ("export", "erase"):
        ratio = large[step] / small[step]
        within = large[step] < TARGET_SECONDS and small[step] < TARGET_SECONDS
        ok &= within and ratio <= TARGET_RATIO
        print(
            f"{step:6}: {args.small} subjects {small[step]:.2f} s, {args.large} subjects "
            f"{large[step]:.2f} s, ratio {ratio:.2f}  (targets < {TARGET_SECONDS:.0f} s, "
            f"ratio <= {TARGET_RATIO})"
        )
    print("within targets" if ok else "OUTSIDE TARGETS")


if __name__ == "__main__":
    main()
