"""Helpers shared by the test suite: required services, the mail folder, named people."""

import os
import shutil

import pytest

# CI sets these so that a missing browser or service fails the run instead of skipping.
REQUIRE_BROWSER = "PORTAL_REQUIRE_BROWSER"
REQUIRE_SERVICES = "PORTAL_REQUIRE_SERVICES"

CHROMIUM_PATH = os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # tests run as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def skip_or_fail(reason: str, required_by: str) -> None:
    """Skip with a reason, unless the environment says this must not be skipped."""
    if os.environ.get(required_by) == "1":
        pytest.fail(f"{reason} ({required_by}=1 forbids skipping)")
    pytest.skip(reason)


def require_chromium() -> str:
    if not (os.path.exists(CHROMIUM_PATH) or shutil.which(CHROMIUM_PATH)):
        skip_or_fail(
            f"no Chromium at {CHROMIUM_PATH}: install it with `apt-get install chromium`",
            REQUIRE_BROWSER,
        )
    return CHROMIUM_PATH


STRONG_PASSWORD = "correct horse battery staple 42"
