"""Run a benchmark inside Django against a throwaway copy of the configured database."""

import contextlib
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Measure as production serves: DEBUG off, so no statement is kept per query and no template
# keeps debug data. Without this, development's DEBUG=True charged every benchmark's side with
# more statements a bookkeeping cost production never pays. An explicit DEBUG still wins.
os.environ.setdefault("DEBUG", "false")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment, teardown_test_environment  # noqa: E402


@contextlib.contextmanager
def throwaway_database():
    """Create test_<name> (as the test suite does), migrate it, and drop it afterwards."""
    setup_test_environment()
    original_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        yield connection.settings_dict["NAME"]
    finally:
        connection.creation.destroy_test_db(original_name, verbosity=0)
        teardown_test_environment()


def describe_database() -> str:
    return f"{connection.vendor} ({connection.settings_dict['ENGINE'].rsplit('.', 1)[-1]})"


def grant(person, permission: str, *, role_name: str) -> None:
    """Give ``person`` one permission through a role of its own, as an administrator would."""
    from apps.accounts.models import User
    from apps.rbac.services import bind_role, create_role, ensure_permission

    granter, _ = User.objects.get_or_create(
        email="bench.granter@example.com", defaults={"is_superuser": True, "is_staff": True}
    )
    role = create_role(
        name=role_name, permissions=[ensure_permission(permission)], created_by=granter,
        reason="benchmark",
    )  # fmt: skip
    bind_role(role=role, user=person, granted_by=granter, reason="benchmark")
