"""The test worker's Celery app plus the probe providers (only where GDPR_PROBE_DIR is set)."""

from celery.signals import worker_process_init, worker_ready

from tests.gdpr import probes
from tests.gdpr.lifeline import die_with_parent
from tests.worker_app import app

__all__ = ["app"]


@worker_ready.connect
def _install_in_main_process(**kwargs):
    probes.install()


@worker_process_init.connect
def _install_in_pool_process(**kwargs):
    # Pool processes are forked before the ready signal; each registers for itself.
    probes.install()
    # A pool process blocked in a probe would outlive a main process killed on its own (the
    # fixture's parent-death signal reaches the main process only); this one follows it.
    die_with_parent()
