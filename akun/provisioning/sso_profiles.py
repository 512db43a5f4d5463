"""Single sign-on profiles of the targets: what an admin enters at the target so that it
signs people in with Akun (Google's third-party SSO profile). The sso app knows how, and
registers itself here from its AppConfig.ready; provisioning does not import sso (sso sits
above identity, which reads provisioning's status)."""

from collections.abc import Callable

# kind -> fn(base_url, domain, *, domain_specific, actor, google) -> (values dict, text)
_PROFILES: dict[str, Callable] = {}


def register_sso_profile(kind: str, fn: Callable) -> None:
    _PROFILES[kind] = fn


def sso_profile(kind: str) -> Callable | None:
    return _PROFILES.get(kind)
