import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

# Everything loaded so far (modules, models, URL patterns, templates' loaders) lives as long as the
# process. Moving it out of the collector's sight keeps each full collection from walking those
# hundreds of thousands of objects again during requests, and a forked worker from touching (and
# so copying) their pages.
gc.collect()
gc.freeze()
