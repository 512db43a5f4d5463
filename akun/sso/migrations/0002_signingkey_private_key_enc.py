"""The signing keys' private PEM moves from a plain column to an AES-GCM-encrypted one
(akun.core.crypto under AKUN_ENCRYPTION_KEYS, bound to the kid as akun.sso.keys does), so a
database dump reveals no signing key. Rows keep their kid: tokens already issued still verify.
Reversible: going back decrypts into the plain column again."""

from django.db import migrations, models

from akun.core import crypto


def _aad(kid: str) -> bytes:
    # As akun.sso.keys._aad at the time of this migration.
    return b"akun.sso.signing-key:" + kid.encode()


def encrypt_keys(apps, schema_editor):
    SigningKey = apps.get_model("sso", "SigningKey")
    for k in SigningKey.objects.using(schema_editor.connection.alias).all():
        k.private_key_enc = crypto.encrypt(k.private_pem.encode(), aad=_aad(k.kid))
        k.save(update_fields=["private_key_enc"])


def decrypt_keys(apps, schema_editor):
    SigningKey = apps.get_model("sso", "SigningKey")
    for k in SigningKey.objects.using(schema_editor.connection.alias).all():
        k.private_pem = crypto.decrypt(k.private_key_enc, aad=_aad(k.kid)).decode()
        k.save(update_fields=["private_pem"])


class Migration(migrations.Migration):
    dependencies = [
        ("sso", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="signingkey",
            name="private_key_enc",
            field=models.BinaryField(null=True),
        ),
        # Nullable before it goes, so that the way back can add it again to existing rows.
        migrations.AlterField(
            model_name="signingkey",
            name="private_pem",
            field=models.TextField(null=True),
        ),
        migrations.RunPython(encrypt_keys, decrypt_keys),
        migrations.RemoveField(
            model_name="signingkey",
            name="private_pem",
        ),
        migrations.AlterField(
            model_name="signingkey",
            name="private_key_enc",
            field=models.BinaryField(),
        ),
    ]
