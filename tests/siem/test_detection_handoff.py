"""Committed events ask for detection runs; only the first ask since the last run publishes."""

import threading

import pytest
from django.core.cache import caches
from redis.exceptions import ConnectionError as RedisConnectionError

from apps.siem import receivers, tasks
from apps.siem.events import emit
from apps.siem.models import SecurityEvent
from tests.support import broker_down

pytestmark = pytest.mark.django_db(transaction=True)


def cache_class():
    # Each thread has its own cache object, and the ask is made on the asker's thread: a
    # stand-in must replace the method for every thread, so it goes on the class.
    return type(caches["default"])


@pytest.fixture
def published(monkeypatch):
    runs = []
    monkeypatch.setattr(tasks.process_pending_events, "delay", lambda: runs.append(1))
    return runs


def test_many_events_before_a_run_starts_publish_one_run(published):
    for _ in range(5):
        emit("auth.login.failure", details={"identifier": "nobody@example.com"})
    assert receivers.asker.wait_until_asked()

    assert published == [1]


def test_an_event_after_a_run_has_looked_asks_for_another(published):
    emit("auth.login.failure", details={"identifier": "nobody@example.com"})
    assert receivers.asker.wait_until_asked()
    receivers.clear_detection_request()  # what a starting run does before it looks

    emit("auth.login.failure", details={"identifier": "nobody@example.com"})
    assert receivers.asker.wait_until_asked()

    assert published == [1, 1]


def test_a_cache_that_does_not_answer_still_gets_every_event_a_run(published, monkeypatch):
    def down(*args, **kwargs):
        raise RedisConnectionError("cache down")

    monkeypatch.setattr(cache_class(), "add", down)

    emit("auth.login.failure", details={"identifier": "nobody@example.com"})
    assert receivers.asker.wait_until_asked()
    emit("auth.login.failure", details={"identifier": "nobody@example.com"})
    assert receivers.asker.wait_until_asked()

    assert published == [1, 1]


def test_the_request_that_commits_an_event_does_not_wait_for_the_ask(published, monkeypatch):
    # The cache is made to hang until the event's writer has returned: the ask happens after
    # the commit, on the asker's thread, and still publishes its run once the cache answers.
    asked, answer = threading.Event(), threading.Event()
    add = cache_class().add

    def slow_add(*args, **kwargs):
        asked.set()
        answer.wait(timeout=10)
        return add(*args, **kwargs)

    monkeypatch.setattr(cache_class(), "add", slow_add)

    emit("auth.login.failure", details={"identifier": "nobody@example.com"})
    assert asked.wait(timeout=5)
    assert published == []  # emit() has returned while the ask still waits on the cache

    answer.set()
    assert receivers.asker.wait_until_asked()
    assert published == [1]


def test_asks_in_a_forked_child_are_its_own(published):
    # A forked worker starts with no asker thread and no asks of its parent.
    child = receivers.DetectionAsker()
    child.ask_soon()
    assert child.wait_until_asked()
    child._start_afresh()  # what os.register_at_fork runs in the child

    assert child.wait_until_asked(timeout=0)
    assert child._thread is None


def test_at_interpreter_shutdown_the_ask_is_made_at_once(published, monkeypatch):
    # No new thread can start while the interpreter shuts down; the ask must not be lost.
    def refuse_to_start(thread):
        raise RuntimeError("can't create new thread at interpreter shutdown")

    monkeypatch.setattr(threading.Thread, "start", refuse_to_start)
    late = receivers.DetectionAsker()

    late.ask_soon()

    assert published == [1]
    assert late.wait_until_asked(timeout=0)


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
