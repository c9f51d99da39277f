"""The README's table of seed roles says what apps/rbac/seed.py creates, no more, no less."""

import re
from pathlib import Path

from apps.rbac.seed import SEED_ROLES

README = Path(__file__).resolve().parents[2] / "README.md"
ROW = re.compile(r"^\| `(?P<role>[a-z-]+)` \| (?P<mfa>yes|no) \| (?P<permissions>.+?) \| .+ \|$")


def _expanded(written: str) -> set[str]:
    """`a:{b,c}:d` is `a:b:d` and `a:c:d`."""
    found = set()
    for text in re.findall(r"`([^`]+)`", written):
        braces = re.search(r"\{([^}]+)\}", text)
        if braces is None:
            found.add(text)
            continue
        for choice in braces.group(1).split(","):
            found.add(text[: braces.start()] + choice + text[braces.end() :])
    return found


def _readme_rows() -> dict[str, tuple[bool, set[str]]]:
    rows = {}
    for line in README.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            rows[match["role"]] = (match["mfa"] == "yes", _expanded(match["permissions"]))
    return rows


def test_the_readme_tables_every_seed_role_as_seeded():
    rows = _readme_rows()

    assert set(rows) == set(SEED_ROLES)
    for name, seeded in SEED_ROLES.items():
        requires_mfa, permissions = rows[name]
        assert requires_mfa == seeded["requires_mfa"], name
        assert permissions == set(seeded["permissions"]), name


def test_the_expansion_reads_one_permission_per_action():
    assert _expanded("`a:{read,write}:all`, `b:x:own`") == {"a:read:all", "a:write:all", "b:x:own"}
