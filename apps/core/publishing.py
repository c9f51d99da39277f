"""Sending a task for work that is already committed, when the broker may not answer.

A request that has saved its change and then cannot reach the broker must not answer 500: the
change is made, and a periodic sweep finds the work the message would have started (the outbox
sweep for mail, the release of scheduled privacy requests, the scheduled sealing for detection,
the playbook sweep). Each caller records the work as waiting in its own rows first, then calls
``publish`` after commit and says in its log line which sweep will pick it up.
"""

from kombu.exceptions import OperationalError


def publish(task, *args) -> bool:
    """Send ``task`` with ``args``; False, instead of an error, when the broker does not answer."""
    try:
        task.delay(*args)
    except (OperationalError, OSError):
        return False
    return True
