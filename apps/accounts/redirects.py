"""Which redirect targets a sign-in flow may send a browser to: paths on this site only."""

from urllib.parse import unquote, urlsplit


def is_local_path(url: str | None) -> bool:
    """True only for a plain path on this site such as ``/account/?tab=security``.

    Browsers read ``//host``, ``/\\host`` and ``\\\\host`` as other sites, and tolerate tabs and
    newlines inside a URL, so any of those, a scheme, a host, or an encoded form of them is
    refused rather than cleaned up.
    """
    if not url or not url.startswith("/"):
        return False
    decoded = unquote(url)
    if any(char in decoded for char in "\\\t\r\n") or any(ord(char) < 32 for char in decoded):
        return False
    if decoded.startswith("//"):
        return False

    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc
