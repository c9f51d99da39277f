# The card number column refuses anything not shaped like a Tink ciphertext; the database
# column itself is unchanged (bytea).

import apps.pci.models
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("pci", "0002_drop_django_reveal_permission"),
    ]

    operations = [
        migrations.AlterField(
            model_name="cardtoken",
            name="pan_ciphertext",
            field=apps.pci.models.CardCiphertextField(editable=False),
        ),
    ]
