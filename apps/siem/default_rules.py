"""The rules the portal ships with: Sigma YAML in apps/siem/rules/, playbooks here."""

from pathlib import Path

RULES_DIR = Path(__file__).resolve().parent / "rules"

# name (and YAML file name): severity, playbook, playbook options
DEFAULT_RULES = {
    "brute-force-from-one-address": (
        "high",
        ["block_address", "alert_security_team", "force_password_reset"],
        {"block_minutes": 60},
    ),
    "api-flood-from-one-address": (
        "medium",
        ["rate_limit_address"],
        {"rate_limit_minutes": 15, "requests_per_minute": 60},
    ),
    "admin-login-from-new-country": ("high", ["require_second_factor", "alert_security_team"], {}),
    "mass-data-access-by-one-actor": ("medium", ["alert_security_team"], {}),
    "password-spraying-one-account": (
        "high",
        ["lock_account", "alert_security_team"],
        {"lock_minutes": 30},
    ),
}


def install_default_rules(rule_model) -> int:
    """Create the shipped rules that are missing; edited ones are left as staff left them."""
    created = 0
    for name, (severity, playbook, options) in DEFAULT_RULES.items():
        _, new = rule_model.objects.get_or_create(
            name=name,
            defaults={
                "sigma_yaml": (RULES_DIR / f"{name}.yml").read_text(encoding="utf-8"),
                "severity": severity,
                "playbook": playbook,
                "playbook_options": options,
            },
        )
        created += new
    return created
