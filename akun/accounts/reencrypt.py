"""Initial passwords moved under the newest of AKUN_ENCRYPTION_KEYS, after a key rotation.

Set-based per batch of account ids: the batch's tokens under an older key are read in one
statement, re-encrypted in Python (AES-GCM is microseconds), and written back in one UPDATE
that also checks the old token, so a password activated or re-issued meanwhile is left as
it now is. Only `initial_password_enc` changes (no index names it: HOT updates).
"""

from django.db import connection, transaction

from akun.accounts import crypto
from akun.audit import api as audit
from akun.audit.api import Action
from akun.core import crypto as core_crypto

BATCH_ROWS = 20_000


def do_reencrypt_initial_passwords(*, actor: str, batch_rows: int = BATCH_ROWS) -> int:
    """Re-encrypt every stored initial password that is not under the first key; returns
    how many. Idempotent: a second run finds none."""
    current = core_crypto.keys()[0][0]
    done, last = 0, 0
    pg = connection.vendor == "postgresql"
    while True:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                "SELECT id, initial_password_enc FROM accounts_account WHERE id > %s "
                "AND initial_password_enc IS NOT NULL ORDER BY id LIMIT %s",
                [last, batch_rows],
            )
            rows = cur.fetchall()
            if not rows:
                break
            last = rows[-1][0]
            old = [(pk, bytes(token)) for pk, token in rows if bytes(token)[1:5] != current]
            if not old:
                continue
            new = crypto.encrypt_many([crypto.decrypt(token) for _, token in old])
            if pg:
                cur.execute(
                    "UPDATE accounts_account a SET initial_password_enc = v.new FROM "
                    "unnest(%s::bigint[], %s::bytea[], %s::bytea[]) AS v(id, old, new) "
                    "WHERE a.id = v.id AND a.initial_password_enc = v.old",
                    [[pk for pk, _ in old], [t for _, t in old], new],
                )
                done += cur.rowcount
            else:
                cur.executemany(
                    "UPDATE accounts_account SET initial_password_enc = %s "
                    "WHERE id = %s AND initial_password_enc = %s",
                    [(n, pk, t) for (pk, t), n in zip(old, new, strict=True)],
                )
                done += cur.rowcount
    audit.record(
        Action.ACCOUNTS_REENCRYPT_INITIAL_PASSWORDS,
        actor=actor,
        object_type="encryption_key",
        object_id=current.hex(),
        after={"reencrypted": done},
    )
    return done
