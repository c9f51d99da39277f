"""The migration that widens the seed roles, when the cache does not answer."""

import importlib

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from apps.rbac import versions

migration = importlib.import_module("apps.rbac.migrations.0005_seed_roles_open_their_admin_pages")


@pytest.fixture
def cache_down(monkeypatch):
    def refuse():
        raise RedisConnectionError("connection refused")

    monkeypatch.setattr(versions, "bump_all", refuse)


def test_adding_permissions_goes_on_without_the_cache(cache_down, capsys):
    # Stale decisions grant less than the roles now do: safe to let lapse.
    migration._make_cached_decisions_stale(only_added=True)
    assert "lapse within the hour" in capsys.readouterr().out


def test_taking_permissions_away_stops_without_the_cache(cache_down):
    # Stale decisions would grant more than the roles now do.
    with pytest.raises(RedisConnectionError):
        migration._make_cached_decisions_stale(only_added=False)
