"""Password-sync mode: a password set at Akun (activation, change, reset by code, operator
reset) waits for the target as a crypt SHA-512 hash, encrypted, until it is sent; never
after. The hash is the published algorithm's (checked against the specification's vectors)."""

import warnings

import pytest
from django.contrib.auth.password_validation import ValidationError
from django.db import connection, transaction

from akun.accounts import api as accounts_api
from akun.core import crypto
from akun.identity import actions as identity
from akun.identity import terms
from akun.provisioning import passwords
from akun.provisioning.models import PendingPassword
from akun.provisioning.sha512_crypt import sha512_crypt
from tests import builders
from tests.provisioning_support import target

# Ulrich Drepper, "Unix crypt using SHA-256 and SHA-512", the SHA-512 test vectors.
VECTORS = [
    ("$6$saltstring", "Hello world!",
     "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"),
    ("$6$rounds=10000$saltstringsaltstring", "Hello world!",
     "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v."),
    ("$6$rounds=5000$toolongsaltstring", "This is just a test",
     "$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0"),
    ("$6$rounds=1400$anotherlongsaltstring",
     "a very much longer text to encrypt.  This one even stretches over morethan one line.",
     "$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1"),
    ("$6$rounds=77777$short", "we have a short salt string but not a short password",
     "$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0"),
    ("$6$rounds=123456$asaltof16chars..", "a short string",
     "$6$rounds=123456$asaltof16chars..$BtCwjqMJGx5hrJhZywWvt0RLE8uZ4oPwcelCjmw2kSYu.Ec6ycULevoBK25fs2xXgMNrCzIMVcgEJAstJeonj1"),
    ("$6$rounds=10$roundstoolow", "the minimum number is still observed",
     "$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX."),
]  # fmt: skip


def _parse(setting):
    parts = setting.split("$")
    if parts[2].startswith("rounds="):
        return parts[3], int(parts[2][7:])
    return parts[2], None


@pytest.mark.parametrize("setting,password,expected", VECTORS)
def test_sha512_crypt_matches_the_specifications_vectors(setting, password, expected):
    salt, rounds = _parse(setting)
    assert sha512_crypt(password, salt, rounds) == expected


def test_sha512_crypt_agrees_with_the_systems_crypt_on_lengths_around_the_block():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        crypt = pytest.importorskip("crypt")  # gone in Python 3.13; the vectors above stay
    for n in (0, 1, 8, 63, 64, 65, 127, 128, 129, 300):
        pw = ("kopi pagi ☕ " * 40)[:n]
        h = sha512_crypt(pw)
        assert h.startswith("$6$") and len(h.split("$")[2]) == 16
        assert crypt.crypt(pw, h) == h


def test_random_salts_differ_and_bad_salts_are_refused():
    assert sha512_crypt("x") != sha512_crypt("x")
    for bad in ("a$b", "a\nb", "a:b"):
        with pytest.raises(ValueError):
            sha512_crypt("x", bad)


pytestmark = pytest.mark.django_db


def _verify(hashed: str, password: str) -> bool:
    salt, rounds = _parse(hashed)
    return sha512_crypt(password, salt, rounds) == hashed


def _raw_rows():
    with connection.cursor() as cur:
        cur.execute(f"SELECT hash_enc FROM {PendingPassword._meta.db_table}")
        return [bytes(r[0]) for r in cur.fetchall()]


def _activate(account, password):
    identity.do_accept_terms(account, terms.current().version, actor="self")
    identity.do_activate_account(account, password, actor="self")


def test_no_target_in_password_sync_mode_keeps_nothing():
    target("google", password_sync=False)
    s = builders.student(builders.school())
    _activate(s, "kopi pagi di teras")
    assert PendingPassword.objects.count() == 0


def test_activation_keeps_an_encrypted_hash_until_forgotten():
    t = target("google", password_sync=True)
    s = builders.student(builders.school())
    _activate(s, "kopi pagi di teras")
    (raw,) = _raw_rows()
    assert b"kopi" not in raw and b"$6$" not in raw  # encrypted at rest
    got = passwords.take("google", [s.pk])
    assert set(got) == {s.pk} and _verify(got[s.pk], "kopi pagi di teras")
    assert not _verify(got[s.pk], "kopi pagi di teras!")
    assert passwords.take("google", [s.pk]) == got  # take does not delete: the engine forgets
    assert passwords.forget(t.name, [s.pk]) == 1
    assert passwords.take("google", [s.pk]) == {} and PendingPassword.objects.count() == 0


def test_a_newer_password_replaces_an_unsent_one_and_forget_spares_it():
    target("google", password_sync=True, password_rounds=6000)
    s = builders.student(builders.school())
    _activate(s, "kopi pagi di teras")
    first = passwords.take("google", [s.pk])[s.pk]
    assert first.startswith("$6$rounds=6000$")
    taken_at = PendingPassword.objects.get().set_at
    s.refresh_from_db()
    identity.do_change_password(s, "teh manis di sore", actor="self", reason="Akun Saya")
    second = passwords.take("google", [s.pk])[s.pk]
    assert _verify(second, "teh manis di sore") and PendingPassword.objects.count() == 1
    # The batch that carried the first hash comes back: the newer one must still go out.
    assert passwords.forget("google", [s.pk], before=taken_at) == 0
    assert passwords.take("google", [s.pk])[s.pk] == second


def test_reset_by_code_and_operator_reset_are_kept_too():
    target("google", password_sync=True)
    target("cadangan", password_sync=True)
    target("tanpa", password_sync=False)
    school = builders.school()
    s = builders.student(school, state="active")
    identity.do_change_password(s, "sandi baru dari kode", actor="self", reason="reset by code")
    for name in ("google", "cadangan"):
        assert _verify(passwords.take(name, [s.pk])[s.pk], "sandi baru dari kode")
    assert passwords.take("tanpa", [s.pk]) == {}
    initial = accounts_api.do_reissue_account(s, actor="operator", reason="lost slip")
    assert _verify(passwords.take("google", [s.pk])[s.pk], initial)


def test_a_refused_password_leaves_no_hash():
    target("google", password_sync=True)
    s = builders.student(builders.school(), state="active")
    with pytest.raises(ValidationError):
        identity.do_change_password(s, "pendek", actor="self")
    assert PendingPassword.objects.count() == 0


def test_the_hash_commits_with_the_password_or_not_at_all():
    target("google", password_sync=True)
    s = builders.student(builders.school(), state="active")
    with pytest.raises(RuntimeError), transaction.atomic():
        identity.do_change_password(s, "teh manis di sore", actor="self")
        assert PendingPassword.objects.count() == 1
        raise RuntimeError
    assert PendingPassword.objects.count() == 0


def test_a_token_moved_to_another_account_does_not_decrypt():
    target("google", password_sync=True)
    school = builders.school()
    a = builders.student(school, state="active")
    b = builders.student(school, nama="Budi Santoso", local_part="budi1", state="active")
    identity.do_change_password(a, "teh manis di sore", actor="self")
    PendingPassword.objects.filter(account_id=a.pk).update(account_id=b.pk)
    with pytest.raises(Exception):  # noqa: B017 - AES-GCM's InvalidTag
        passwords.take("google", [b.pk])


def test_a_deleted_account_forgets_its_unsent_hash():
    target("google", password_sync=True)
    s = builders.student(builders.school(), state="active")
    identity.do_change_password(s, "teh manis di sore", actor="self")
    accounts_api.do_delete_account(s, actor="lifecycle", reason="grace period over")
    assert PendingPassword.objects.count() == 0


def test_reencrypt_moves_unsent_hashes_under_the_new_key(settings):
    import base64

    target("google", password_sync=True)
    s = builders.student(builders.school(), state="active")
    identity.do_change_password(s, "teh manis di sore", actor="self")
    new = base64.urlsafe_b64encode(b"n" * 32).decode()
    settings.AKUN_ENCRYPTION_KEYS = [new, *settings.AKUN_ENCRYPTION_KEYS]
    crypto.reset_key_cache()
    try:
        assert passwords.do_reencrypt_pending_passwords(actor="test") == 1
        assert not crypto.needs_reencryption(_raw_rows()[0])
        settings.AKUN_ENCRYPTION_KEYS = [new]
        crypto.reset_key_cache()
        assert _verify(passwords.take("google", [s.pk])[s.pk], "teh manis di sore")
    finally:
        crypto.reset_key_cache()


# --- end to end: h3's engine sends the hash, "Google" (the stand-in) signs in with it --------


def _sync(target):
    from akun.accounts.api import run_consumers
    from akun.provisioning.engine import Engine

    run_consumers()
    return Engine(target).run(once=True)


def test_google_signs_in_with_the_password_set_at_akun_and_the_hash_is_forgotten(
    google_standin, tmp_path
):
    from tests.provisioning_support import add_target, school_with_accounts

    _sd, accs = school_with_accounts(("Ani Lestari",), teacher="")
    t = add_target(google_standin, tmp_path, password_sync=True)
    _sync(t)
    (ani,) = accs
    assert google_standin.signin(ani.user_id, "kopi pagi di teras")["ok"] is False
    _activate(ani, "kopi pagi di teras")
    assert PendingPassword.objects.count() == 1
    _sync(t)
    assert google_standin.signin(ani.user_id, "kopi pagi di teras")["ok"] is True
    assert google_standin.signin(ani.user_id, "kopi pagi di teras!")["ok"] is False
    stored = google_standin.stored_user(ani.user_id)
    assert stored["hashFunction"] == "crypt" and stored["password"].startswith("$6$")
    assert PendingPassword.objects.count() == 0  # sent: never kept after
    ani.refresh_from_db()
    identity.do_change_password(ani, "es teh di warung", actor="self", reason="Akun Saya")
    _sync(t)
    assert google_standin.signin(ani.user_id, "es teh di warung")["ok"] is True
    assert google_standin.signin(ani.user_id, "kopi pagi di teras")["ok"] is False
    assert PendingPassword.objects.count() == 0


def test_rounds_stay_within_what_google_accepts():
    t = target("google", password_sync=True, password_rounds=50_000)
    assert passwords.rounds_for(t) == 10_000
    t.config["password_rounds"] = 10
    assert passwords.rounds_for(t) == 1000
    t.config.pop("password_rounds")
    assert passwords.rounds_for(t) is None
