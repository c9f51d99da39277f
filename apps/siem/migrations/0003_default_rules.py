from pathlib import Path

from django.db import migrations

RULES_DIR = Path(__file__).resolve().parent.parent / "rules"

# name: (file, severity, playbook, options)
DEFAULT_RULES = {
    "brute-force-from-one-address": (
        "high",
        ["block_address", "alert_security_team", "force_password_reset"],
        {"block_minutes": 60},
    ),
    "api-flood-from-one-address": (
        "medium", ["rate_limit_address"], {"rate_limit_minutes": 15, "requests_per_minute": 60},
    ),
    "admin-login-from-new-country": ("high", ["require_second_factor", "alert_security_team"], {}),
    "mass-data-access-by-one-actor": ("medium", ["alert_security_team"], {}),
    "password-spraying-one-account": (
        "high", ["lock_account", "alert_security_team"], {"lock_minutes": 30},
    ),
}


def add_default_rules(apps, schema_editor):
    DetectionRule = apps.get_model("siem", "DetectionRule")
    for name, (severity, playbook, options) in DEFAULT_RULES.items():
        DetectionRule.objects.get_or_create(
            name=name,
            defaults={
                "sigma_yaml": (RULES_DIR / f"{name}.yml").read_text(encoding="utf-8"),
                "severity": severity,
                "playbook": playbook,
                "playbook_options": options,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("siem", "0002_accountlock_actorcountry_addressrestriction_and_more")]

    operations = [migrations.RunPython(add_default_rules, migrations.RunPython.noop)]
