"""How much a full password login costs beyond the password hash itself.

Measured in one run on one machine:

* the rate of full logins through the real login view: GET the form (CSRF cookie and token),
  POST it, authenticate, create the session, write the security event, redirect;
* the rate of full logins with a second factor: the same, then the code step (GET the form,
  POST a TOTP code computed by pyotp from the user's key, as an authenticator app would);
* the rate of bare Argon2id verifications with the same parameters.

The ratio login/verify is the figure of merit: at 0.8 or above, everything that is not hashing
costs less than a quarter of the hash. For logins with a second factor the target is 0.75.
Run with `make bench` or `.venv/bin/python bench/login.py`.
"""

import argparse
import base64
import functools
import gc
import re
import time

from _django import describe_database, throwaway_database
from django.test import Client
from django.test.client import ClientHandler

from apps.accounts.hashers import Argon2idHasher

PASSWORD = "benchmark passphrase 2026"
PEOPLE = 2000
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@functools.cache
def _server() -> ClientHandler:
    return ClientHandler(enforce_csrf_checks=True)


def fresh_browser(address: str) -> Client:
    """A browser with no cookies, from its own address, talking to one long-lived server.

    Each django.test.Client starts a handler of its own, which loads the whole middleware stack
    on its first request (WhiteNoise's alone lists every static file when it starts). A server
    process does that once, so the browsers here share one handler; only the cookies and the
    address are new for each login.
    """
    browser = Client(enforce_csrf_checks=True, REMOTE_ADDR=address)
    browser.handler = _server()
    return browser


def full_login(client_number: int, email: str) -> None:
    # A fresh browser each time, from its own address: the per-address rate limit is a real
    # part of the login path, but a benchmark from one address would only measure refusals.
    address = (
        f"10.{client_number // 65536 % 256}.{client_number // 256 % 256}.{client_number % 256}"
    )
    browser = fresh_browser(address)

    form = browser.get("/accounts/login/")
    token = CSRF_FIELD.search(form.content.decode()).group(1)
    response = browser.post(
        "/accounts/login/", {"login": email, "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    if response.status_code != 302 or response["Location"] != "/account/":
        raise RuntimeError(f"login did not succeed: {response.status_code}")


def full_login_with_totp(client_number: int, email: str, app) -> None:
    # Addresses of their own (172.16/12), apart from those of the password-only logins.
    n = client_number
    address = f"172.{16 + n // 65536 % 16}.{n // 256 % 256}.{n % 256}"
    browser = fresh_browser(address)

    form = browser.get("/accounts/login/")
    token = CSRF_FIELD.search(form.content.decode()).group(1)
    response = browser.post(
        "/accounts/login/", {"login": email, "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    if response.status_code != 302 or response["Location"] != "/accounts/2fa/authenticate/":
        raise RuntimeError(f"password step did not lead to the code step: {response.status_code}")

    code_form = browser.get("/accounts/2fa/authenticate/")
    token = CSRF_FIELD.search(code_form.content.decode()).group(1)
    response = browser.post(
        "/accounts/2fa/authenticate/", {"code": app.now(), "csrfmiddlewaretoken": token}
    )
    if response.status_code != 302 or response["Location"] != "/account/":
        raise RuntimeError(f"code step did not succeed: {response.status_code}")


def timed(action, seconds: float, first_number: int) -> tuple[int, float]:
    count = 0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        action(first_number + count)
        count += 1
    return count, elapsed


def interleaved_rates(*actions, seconds: float, rounds: int = 8):
    """Alternate short slices of every measure, so that load elsewhere on the machine during
    the run weighs on all alike instead of on whichever ran at the wrong moment."""
    totals = [[0, 0.0] for _ in actions]
    for _ in range(rounds):
        for index, action in enumerate(actions):
            count, elapsed = timed(action, seconds / rounds, totals[index][0])
            totals[index][0] += count
            totals[index][1] += elapsed
    return [(count / elapsed, count) for count, elapsed in totals]


TOTP_USERS = 3000


def make_totp_users(encoded_password: str, *, count: int) -> dict:
    """Users sharing one password hash (so creating them costs no hashing), each with a TOTP
    device; returns their addresses with an independent authenticator (pyotp) for each."""
    import pyotp
    from allauth.account.models import EmailAddress
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from apps.accounts.models import User

    users = User.objects.bulk_create(
        User(email=f"totp{n}@example.com", password=encoded_password) for n in range(count)
    )
    EmailAddress.objects.bulk_create(
        EmailAddress(user=u, email=u.email, primary=True, verified=True) for u in users
    )
    devices = TOTPDevice.objects.bulk_create(
        TOTPDevice(user=u, name="bench", confirmed=True) for u in users
    )
    return {
        device.user.email: pyotp.TOTP(base64.b32encode(device.bin_key).decode())
        for device in devices
    }


def serve_like_a_server_process():
    """Leave behind what only the benchmark's own setup needed, as a web worker never has it.

    * The test environment makes every template render send a signal, on which the test client
      copies each template context to keep it for assertions. No served request does that.
    * Building the throwaway database ran every migration in this process, which leaves
      thousands of historical model classes (and their fields) alive: four times the objects of
      a freshly started worker, which every full garbage collection during the logins would walk
      again. The WSGI entry point (config/wsgi.py) freezes what is loaded at start; this does the
      same here, after the setup.
    """
    from django.template import Template
    from django.test.utils import _TestState

    Template._render = _TestState.saved_data.template_render
    gc.collect()
    gc.freeze()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="duration of each measure")
    args = parser.parse_args()

    with throwaway_database():
        from allauth.account.models import EmailAddress

        from apps.accounts.models import User

        # Many people, each logging in once or twice, as on a real site: one person logging in
        # thousands of times would instead measure the bookkeeping of thousands of sessions.
        encoded = Argon2idHasher().encode(PASSWORD, Argon2idHasher().salt())
        users = User.objects.bulk_create(
            User(email=f"person{number}@example.com", password=encoded) for number in range(PEOPLE)
        )
        EmailAddress.objects.bulk_create(
            EmailAddress(user=user, email=user.email, primary=True, verified=True)
            for user in users
        )
        emails = [user.email for user in users]
        hasher = Argon2idHasher()

        def verify(_):
            if not hasher.verify(PASSWORD, encoded):
                raise RuntimeError("verify failed")

        def login(number):
            full_login(number, emails[number % PEOPLE])

        # A TOTP code is accepted once per 30-second step and device, so each login with a
        # second factor uses the next of many users, each with an authenticator of its own.
        apps_by_email = make_totp_users(encoded, count=TOTP_USERS)
        totp_emails = list(apps_by_email)

        def login_with_totp(number):
            if number >= len(totp_emails):
                raise RuntimeError("more TOTP logins than users: raise TOTP_USERS")
            email = totp_emails[number]
            full_login_with_totp(number, email, apps_by_email[email])

        serve_like_a_server_process()

        # Warm every path (imports, template loading, connection) before measuring.
        timed(verify, 1.0, 0)
        timed(login, 1.0, 1_000_000)
        warmed, _ = timed(login_with_totp, 1.0, 0)

        rates = interleaved_rates(
            verify, login, lambda n: login_with_totp(warmed + n), seconds=args.seconds
        )
        (verify_rate, verifies), (login_rate, logins), (totp_rate, totp_logins) = rates
        params = f"m={hasher.memory_cost} KiB, t={hasher.time_cost}, p={hasher.parallelism}"

    from django.conf import settings

    print(f"database: {describe_database()}, DEBUG={settings.DEBUG}")
    print(f"argon2id parameters: {params}")
    print(f"bare verify:  {verify_rate:8.1f} /s  ({verifies} in {args.seconds:.0f} s)")
    print(f"full login:   {login_rate:8.1f} /s  ({logins} in {args.seconds:.0f} s)")
    print(f"ratio login/verify: {login_rate / verify_rate:.2f}  (target >= 0.80)")
    print(f"login + TOTP: {totp_rate:8.1f} /s  ({totp_logins} in {args.seconds:.0f} s)")
    print(f"ratio login+TOTP/verify: {totp_rate / verify_rate:.2f}  (target >= 0.75)")


if __name__ == "__main__":
    main()
