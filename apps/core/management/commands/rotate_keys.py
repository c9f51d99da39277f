"""Re-encrypt every encrypted column (and recompute blind indexes) to the current primary keys.

Runs in the foreground and prints progress after each batch; stopping it (or a crash) loses at
most one batch, and running it again resumes. ``--background`` hands the job to a Celery worker.
"""

from django.apps import apps
from django.core.management.base import BaseCommand

from apps.core.crypto.rotation import DEFAULT_BATCH_SIZE, encrypted_models, rotate_model


class Command(BaseCommand):
    help = "Re-encrypt stored values to the current primary keys, in resumable batches."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
        parser.add_argument("--model", action="append", help="app_label.Model (repeatable)")
        parser.add_argument("--background", action="store_true", help="queue a Celery task")

    def handle(self, *args, batch_size, model, background, **options):
        if background:
            from apps.core.tasks import rotate_encryption_keys

            rotate_encryption_keys.delay()
            self.stdout.write("rotation queued for a worker; progress: admin > Key rotations")
            return

        from apps.core.crypto.keyring import default_keyring

        default_keyring().reload()
        models = [apps.get_model(label) for label in model] if model else encrypted_models()
        for target in models:
            run = rotate_model(target, batch_size=batch_size, on_progress=self._progress)
            self.stdout.write(
                f"{run.model_label}: finished, {run.rows_rewritten} of {run.rows_seen} rows "
                f"re-encrypted to {run.target}"
            )

    def _progress(self, run):
        self.stdout.write(
            f"  {run.model_label}: {run.rows_seen} rows checked, {run.rows_rewritten} rewritten, "
            f"up to id {run.cursor}"
        )
