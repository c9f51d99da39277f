# Customer name and email become encrypted columns with a blind index on email. Written by
# hand from makemigrations' output: every row first gets its own row nonce (a callable default
# would give all existing rows the same one), and the personal columns are replaced rather than
# altered, because plaintext cannot be cast to ciphertext in SQL. No installation had customers
# when this was written; one that has must re-import their names and emails.

import uuid

from django.db import migrations, models

import apps.core.crypto.fields


def give_each_row_a_nonce(apps, schema_editor):
    Customer = apps.get_model("partners", "Customer")
    for customer in Customer.objects.filter(row_nonce__isnull=True).only("pk").iterator():
        Customer.objects.filter(pk=customer.pk).update(row_nonce=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0002_alter_customer_display_name_partnerapplication"),
    ]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="row_nonce",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(give_each_row_a_nonce, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="customer",
            name="row_nonce",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
        migrations.RemoveField(model_name="customer", name="display_name"),
        migrations.RemoveField(model_name="customer", name="email"),
        migrations.AddField(
            model_name="customer",
            name="display_name",
            field=apps.core.crypto.fields.EncryptedTextField(blank=True, max_length=200, null=True),
        ),
        migrations.AddField(
            model_name="customer",
            name="email",
            field=apps.core.crypto.fields.EncryptedEmailField(blank=True, max_length=254, null=True),
        ),
        migrations.AddField(
            model_name="customer",
            name="email_index",
            field=apps.core.crypto.fields.BlindIndexField(
                db_index=True, editable=False, null=True, source="email"
            ),
        ),
    ]
