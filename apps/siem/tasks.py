"""Background work of security monitoring; every task takes ids and is safe to run twice."""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task
def process_pending_events() -> int:
    """Detect and seal every committed event not yet in the chain (see apps/siem/receivers.py)."""
    from apps.siem import chain, receivers

    # Cleared before looking: an event committed from here on asks for, and gets, a new run.
    receivers.clear_detection_request()
    sealed = total = chain.seal_pending()
    while sealed == chain.SEAL_BATCH:
        sealed = chain.seal_pending()
        total += sealed
    return total


@shared_task
def process_events(event_ids: list[int]) -> int:
    """Detection for the given events again (detection counts nothing twice), then a seal."""
    from apps.siem import chain, detection

    firings = detection.detect(event_ids)
    while chain.seal_pending(wait=False) == chain.SEAL_BATCH:
        pass
    return len(firings)


@shared_task(bind=True, max_retries=8)
def run_playbook(self, incident_id: int) -> list[str]:
    from apps.siem import playbooks

    try:
        return playbooks.run(incident_id)
    except playbooks.PlaybookIncomplete as incomplete:
        raise self.retry(
            exc=incomplete, countdown=min(300, 5 * 2**self.request.retries)
        ) from incomplete


@shared_task
def run_waiting_playbooks() -> int:
    from apps.siem.incidents import run_waiting_playbooks as sweep

    return sweep()


@shared_task
def seal_events() -> int:
    from apps.siem import chain

    sealed = total = chain.seal_pending()
    while sealed == chain.SEAL_BATCH:
        sealed = chain.seal_pending()
        total += sealed
    return total


@shared_task
def verify_event_chain() -> str:
    from apps.siem.services import verify_and_report

    return str(verify_and_report(by="system:verify-task"))


@shared_task(autoretry_for=(OSError,), retry_backoff=True, retry_backoff_max=300, max_retries=None)
def forward_events() -> int:
    from apps.siem import forwarding

    return forwarding.forward_pending()


@shared_task
def release_expired() -> int:
    from apps.siem import playbooks

    return playbooks.release_expired()
