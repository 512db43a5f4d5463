"""The SSO signing keys at rest: encrypted in the table (no PEM, no key bytes, not in a
pg_dump), decrypted only into memory and a private SAML key file, carried over by the
migration with their kids, and re-encrypted when the encryption keys rotate."""

import base64
import json
import os
import stat

import pytest
from cryptography.hazmat.primitives import serialization
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from jwcrypto import jwk, jwt

from akun.audit.models import AuditEvent
from akun.core import crypto
from akun.sso import actions, keys
from akun.sso.models import SigningKey
from tests.test_accounts_support import all_cells, pg_dump_data

NEW_KEY = base64.urlsafe_b64encode(b"n" * 32).decode()


def _secrets_of(key: SigningKey) -> tuple[str, str, bytes]:
    """What must not be stored: the PEM, a line of its body, the private exponent's bytes."""
    pem = keys.private_pem(key)
    body_line = pem.splitlines()[5]
    d = serialization.load_pem_private_key(pem.encode(), None).private_numbers().d
    return pem, body_line, d.to_bytes(256, "big")[64:96]


def _key_id(token) -> bytes:
    return bytes(token)[1:5]


def _id_of(text_key: str) -> bytes:
    return crypto._key_id(base64.urlsafe_b64decode(text_key))


# Committed rows (transaction=True), so that pg_dump, another connection, sees them.
@pytest.mark.django_db(transaction=True)
def test_no_private_key_anywhere_in_the_database():
    keys.keyset()
    actions.do_rotate_key(actor="t")  # two keys: one signing, one retired and published
    rows = list(SigningKey.objects.all())
    assert len(rows) == 2
    secrets = [_secrets_of(k) for k in rows]
    for pem, body_line, _ in secrets:
        assert "PRIVATE KEY" in pem and len(body_line) == 64
    cells = 0
    for table, column, value in all_cells():
        cells += 1
        raw = bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode()
        assert b"PRIVATE KEY" not in raw, (table, column)
        for _, body_line, d in secrets:
            assert body_line.encode() not in raw and d not in raw, (table, column)
    assert cells > 10
    if connection.vendor == "postgresql":  # and in what the database itself would dump
        dump = pg_dump_data()
        assert all(k.kid in dump for k in rows)  # the rows are in the dump
        assert "PRIVATE KEY" not in dump
        for _, body_line, d in secrets:
            assert body_line not in dump and d.hex() not in dump  # bytea is dumped as hex


@pytest.mark.django_db
def test_decrypted_keys_sign_what_the_jwks_verifies():
    ks = keys.keyset()
    row = SigningKey.objects.get()
    assert jwk.JWK.from_pem(keys.private_pem(row).encode()).thumbprint() == row.kid
    token = jwt.JWT(header={"alg": "RS256", "kid": row.kid}, claims={"sub": "x@sd.belajar.test"})
    token.make_signed_token(ks.by_kid[row.kid])
    published = jwk.JWKSet.from_json(ks.jwks)
    checked = jwt.JWT(jwt=token.serialize(), key=published.get_key(row.kid))
    assert json.loads(checked.claims)["sub"] == "x@sd.belajar.test"


@pytest.mark.django_db
def test_a_ciphertext_moved_to_another_row_does_not_decrypt():
    a, b = keys.generate_key(), keys.generate_key()
    a.save()
    b.save()
    SigningKey.objects.filter(pk=b.pk).update(private_key_enc=a.private_key_enc)
    with pytest.raises(ValueError, match=b.kid):
        keys.private_pem(SigningKey.objects.get(pk=b.pk))
    assert keys.private_pem(SigningKey.objects.get(pk=a.pk)).startswith("-----BEGIN")


@pytest.mark.django_db
def test_saml_key_file_is_private_temporary_and_rewritten(settings, tmp_path):
    from akun.sso import saml

    settings.VAR_DIR = tmp_path
    legacy = tmp_path / "sso" / "saml-old.key"  # where earlier versions kept a plain copy
    legacy.parent.mkdir()
    legacy.write_text("-----BEGIN PRIVATE KEY-----")
    keys.remove_saml_key_files()
    saml.server("http://testserver")
    ks = keys.keyset()
    key_path, cert_path = keys.saml_key_files(ks.current)
    folder = os.path.dirname(key_path)
    assert not legacy.exists()
    assert not key_path.startswith(str(tmp_path))
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600
    with open(key_path) as f:
        assert f.read() == keys.private_pem(ks.current)
    idp = saml.server("http://testserver")
    assert idp.config.key_file == key_path
    os.unlink(key_path)  # e.g. a temp cleaner: the cached IdP still needs it to sign
    assert saml.server("http://testserver") is idp
    assert os.path.exists(key_path) and stat.S_IMODE(os.stat(key_path).st_mode) == 0o600
    keys.remove_saml_key_files()
    assert not os.path.exists(folder) and not os.path.exists(cert_path)
    # A new directory means a new IdP pointing into it.
    assert os.path.exists(saml.server("http://testserver").config.key_file)


@pytest.mark.django_db(transaction=True)
def test_migration_encrypts_plain_keys_and_keeps_their_kids():
    made = keys.generate_key()
    pem = keys.private_pem(made)
    executor = MigrationExecutor(connection)
    try:
        executor.migrate([("sso", "0001_initial")])
        old = executor.loader.project_state([("sso", "0001_initial")]).apps
        OldKey = old.get_model("sso", "SigningKey")
        OldKey.objects.create(
            kid=made.kid,
            private_pem=pem,
            certificate_pem=made.certificate_pem,
            created_at=made.created_at,
        )
        executor = MigrationExecutor(connection)
        executor.migrate([("sso", "0002_signingkey_private_key_enc")])
        row = SigningKey.objects.get()
        assert row.kid == made.kid
        assert b"PRIVATE KEY" not in bytes(row.private_key_enc)
        assert keys.private_pem(row) == pem
        assert [k["kid"] for k in json.loads(keys.keyset().jwks)["keys"]] == [made.kid]
        # And back: the plain column again, the same key.
        executor = MigrationExecutor(connection)
        executor.migrate([("sso", "0001_initial")])
        with connection.cursor() as cur:
            cur.execute("SELECT kid, private_pem FROM sso_signingkey")
            assert cur.fetchall() == [(made.kid, pem)]
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db
def test_rotated_encryption_key_decrypts_old_rows_and_reencrypt_moves_them(settings):
    old_key = settings.AKUN_ENCRYPTION_KEYS[0]
    keys.keyset()
    first = SigningKey.objects.get()
    first_pem = keys.private_pem(first)
    assert _key_id(first.private_key_enc) == _id_of(old_key)

    settings.AKUN_ENCRYPTION_KEYS = [NEW_KEY, old_key]  # the new key first: it encrypts
    keys.reset()
    jwks = keys.keyset().jwks  # old rows still decrypt
    new, _ = actions.do_rotate_key(actor="t")
    assert _key_id(new.private_key_enc) == _id_of(NEW_KEY)
    assert keys.do_reencrypt_signing_keys(actor="ops") == [first.kid]
    assert keys.do_reencrypt_signing_keys(actor="ops") == []
    for row in SigningKey.objects.all():
        assert _key_id(row.private_key_enc) == _id_of(NEW_KEY)
    event = AuditEvent.objects.filter(action="sso.reencrypt_keys").order_by("id").first()
    assert event.actor == "ops" and event.after == {"kids": [first.kid]}

    settings.AKUN_ENCRYPTION_KEYS = [NEW_KEY]  # the old key removed: everything still loads
    keys.reset()
    assert json.loads(jwks)["keys"][0] in json.loads(keys.keyset().jwks)["keys"]
    assert keys.private_pem(SigningKey.objects.get(pk=first.pk)) == first_pem

    settings.AKUN_ENCRYPTION_KEYS = [old_key]  # without the key that encrypts them: refused
    with pytest.raises(ValueError, match=first.kid):
        keys.private_pem(SigningKey.objects.get(pk=first.pk))


@pytest.mark.django_db(transaction=True)
def test_cli_reencrypts_signing_keys(run_akun, settings):
    old_key = settings.AKUN_ENCRYPTION_KEYS[0]
    key = keys.ensure_key()
    r = run_akun(
        "sso", "keys", "reencrypt", "--actor", "ops",
        env={"AKUN_ENCRYPTION_KEYS": f"{NEW_KEY},{old_key}"},
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "1 signing keys re-encrypted" in r.stdout and key.kid in r.stdout
    row = SigningKey.objects.get()
    assert _key_id(row.private_key_enc) == _id_of(NEW_KEY)
    r = run_akun("sso", "keys", env={"AKUN_ENCRYPTION_KEYS": NEW_KEY})
    assert r.returncode == 0, r.stderr
    assert key.kid in r.stdout and "signing" in r.stdout


@pytest.mark.django_db(transaction=True)
def test_nodes_that_meet_an_empty_key_table_at_once_make_one_key():
    """Two nodes' first requests at the same moment: one signing key, not one each (each
    node would sign with its own, and the other's tokens would not verify until a reload)."""
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers: two first keys cannot be made at once")
    SigningKey.objects.all().delete()
    start, kids = threading.Barrier(4), []

    def node():
        start.wait()
        try:
            kids.append(keys.ensure_key().kid)
        finally:
            connection.close()

    threads = [threading.Thread(target=node) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert SigningKey.objects.filter(retired_at__isnull=True).count() == 1
    assert len(kids) == 4 and len(set(kids)) == 1
