"""Committed events ask for detection runs; only the first ask since the last run publishes."""

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from apps.siem import receivers, tasks
from apps.siem.events import emit
from apps.siem.models import SecurityEvent
from tests.support import broker_down

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def published(monkeypatch):
    runs = []
    monkeypatch.setattr(tasks.process_pending_events, "delay", lambda: runs.append(1))
    return runs


def test_many_events_before_a_run_starts_publish_one_run(published):
    for _ in range(5):
        emit("auth.login.failure", details={"identifier": "nobody@example.com"})

    assert published == [1]


def test_an_event_after_a_run_has_looked_asks_for_another(published):
    emit("auth.login.failure", details={"identifier": "nobody@example.com"})
    receivers.clear_detection_request()  # what a starting run does before it looks

    emit("auth.login.failure", details={"identifier": "nobody@example.com"})

    assert published == [1, 1]


def test_a_cache_that_does_not_answer_still_gets_every_event_a_run(published, monkeypatch):
    def down(*args, **kwargs):
        raise RedisConnectionError("cache down")

    monkeypatch.setattr(receivers.cache, "add", down)

    emit("auth.login.failure", details={"identifier": "nobody@example.com"})
    emit("auth.login.failure", details={"identifier": "nobody@example.com"})

    assert published == [1, 1]


def test_a_run_that_cannot_clear_the_ask_still_detects_and_seals(published, monkeypatch):
    def down(*args, **kwargs):
        raise RedisConnectionError("cache down")

    event = emit("auth.login.failure", details={"identifier": "nobody@example.com"})
    monkeypatch.setattr(receivers.cache, "delete", down)

    tasks.process_pending_events()

    event.refresh_from_db()
    assert event.chain_seq is not None


def test_a_broker_that_does_not_answer_fails_no_request_that_wrote_an_event(client, monkeypatch):
    # The event is committed before the ask is published; the scheduled sealing detects it once
    # the broker is back, so a refused publish must not turn the committed request into a 500.
    monkeypatch.setattr(tasks.process_pending_events, "delay", broker_down)

    response = client.post("/accounts/login/", {"login": "nobody@example.com", "password": "x"})

    assert response.status_code == 200
    assert SecurityEvent.objects.filter(event_type="auth.login.failure").exists()
