"""Password-sync mode (a target with config {"password_sync": true}): when a person sets a
password, its crypt SHA-512 hash waits here, encrypted, until the engine sends it; then it
is forgotten. Akun never keeps a sent hash. docs/provisioning.md, "Password sync".

accounts calls on_password_set (registered in ProvisioningConfig.ready) with the raw
password inside the transaction that sets it, so the hash commits with the password or not
at all. The engine: take() what to send with a batch, forget() what was accepted."""

from django.db import connection, transaction

from akun.core import clock, crypto
from akun.provisioning.models import PendingPassword, Target
from akun.provisioning.sha512_crypt import ROUNDS_MIN, sha512_crypt


def _aad(target_name: str, account_id: int) -> bytes:
    # A token moved to another account's row or another target does not decrypt.
    return f"provisioning.password:{target_name}:{account_id}".encode()


# Google's Directory API: "If rounds are specified as part of the prefix, they must be
# 10,000 or fewer" (hashFunction "crypt").
MAX_ROUNDS = 10_000


def rounds_for(target: Target) -> int | None:
    """The target's `password_rounds` (none: crypt's default 5,000, not written), within
    what Google accepts."""
    rounds = (target.config or {}).get("password_rounds")
    if rounds is None:
        return None
    return max(ROUNDS_MIN, min(int(rounds), MAX_ROUNDS))


def sync_targets() -> list[Target]:
    return [t for t in Target.objects.filter(enabled=True) if (t.config or {}).get("password_sync")]


def on_password_set(account_id: int, raw_password: str, reason: str) -> None:
    """accounts' password hook: keep the hash for every target in password-sync mode."""
    targets = sync_targets()
    if not targets:
        return
    now = clock.now()
    with transaction.atomic():
        for t in targets:
            hashed = sha512_crypt(raw_password, rounds=rounds_for(t))
            token = crypto.encrypt(hashed.encode(), aad=_aad(t.name, account_id))
            PendingPassword.objects.update_or_create(
                target=t, account_id=account_id, defaults={"hash_enc": token, "set_at": now}
            )


def take(target_name: str, account_ids) -> dict[int, str]:
    """The unsent hashes of these accounts for this target ({account id: "$6$..."}); they
    stay stored until forget()."""
    rows = PendingPassword.objects.filter(
        target_id=target_name, account_id__in=list(account_ids)
    ).values_list("account_id", "hash_enc")
    return {
        account_id: crypto.decrypt(bytes(token), aad=_aad(target_name, account_id)).decode()
        for account_id, token in rows
    }


def forget(target_name: str, account_ids, *, before=None) -> int:
    """Delete the hashes the target has accepted. `before`: only those set before this
    time (take()'s time), so a password set while the batch was out is still sent."""
    qs = PendingPassword.objects.filter(target_id=target_name, account_id__in=list(account_ids))
    if before is not None:
        qs = qs.filter(set_at__lte=before)
    return qs.delete()[0]


def forget_accounts(account_ids) -> int:
    """Every target: for accounts that left (deleted), whose hash must not go out."""
    return PendingPassword.objects.filter(account_id__in=list(account_ids)).delete()[0]


def do_reencrypt_pending_passwords(*, actor: str) -> int:
    """`akun secrets reencrypt`: move unsent hashes under the newest key."""
    n = 0
    with transaction.atomic():
        for row in PendingPassword.objects.select_for_update().order_by("pk"):
            token = bytes(row.hash_enc)
            if not crypto.needs_reencryption(token):
                continue
            aad = _aad(row.target_id, row.account_id)
            row.hash_enc = crypto.encrypt(crypto.decrypt(token, aad=aad), aad=aad)
            row.save(update_fields=["hash_enc"])
            n += 1
    return n


def forget_on_delete(change) -> None:
    """Subscriber (accounts.api.subscribe, DELETED): a deleted account's unsent hash goes."""
    table = PendingPassword._meta.db_table
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {table} WHERE account_id IN ({change.ids_sql})", change.params)
