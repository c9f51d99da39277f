"""Erasure survives a killed worker, a crash loop and redelivery (real worker and broker).

The probe providers of tests/gdpr/probes.py sit between the built-in ones: the counter logs each
call and the blocker can hold or kill the worker, so a test knows exactly where the kill landed.
"""

import pytest
from django.conf import settings

from apps.accounts.models import User
from apps.gdpr import services
from apps.gdpr.models import DataSubjectRequest
from apps.siem.models import SecurityEvent
from tests.gdpr.conftest import wait_until
from tests.gdpr.factories import give_a_full_history
from tests.support import REQUIRE_SERVICES, skip_or_fail

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

State = DataSubjectRequest.State


def _needs_a_redelivering_broker():
    # The filesystem transport of the embedded default has no visibility timeout: the task of
    # a worker killed outright is not handed out again. Redis (and RabbitMQ) do that.
    if not settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://", "amqp://")):
        skip_or_fail("needs a broker that redelivers unacknowledged tasks", REQUIRE_SERVICES)


def _approved_erasure(person, officer):
    request = services.file_request(kind="erasure", subject=person, channel="user", by=person)
    return services.approve_request(request, by=officer, reason="identity checked")


def _state(request):
    request.refresh_from_db()
    return request.state


def _calls(probe_dir, name) -> int:
    log = probe_dir / f"{name}.log"
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_a_worker_killed_between_steps_resumes_after_restart_without_repeating_a_step(
    killable_worker, probe_dir, erin, privacy_officer
):
    _needs_a_redelivering_broker()
    give_a_full_history(erin, staff_member=privacy_officer)
    erin_email = erin.email
    (probe_dir / "block").touch()
    killable_worker.start()

    request = _approved_erasure(erin, privacy_officer)
    wait_until((probe_dir / "reached").exists, message="blocker reached")
    done_before_kill = set(request.steps.filter(state="done").values_list("provider", flat=True))
    assert "probe_counter" in done_before_kill
    killable_worker.kill()

    # The unacknowledged task comes back once the broker's visibility timeout has passed.
    (probe_dir / "block").unlink()
    killable_worker.start(CELERY_VISIBILITY_TIMEOUT=2)
    wait_until(lambda: _state(request) == State.COMPLETED, timeout=45,
               message=f"erasure completed\n{killable_worker.logs()}")  # fmt: skip

    assert _calls(probe_dir, "probe_counter") == 1, "a finished step ran again"
    assert _calls(probe_dir, "probe_blocker") == 2, "the interrupted step ran again, once"
    steps = list(request.steps.values_list("provider", "state", "runs"))
    assert all(state == "done" and runs == 1 for _, state, runs in steps), steps
    assert request.attempts == 2
    assert request.scan_result["clean"] is True
    assert not User.objects.filter(email=erin_email).exists()
    assert SecurityEvent.objects.filter(event_type="gdpr.request.completed").count() == 1
    killable_worker.mailbox().wait_for(erin_email)


def test_a_request_that_keeps_killing_its_worker_fails_after_bounded_attempts_and_alerts(
    killable_worker, probe_dir, erin, privacy_officer
):
    (probe_dir / "crash").touch()
    killable_worker.start(GDPR_MAX_ATTEMPTS=3)

    request = _approved_erasure(erin, privacy_officer)
    wait_until(lambda: _state(request) == State.FAILED, timeout=45,
               message=f"request failed\n{killable_worker.logs()}")  # fmt: skip

    # Three runs died in the blocker; the fourth delivery found the limit reached.
    assert request.attempts == 4
    assert _calls(probe_dir, "probe_blocker") == 3
    assert request.failure == "too many attempts"
    alert = killable_worker.mailbox().wait_for("priya@example.com")
    assert f"#{request.pk} failed" in alert["Subject"]
    assert SecurityEvent.objects.filter(event_type="gdpr.request.failed").count() == 1
    assert User.objects.filter(pk=erin.pk).exists(), "the account stays until erasure succeeds"


def test_a_task_redelivered_while_still_running_completes_once(
    killable_worker, probe_dir, erin, privacy_officer
):
    _needs_a_redelivering_broker()
    (probe_dir / "block").touch()
    # Two workers and a one-second visibility timeout: the broker hands the running task out
    # again, and the other worker runs the copy beside the original. (A worker ignores a copy
    # of a task it is running itself.) One attempt allowed, so that a copy counted as a
    # crashed attempt would fail the request under the running original.
    for _ in range(2):
        killable_worker.start(CELERY_VISIBILITY_TIMEOUT=1, GDPR_MAX_ATTEMPTS=1)

    request = _approved_erasure(erin, privacy_officer)
    wait_until((probe_dir / "reached").exists, message="blocker reached")
    wait_until(
        lambda: DataSubjectRequest.objects.get(pk=request.pk).attempts >= 2,
        timeout=30,
        message=f"redelivery\n{killable_worker.logs()}",
    )
    (probe_dir / "release").touch()
    wait_until(lambda: _state(request) == State.COMPLETED, timeout=30, message="completed")

    assert _calls(probe_dir, "probe_counter") == 1
    assert _calls(probe_dir, "probe_blocker") == 1, "the copy must not run a held step"
    assert SecurityEvent.objects.filter(event_type="gdpr.request.completed").count() == 1
    assert not SecurityEvent.objects.filter(event_type="gdpr.request.failed").exists()
    killable_worker.mailbox().wait_for("erin.subject@example.com")
    assert len(killable_worker.mailbox().messages()) == 1
