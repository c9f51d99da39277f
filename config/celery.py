"""The Celery application shared by the web processes (which enqueue) and the workers.

Settings come from Django's settings module under the CELERY_ prefix; see config/settings.py
for why tasks are acknowledged late and serialised as JSON only.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
