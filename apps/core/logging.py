"""Card numbers and secrets never reach a log line, whoever logs and whichever handler writes.

Two layers, because either alone leaves a gap:

* ``install_log_scrubbing()`` wraps the process-wide log record factory, so every record made
  by any logger (Django's request errors, Celery's worker and task logs, libraries) has its
  message and exception text scrubbed the moment it is created, before any handler, even one
  added later by Celery, sees it. It runs from ``CoreConfig.ready()`` in web and worker alike.
* ``ScrubSecretsFilter`` sits on the configured handlers and also scrubs what the factory
  cannot see: attributes passed with ``extra=`` (such as ``details``), set after creation.
"""

import logging

from apps.core.scrub import scrub, scrub_text

_INSTALLED_MARK = "_portal_scrubs_secrets"


def scrub_record(record: logging.LogRecord) -> logging.LogRecord:
    """Render the message and exception once, scrubbed, in place of their raw parts."""
    try:
        message = record.getMessage()
    except (TypeError, ValueError):
        message = str(record.msg)
    record.msg = scrub_text(message)
    record.args = None

    if record.exc_info and record.exc_info[1] is not None:
        # Handlers format exceptions later from exc_info, whose message may hold a card number;
        # the scrubbed text takes its place and the live exception is dropped.
        record.exc_text = scrub_text(logging.Formatter().formatException(record.exc_info))
        record.exc_info = None
    elif record.exc_text:
        record.exc_text = scrub_text(record.exc_text)
    if record.stack_info:
        record.stack_info = scrub_text(record.stack_info)
    return record


class ScrubSecretsFilter(logging.Filter):
    """Redact card numbers and secret-named values from a record and its extra attributes."""

    def filter(self, record: logging.LogRecord) -> bool:
        scrub_record(record)
        if isinstance(getattr(record, "details", None), dict):
            record.details = scrub(record.details)
        return True


def install_log_scrubbing() -> None:
    """Make every log record of this process scrubbed at creation; safe to call repeatedly."""
    current = logging.getLogRecordFactory()
    if getattr(current, _INSTALLED_MARK, False):
        return

    def scrubbing_factory(*args, **kwargs):
        return scrub_record(current(*args, **kwargs))

    setattr(scrubbing_factory, _INSTALLED_MARK, True)
    logging.setLogRecordFactory(scrubbing_factory)
