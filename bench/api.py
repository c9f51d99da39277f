"""What the partner API's security machinery costs on a customer list.

One run, on loopback, against gunicorn with 2 workers and a throwaway database holding
100,000 customers (half of them the calling partner's, interleaved with another partner's):

* secured: `GET /api/v1/customers/` as a partner client with every customer scope: OAuth2
  token check, scope check, partner filtering in the query, personal fields, and one batched
  `data.access` event written per page;
* plain: the same serializer and page of 50 over a plain queryset (`PlainCustomerList`,
  mounted only for this run), same authentication, no scope check, no partner filter, no
  access event.

Requests go from a few client threads on the same machine, alternating short slices of both
measures so that other load weighs on both alike. The ratio secured/plain is the figure of
merit (target >= 0.80). Run with `.venv/bin/python bench/api.py`.
"""

import argparse
import base64
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from _django import describe_database, throwaway_database

REPO = Path(__file__).resolve().parent.parent
CUSTOMERS = 100_000
BATCH = 5_000
SECURED = "/api/v1/customers/"
PLAIN = "/api/v1/bench/plain-customers/"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def seed(partner, other) -> None:
    from apps.partners.models import Customer

    rows = []
    for number in range(CUSTOMERS):
        owner = partner if number % 2 == 0 else other
        rows.append(
            Customer(
                partner=owner,
                reference=f"ref-{number}",
                display_name=f"Customer {number}",
                email=f"customer{number}@example.com",
            )
        )
        if len(rows) == BATCH:
            Customer.objects.bulk_create(rows)
            rows = []
    Customer.objects.bulk_create(rows)


def database_url(settings_dict) -> str:
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    credentials = settings_dict["USER"] or ""
    if settings_dict.get("PASSWORD"):
        credentials += f":{settings_dict['PASSWORD']}"
    host = settings_dict["HOST"] or "127.0.0.1"
    return (
        f"postgres://{credentials}@{host}:{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"
    )


def start_gunicorn(port: int, db_url: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "DEBUG": "0",
        "PORTAL_API_BENCH_VIEWS": "1",
        "PORTAL_API_RATE_PER_ADDRESS": "100000000",
        "PORTAL_API_RATE_PER_CLIENT": "100000000",
        "LOG_LEVEL": "WARNING",
    }
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "config.wsgi:application",
        "--workers=2",
        f"--bind=127.0.0.1:{port}",
        "--log-level=warning",
    ]
    process = subprocess.Popen(command, cwd=REPO, env=env)  # noqa: S603 - our own server
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("gunicorn did not start")


def client_token(port: int, client_id: str, secret: str) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    body = urlencode(
        {
            "grant_type": "client_credentials",
            "scope": "customers:read customers:write customers:personal",
        }
    )
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    connection.request(
        "POST",
        "/o/token/",
        body=body,
        headers={
            "Authorization": f"Basic {basic}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    response = connection.getresponse()
    payload = json.loads(response.read())
    if response.status != 200:
        raise RuntimeError(f"no token: {payload}")
    return payload["access_token"]


def load(port: int, path: str, token: str, *, seconds: float, threads: int) -> list[float]:
    """Keep `threads` keep-alive connections busy for `seconds`; return each request's latency."""
    latencies: list[float] = []
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def worker():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
            response = connection.getresponse()
            body = response.read()
            if response.status != 200 or len(json.loads(body)["results"]) != 50:
                raise RuntimeError(f"{path} answered {response.status}")
            mine.append(time.perf_counter() - started)
        connection.close()
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return latencies


def p95(latencies: list[float]) -> float:
    ordered = sorted(latencies)
    return ordered[int(0.95 * (len(ordered) - 1))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of each measure")
    parser.add_argument("--threads", type=int, default=4, help="concurrent client connections")
    parser.add_argument("--rounds", type=int, default=5, help="alternating slices per measure")
    args = parser.parse_args()

    with throwaway_database():
        from django.db import connection

        from apps.partners.models import Partner
        from apps.partners.services import register_partner_application

        acme = Partner.objects.create(name="Acme")
        globex = Partner.objects.create(name="Globex")
        seed(acme, globex)
        application, secret = register_partner_application(
            acme,
            name="Bench CRM",
            scopes={"customers:read", "customers:write", "customers:personal"},
            actor="bench",
        )
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("ANALYZE")
        db_url = database_url(connection.settings_dict)
        # The server processes need the rows: close ours so nothing holds a lock.
        connection.close()

        port = free_port()
        server = start_gunicorn(port, db_url)
        try:
            token = client_token(port, application.client_id, secret)
            load(port, SECURED, token, seconds=2, threads=args.threads)  # warm both paths
            load(port, PLAIN, token, seconds=2, threads=args.threads)
            results = {SECURED: [], PLAIN: []}
            for _ in range(args.rounds):
                for path in (SECURED, PLAIN):
                    results[path].extend(
                        load(
                            port,
                            path,
                            token,
                            seconds=args.seconds / args.rounds,
                            threads=args.threads,
                        )
                    )
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        database = describe_database()

    rate = {path: len(values) / args.seconds for path, values in results.items()}
    print(f"database: {database}; customers: {CUSTOMERS:,}; gunicorn workers: 2; loopback")
    print(
        f"client threads: {args.threads}; {args.seconds:.0f} s per measure in {args.rounds} slices"
    )
    for label, path in (("secured", SECURED), ("plain", PLAIN)):
        slowest = p95(results[path]) * 1000
        print(
            f"{label:8} {path:34} {rate[path]:8.1f} req/s   p95 {slowest:7.1f} ms"
            f"   ({len(results[path])} requests)"
        )
    print(f"ratio secured/plain: {rate[SECURED] / rate[PLAIN]:.2f}  (target >= 0.80)")


if __name__ == "__main__":
    main()
