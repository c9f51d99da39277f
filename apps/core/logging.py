import logging

from apps.core.scrub import scrub, scrub_text


class ScrubSecretsFilter(logging.Filter):
    """Redact card-like numbers and secret-named values from every log record.

    The message is rendered once here, so that a secret passed as a %-style argument is caught
    too, and the rendered text replaces the template and its arguments.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg = scrub_text(message)
        record.args = None

        if record.exc_info and record.exc_info[1] is not None:
            # Exception texts are formatted later by the handler; render and scrub them now.
            record.exc_text = scrub_text(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if isinstance(getattr(record, "details", None), dict):
            record.details = scrub(record.details)
        return True
