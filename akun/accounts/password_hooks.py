"""A password was just set: other apps hear of it with the raw password, inside the
transaction that sets it (provisioning's password-sync mode keeps a crypt hash for Google
until it is sent). accounts imports none of them: they register here from their
AppConfig.ready. The hooks see the password once; nothing here keeps it."""

from collections.abc import Callable

# fn(account_id, raw_password, reason): reason is "activate", "change", "reset" or "reissue".
PasswordHook = Callable[[int, str, str], None]
_HOOKS: list[PasswordHook] = []


def register_password_hook(fn: PasswordHook) -> None:
    if fn not in _HOOKS:
        _HOOKS.append(fn)


def unregister_password_hook(fn: PasswordHook) -> None:
    if fn in _HOOKS:
        _HOOKS.remove(fn)


def password_set(account_id: int, raw_password: str, *, reason: str) -> None:
    """Call every hook (in the caller's transaction: a hook that fails undoes the change)."""
    for fn in list(_HOOKS):
        fn(account_id, raw_password, reason)
