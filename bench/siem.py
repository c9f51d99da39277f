"""What the security-event store costs: batch ingestion against a plain insert, and how fast
detection turns an attack into an incident.

Measured in one run, against a throwaway copy of the configured database, with a real Celery
worker process (started here, stopped at the end):

* ingestion: events per second through POST /api/v1/events/ (validation, scrubbing, one bulk
  insert per batch, detection queued after commit) with the default rules enabled, against a
  plain ``bulk_create`` of the same rows built from the same dicts (no validation, no chain, no
  detection). Both are timed
  in alternating slices so that other load on the machine weighs on both alike;
* end to end: how long after the last batch the worker has run detection on everything and
  sealed it into the chain;
* detection latency: for repeated brute-force bursts (six failed logins from a fresh address,
  one batch), the time from posting the batch to the incident being opened; p50 and p95.

Targets: ingestion/bulk_create ratio at least 0.5; p95 detection latency under 2 s.
Run with `.venv/bin/python bench/siem.py` (PostgreSQL, Redis and a broker configured).
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

from _django import describe_database, grant, throwaway_database
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

REPO = Path(__file__).resolve().parent.parent
BATCH = 500
QUEUE = f"bench-{uuid.uuid4().hex[:8]}"


def payloads(start: int, count: int) -> list[dict]:
    """A mix like the portal's own traffic: logins, data reads, API calls, from many places."""
    now = timezone.now()
    rows = []
    for n in range(start, start + count):
        kind = n % 10
        address = f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
        if kind < 3:
            row = {
                "event_type": "auth.login.failure",
                "details": {"identifier": f"u{n}@example.com"},
            }
        elif kind < 5:
            row = {"event_type": "auth.login.success", "actor": f"user:{n % 5000}"}
        elif kind < 8:
            row = {
                "event_type": "data.access",
                "actor": f"client:{n % 50}",
                "details": {"resource": "customer", "id": n},
            }
        else:
            row = {"event_type": "api.request", "details": {"method": "GET", "status_code": 200}}
        rows.append({**row, "occurred_at": now.isoformat(), "ip": address, "service": "portal"})
    return rows  # fmt: skip


def plain_rows(items):
    from apps.siem.events import EVENT_TYPES
    from apps.siem.models import SecurityEvent

    return [
        SecurityEvent(
            occurred_at=timezone.now(), event_type=i["event_type"],
            severity=EVENT_TYPES[i["event_type"]][0], outcome=EVENT_TYPES[i["event_type"]][1],
            actor=i.get("actor", ""), service="portal", ip=i["ip"], details=i.get("details", {}),
        )
        for i in items
    ]  # fmt: skip


def start_worker(concurrency: int):
    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    if db.get("PASSWORD"):
        url = url.replace("@", f":{db['PASSWORD']}@", 1)
    env = {**os.environ, "DATABASE_URL": url, "CELERY_TASK_DEFAULT_QUEUE": QUEUE}
    # The log file lives as long as the worker, not a with-block.
    log = open(REPO / "var" / "bench-siem-worker.log", "wb")  # noqa: SIM115
    return subprocess.Popen(  # noqa: S603 - our own worker
        [sys.executable, "-m", "celery", "-A", "config.celery", "worker", "--loglevel=WARNING",
         f"--concurrency={concurrency}", "--without-heartbeat", "--without-mingle",
         "--without-gossip", "-Q", QUEUE],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip


def queue_length(celery_app) -> int:
    from amqp.exceptions import ChannelError

    with celery_app.connection_for_write() as connection:
        try:
            return connection.default_channel.queue_declare(
                queue=QUEUE, passive=True
            ).message_count
        except ChannelError:
            return 0  # Redis drops an emptied list, and with it the queue as far as it knows


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.01)
    raise RuntimeError(f"{what} not reached within {timeout} s")


def main():  # noqa: PLR0915 - one measured story, told in order
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000, help="events per measure")
    parser.add_argument("--rounds", type=int, default=4, help="alternating slices")
    parser.add_argument("--bursts", type=int, default=40, help="brute-force bursts for latency")
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes")
    args = parser.parse_args()
    # Ingestion is measured, not the per-minute API limits: another benchmark run a moment
    # before from the same loopback address must not get this one throttled.
    settings.PORTAL_API_RATE_PER_ADDRESS = settings.PORTAL_API_RATE_PER_CLIENT = 100_000_000

    from config.celery import app as celery_app

    celery_app.conf.task_default_queue = QUEUE
    with throwaway_database():
        from apps.accounts.models import User
        from apps.siem.models import DetectionRule, Incident, SecurityEvent

        # An internal service account, granted ingestion by access control as in production.
        service = User.objects.create_user("bench-ingest@example.com", None)
        grant(service, "security-events:ingest:all", role_name="bench-event-ingestion")
        api = APIClient()
        api.force_authenticate(service)
        worker = start_worker(args.concurrency)
        try:
            rules = DetectionRule.objects.filter(enabled=True).count()

            # Warm both paths (imports, connections, prepared plans).
            api.post("/api/v1/events/", {"events": payloads(10**7, BATCH)}, format="json")
            SecurityEvent.objects.bulk_create(plain_rows(payloads(2 * 10**7, BATCH)))

            per_round = max(BATCH, args.events // args.rounds)
            totals = {"api": [0, 0.0], "plain": [0, 0.0]}
            offset = 0
            for _ in range(args.rounds):
                items = payloads(offset, per_round)
                offset += per_round
                started = time.perf_counter()
                for i in range(0, len(items), BATCH):
                    response = api.post(
                        "/api/v1/events/", {"events": items[i : i + BATCH]}, format="json"
                    )
                    if response.status_code != 200 or response.json()["rejected"]:
                        raise RuntimeError(f"ingestion refused events: {response.content[:300]}")
                totals["api"][0] += len(items)
                totals["api"][1] += time.perf_counter() - started
                last_api_batch = time.perf_counter()

                items = payloads(offset, per_round)
                offset += per_round
                started = time.perf_counter()
                for i in range(0, len(items), BATCH):
                    SecurityEvent.objects.bulk_create(plain_rows(items[i : i + BATCH]))
                totals["plain"][0] += len(items)
                totals["plain"][1] += time.perf_counter() - started

            api_rate = totals["api"][0] / totals["api"][1]
            plain_rate = totals["plain"][0] / totals["plain"][1]

            # End to end: the worker has detected and sealed every ingested event. (The plain
            # rows are sealed too: they are in the same table, and the chain takes every row.)
            wait_for(
                lambda: queue_length(celery_app) == 0
                and not SecurityEvent.objects.filter(chain_seq__isnull=True).exists(),
                600, "every event detected and sealed",
            )  # fmt: skip
            drained = time.perf_counter() - last_api_batch
            total_events = SecurityEvent.objects.count()

            # Detection latency on an idle worker: six failures from a fresh address.
            latencies = []
            for burst in range(args.bursts + 1):
                address = f"198.18.{burst // 256}.{burst % 256}"
                burst_events = [
                    {"event_type": "auth.login.failure", "occurred_at": timezone.now().isoformat(),
                     "ip": address, "service": "portal",
                     "details": {"identifier": f"victim{burst}@example.com"}}
                    for _ in range(6)
                ]  # fmt: skip
                posted = timezone.now()
                response = api.post("/api/v1/events/", {"events": burst_events}, format="json")
                if response.status_code != 200 or response.json()["rejected"]:
                    raise RuntimeError(f"burst refused: {response.content[:300]}")
                wait_for(
                    lambda a=address: Incident.objects.filter(group_key=f"ip={a}").exists(),
                    30, "incident opened",
                )  # fmt: skip
                incident = Incident.objects.get(group_key=f"ip={address}")
                if burst:  # the first burst only proves the worker has caught up
                    latencies.append((incident.detected_at - posted) / timedelta(milliseconds=1))
        finally:
            worker.terminate()
            worker.wait(timeout=30)

    latencies.sort()
    p50 = statistics.median(latencies)
    p95 = latencies[max(0, round(0.95 * len(latencies)) - 1)]
    print(f"database: {describe_database()}; worker processes: {args.concurrency}")
    print(f"default rules enabled: {rules}; batch size: {BATCH}")
    print(f"plain bulk_create:   {plain_rate:9.0f} events/s ({totals['plain'][0]} events)")
    print(f"ingestion API:       {api_rate:9.0f} events/s ({totals['api'][0]} events)")
    print(f"ratio ingestion/bulk_create: {api_rate / plain_rate:.2f}  (target >= 0.50)")
    print(f"worker drained and sealed all {total_events} events {drained:.1f} s after the last "
          "batch")  # fmt: skip
    print(f"detection latency over {len(latencies)} bursts: p50 {p50:.0f} ms, p95 {p95:.0f} ms "
          "(target p95 < 2000 ms)")  # fmt: skip


if __name__ == "__main__":
    main()
