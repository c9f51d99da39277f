from django.db import migrations


def seed(apps, schema_editor):
    from apps.rbac.seed import install

    install(apps.get_model("rbac", "Role"), apps.get_model("rbac", "Permission"))


class Migration(migrations.Migration):
    dependencies = [("rbac", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
