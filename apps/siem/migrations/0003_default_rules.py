from django.db import migrations


def add_default_rules(apps, schema_editor):
    from apps.siem.default_rules import install_default_rules

    install_default_rules(apps.get_model("siem", "DetectionRule"))


class Migration(migrations.Migration):
    dependencies = [("siem", "0002_accountlock_actorcountry_addressrestriction_and_more")]

    operations = [migrations.RunPython(add_default_rules, migrations.RunPython.noop)]
