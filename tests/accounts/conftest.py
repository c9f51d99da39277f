import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Every test starts with allauth's rate-limit counters (kept in the cache) at zero.

    These tests log in many times from one address; counters left by an earlier test would
    otherwise answer 429 for reasons that have nothing to do with the test.
    """
    cache.clear()
