"""Signing keys in memory: the current RS256 key, the JWKS document, the SAML key files.

The SigningKey table is read again at most every RECHECK seconds (so a rotation done by
`akun sso rotate-key` in another process reaches every worker), and the parsed keys and the
serialised JWKS are rebuilt only when the set of published keys changed. django-oauth-toolkit
reads its key from OIDC_RSA_PRIVATE_KEY(_INACTIVE); we set those from the table, so its own
signing (Application.jwk_key, cached PEM parsing) stays in use.
"""

import datetime as dt
import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from jwcrypto import jwk
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.utils import jwk_from_pem

from akun.core import clock
from akun.sso.models import SigningKey

RECHECK = float(os.environ.get("AKUN_SSO_KEY_RECHECK_SECONDS", "30"))


@dataclass
class KeySet:
    signature: tuple = ()
    current: SigningKey | None = None
    published: list[SigningKey] = field(default_factory=list)
    jwks: bytes = b'{"keys": []}'
    by_kid: dict = field(default_factory=dict)  # kid -> jwcrypto JWK (private)


_lock = threading.Lock()
_state = {"checked": -1e9, "keys": KeySet()}


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
    return SigningKey(
        kid=jwk.JWK.from_pem(pem.encode()).thumbprint(),
        private_pem=pem,
        certificate_pem=cert.public_bytes(serialization.Encoding.PEM).decode(),
        created_at=now,
    )


def published_queryset(now=None):
    now = now or clock.now()
    return SigningKey.objects.filter(Q(retired_at__isnull=True) | Q(publish_until__gt=now))


def ensure_key() -> SigningKey:
    """The current signing key, made on first use."""
    key = SigningKey.objects.filter(retired_at__isnull=True).order_by("-created_at").first()
    if key is None:
        with transaction.atomic():
            key = generate_key()
            key.save()
    return key


def _load() -> KeySet:
    ensure_key()
    rows = list(published_queryset().order_by("-created_at"))
    current = next(k for k in rows if k.retired_at is None)
    keys = []
    by_kid = {}
    for k in rows:
        parsed = jwk_from_pem(k.private_pem)
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
    )


def _apply(ks: KeySet) -> None:
    oauth2_settings.OIDC_RSA_PRIVATE_KEY = ks.current.private_pem
    oauth2_settings.OIDC_RSA_PRIVATE_KEYS_INACTIVE = [
        k.private_pem for k in ks.published if k.kid != ks.current.kid
    ]


def keyset(force: bool = False) -> KeySet:
    """The published keys, from memory; the table is consulted every RECHECK seconds."""
    now = time.monotonic()
    ks = _state["keys"]
    fresh = now - _state["checked"] < RECHECK and ks.current is not None
    # oauth2_settings.reload() (a settings change in tests) drops what we set: set it again.
    if fresh and not force and oauth2_settings.OIDC_RSA_PRIVATE_KEY == ks.current.private_pem:
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


def saml_key_files(key: SigningKey) -> tuple[str, str]:
    """xmlsec1 (under pysaml2) reads keys from files: write them once, owner-only."""
    folder = Path(settings.VAR_DIR) / "sso"
    folder.mkdir(parents=True, exist_ok=True)
    key_path = folder / f"saml-{key.kid}.key"
    cert_path = folder / f"saml-{key.kid}.crt"
    if not key_path.exists():
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key.private_pem)
    if not cert_path.exists():
        cert_path.write_text(key.certificate_pem)
    return str(key_path), str(cert_path)
