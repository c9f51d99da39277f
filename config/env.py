"""Small, strict readers for settings that come from the environment.

Each reader raises ImproperlyConfigured on a value it cannot understand, so a typo in a
deployment fails at start-up instead of silently falling back to a default. Secrets can be
given directly (``NAME``) or as a path to a file holding them (``NAME_FILE``), which is how
container orchestrators usually hand them over.
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE_WORDS = {"1", "true", "yes", "on"}
_FALSE_WORDS = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default

    word = raw.strip().lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name} must be a yes/no value such as 1 or 0, got {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default

    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    return value


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_secret(name: str) -> str | None:
    """Read a secret from NAME, or from the file named by NAME_FILE."""
    direct = os.environ.get(name)
    path = os.environ.get(f"{name}_FILE")
    if direct and path:
        raise ImproperlyConfigured(f"Set either {name} or {name}_FILE, not both")
    if direct:
        return direct
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as error:
            # The path is configuration, not a secret: naming it helps the operator.
            message = f"{name}_FILE={path} cannot be read: {error.strerror}"
            raise ImproperlyConfigured(message) from None
    return None
