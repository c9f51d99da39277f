import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.accounts.models import User
from apps.rbac.policy import role_names

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_three_people_who_can_log_in(client):
    out = StringIO()

    call_command("seed_demo", stdout=out)

    passwords = dict(re.findall(r"(\S+@example\.com) password (\S+)", out.getvalue()))
    assert set(passwords) == {"customer@example.com", "compliance@example.com",
                              "admin@example.com"}  # fmt: skip
    assert User.objects.get(email="admin@example.com").is_superuser
    officer = User.objects.get(email="compliance@example.com")
    assert role_names(officer) == ["compliance-officer"], "the admin opens through a seed role"
    assert client.login(email="customer@example.com", password=passwords["customer@example.com"])


def test_seed_demo_run_twice_changes_nothing_and_prints_no_password():
    call_command("seed_demo", stdout=StringIO())
    before = list(User.objects.order_by("pk").values_list("email", "password"))
    out = StringIO()

    call_command("seed_demo", stdout=out)

    assert list(User.objects.order_by("pk").values_list("email", "password")) == before
    assert "password" not in out.getvalue()


def test_seed_demo_refuses_to_run_in_production(settings):
    settings.PRODUCTION = True

    with pytest.raises(CommandError, match="refuses to run in production"):
        call_command("seed_demo", stdout=StringIO())

    assert not User.objects.exists()
