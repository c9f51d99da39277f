"""Celery tasks for data-subject requests. Each takes an id and is safe to run twice."""

import logging

from celery import shared_task
from django.conf import settings

from apps.gdpr import runner, services
from apps.gdpr.models import DataSubjectRequest

logger = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=None)
def run_request(self, request_id: int) -> None:
    """Export or erase for one request, resuming after whatever step a previous run reached.

    Attempts are counted on the request row, not by Celery: a worker killed mid-task is
    redelivered without Celery's retry counter moving, and a request that keeps killing its
    worker must still stop and alert staff.
    """
    token = self.request.id or f"local-{request_id}"
    request = runner.claim_request(request_id, token=token)
    if request is None:
        logger.info("request %s is not runnable (gone, finished or held)", request_id)
        return
    if request.attempts > settings.GDPR_MAX_ATTEMPTS:
        if runner.held_by_live_worker(request):
            logger.info("request %s: a step is held by another worker", request_id)
            return
        runner.fail_request(request_id, reason="too many attempts")
        return

    try:
        runner.run_steps(request)
        if request.kind == DataSubjectRequest.Kind.ERASURE:
            runner.finish_erasure(request)
        else:
            runner.finish_export(request)
    except runner.StepBusy:
        # A duplicate delivery while another worker runs a step: that worker finishes it.
        logger.info("request %s: a step is held by another worker", request_id)
        return
    except runner.ScanNotClean:
        runner.fail_request(request_id, reason="verification scan found identifiers")
        return
    except Exception as error:  # any provider failure: retried a bounded number of times
        logger.warning("request %s attempt %s failed", request_id, request.attempts, exc_info=True)
        if request.attempts >= settings.GDPR_MAX_ATTEMPTS:
            runner.fail_request(request_id, reason=type(error).__name__)
            return
        # Hand the request back so the retry (a new task id) can claim it.
        DataSubjectRequest.objects.filter(pk=request_id, claim_token=token).update(
            state=DataSubjectRequest.State.SCHEDULED, claim_token=""
        )
        raise self.retry(
            countdown=settings.GDPR_RETRY_BACKOFF_SECONDS * request.attempts
        ) from None


@shared_task
def flag_overdue_requests() -> int:
    return services.flag_overdue_requests()


@shared_task
def release_scheduled_requests() -> int:
    return services.release_scheduled_requests()


@shared_task
def purge_exports() -> int:
    from apps.gdpr.downloads import purge_exports as purge

    return purge()
