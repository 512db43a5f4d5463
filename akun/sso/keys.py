"""Signing keys in memory: the current RS256 key, the JWKS document, the SAML key files.

The SigningKey table is read again at most every RECHECK seconds (so a rotation done by
`akun sso rotate-key` in another process reaches every worker), and the parsed keys and the
serialised JWKS are rebuilt only when the set of published keys changed. django-oauth-toolkit
reads its key from OIDC_RSA_PRIVATE_KEY(_INACTIVE); we set those from the table, so its own
signing (Application.jwk_key, cached PEM parsing) stays in use.

Private keys are AES-GCM-encrypted in the table (akun.core.crypto, AKUN_ENCRYPTION_KEYS) and
decrypted only by private_pem(), when the keys are loaded into memory.
"""

import atexit
import datetime as dt
import json
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from jwcrypto import jwk
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.utils import jwk_from_pem

from akun.audit.api import Action, record
from akun.core import clock, crypto
from akun.sso.models import SigningKey

RECHECK = settings.AKUN_SSO_KEY_RECHECK_SECONDS
FIRST_KEY_LOCK = 0x5150  # pg_advisory_xact_lock: one node makes the first key


@dataclass
class KeySet:
    signature: tuple = ()
    current: SigningKey | None = None
    published: list[SigningKey] = field(default_factory=list)
    jwks: bytes = b'{"keys": []}'
    by_kid: dict = field(default_factory=dict)  # kid -> jwcrypto JWK (private)
    pems: dict = field(default_factory=dict)  # kid -> decrypted PEM, for django-oauth-toolkit


_lock = threading.Lock()
_state = {"checked": -1e9, "keys": KeySet()}


def _aad(kid: str) -> bytes:
    # Binds the ciphertext to its kid: a key copied into another row does not decrypt.
    return b"akun.sso.signing-key:" + kid.encode()


def encrypt_private_pem(pem: str, kid: str) -> bytes:
    return crypto.encrypt(pem.encode(), aad=_aad(kid))


def private_pem(key: SigningKey) -> str:
    """The key's PEM: the one place a stored private key is decrypted."""
    try:
        return crypto.decrypt(key.private_key_enc, aad=_aad(key.kid)).decode()
    except (ValueError, InvalidTag) as e:
        why = str(e) or "wrong key or altered ciphertext"
        raise ValueError(f"signing key {key.kid} does not decrypt: {why}") from e


def generate_key(now=None) -> SigningKey:
    """A new RSA-2048 key with a self-signed certificate (unsaved)."""
    now = now or clock.now()
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Akun {settings.AKUN_DOMAIN}")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .sign(private, hashes.SHA256())
    )
    kid = jwk.JWK.from_pem(pem.encode()).thumbprint()
    return SigningKey(
        kid=kid,
        private_key_enc=encrypt_private_pem(pem, kid),
        certificate_pem=cert.public_bytes(serialization.Encoding.PEM).decode(),
        created_at=now,
    )


def published_queryset(now=None):
    now = now or clock.now()
    return SigningKey.objects.filter(Q(retired_at__isnull=True) | Q(publish_until__gt=now))


def _current() -> SigningKey | None:
    return SigningKey.objects.filter(retired_at__isnull=True).order_by("-created_at").first()


def ensure_key() -> SigningKey:
    """The current signing key, made on first use: by one node only, when several meet the
    empty table at once (each would otherwise sign with a key of its own)."""
    key = _current()
    if key is None:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cur:
                    cur.execute("SELECT pg_advisory_xact_lock(%s)", [FIRST_KEY_LOCK])
            key = _current()  # made by another node while this one waited
            if key is None:
                key = generate_key()
                key.save()
    return key


def _load() -> KeySet:
    ensure_key()
    rows = list(published_queryset().order_by("-created_at"))
    current = next(k for k in rows if k.retired_at is None)
    keys = []
    by_kid = {}
    pems = {}
    for k in rows:
        pems[k.kid] = private_pem(k)
        parsed = jwk_from_pem(pems[k.kid])
        by_kid[k.kid] = parsed
        data = {"alg": "RS256", "use": "sig", "kid": parsed.thumbprint()}
        data.update(json.loads(parsed.export_public()))
        keys.append(data)
    return KeySet(
        signature=tuple(k.kid for k in rows),
        current=current,
        published=rows,
        jwks=json.dumps({"keys": keys}).encode(),
        by_kid=by_kid,
        pems=pems,
    )


def _apply(ks: KeySet) -> None:
    oauth2_settings.OIDC_RSA_PRIVATE_KEY = ks.pems[ks.current.kid]
    oauth2_settings.OIDC_RSA_PRIVATE_KEYS_INACTIVE = [
        ks.pems[k.kid] for k in ks.published if k.kid != ks.current.kid
    ]


def keyset(force: bool = False) -> KeySet:
    """The published keys, from memory; the table is consulted every RECHECK seconds."""
    now = time.monotonic()
    ks = _state["keys"]
    fresh = now - _state["checked"] < RECHECK and ks.current is not None
    # oauth2_settings.reload() (a settings change in tests) drops what we set: set it again.
    if fresh and not force and oauth2_settings.OIDC_RSA_PRIVATE_KEY == ks.pems[ks.current.kid]:
        return ks
    with _lock:
        signature = tuple(
            published_queryset().order_by("-created_at").values_list("kid", flat=True)
        )
        if force or signature != ks.signature or not signature:
            ks = _load()
            _state["keys"] = ks
        _apply(ks)
        _state["checked"] = now
    return ks


def reset() -> None:
    """Forget what is in memory (tests, after the table changed under us)."""
    with _lock:
        _state["checked"] = -1e9
        _state["keys"] = KeySet()


def key_for_kid(kid: str):
    ks = keyset()
    if kid not in ks.by_kid:
        ks = keyset(force=True)
    return ks.by_kid.get(kid)


_saml = {"pid": None, "dir": None}


def _saml_dir() -> Path:
    """This process's private directory for the SAML key file (0700; in memory when
    /dev/shm exists), removed at exit. Per process: a forked worker makes its own."""
    if _saml["pid"] != os.getpid():
        shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
        _saml["dir"] = Path(tempfile.mkdtemp(prefix="akun-saml-", dir=shm))
        _saml["pid"] = os.getpid()
        atexit.register(remove_saml_key_files, os.getpid())
        # Earlier versions kept plain copies of the keys under VAR_DIR.
        for pattern in ("saml-*.key", "saml-*.crt"):
            for old in (Path(settings.VAR_DIR) / "sso").glob(pattern):
                old.unlink(missing_ok=True)
    return _saml["dir"]


def remove_saml_key_files(pid: int | None = None) -> None:
    """Remove this process's key file directory (at exit, or in tests)."""
    if pid not in (None, os.getpid()) or _saml["pid"] != os.getpid():
        return  # a parent's directory is the parent's to remove
    shutil.rmtree(_saml["dir"], ignore_errors=True)
    _saml["pid"] = _saml["dir"] = None


def saml_key_files(key: SigningKey) -> tuple[str, str]:
    """xmlsec1 (under pysaml2) reads keys from files: the key decrypted into an owner-only
    file in a private temporary directory, (re)written when missing; files of keys no longer
    published are removed (a retired key's stay while a request may still be signing)."""
    folder = _saml_dir()
    key_path = folder / f"saml-{key.kid}.key"
    cert_path = folder / f"saml-{key.kid}.crt"
    try:
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # written before (or by another thread just now)
        fd = None
    if fd is not None:
        with os.fdopen(fd, "w") as f:
            f.write(private_pem(key))
        keep = {key.kid} | {k.kid for k in _state["keys"].published}
        for path in folder.glob("saml-*.key"):
            if path.stem.removeprefix("saml-") not in keep:
                path.unlink(missing_ok=True)
                path.with_suffix(".crt").unlink(missing_ok=True)
    if not cert_path.exists():
        cert_path.write_text(key.certificate_pem)
    return str(key_path), str(cert_path)


@transaction.atomic
def do_reencrypt_signing_keys(*, actor: str) -> list[str]:
    """Encrypt every stored private key under the first of AKUN_ENCRYPTION_KEYS (after a new
    key was put first), so that older keys can be removed. Returns the kids re-encrypted."""
    done = []
    for k in SigningKey.objects.select_for_update().order_by("created_at"):
        if crypto.needs_reencryption(k.private_key_enc):
            k.private_key_enc = encrypt_private_pem(private_pem(k), k.kid)
            k.save(update_fields=["private_key_enc"])
            done.append(k.kid)
    record(
        Action.SSO_REENCRYPT_KEYS,
        actor=actor,
        object_type="sso_key",
        after={"kids": done},
    )
    return done
