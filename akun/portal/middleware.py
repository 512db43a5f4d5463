"""The second factor and session limits for admin accounts, on every request.

An account with an admin role (school operator/head, dinas, national) holding a session that
has not passed TOTP is sent to the TOTP pages, whatever page it asks for. Admin sessions also
end after AKUN_PORTAL_IDLE_SECONDS without a request and AKUN_PORTAL_MAX_SECONDS after the
second factor, whichever comes first.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from akun.core import clock
from akun.portal.scope import is_admin

MFA = "akun_portal_mfa"
IDLE_SECONDS = settings.AKUN_PORTAL_IDLE_SECONDS
MAX_SECONDS = settings.AKUN_PORTAL_MAX_SECONDS
_TOUCH_EVERY = 60  # seconds: not a session write on every request


def mark_passed(request) -> None:
    now = clock.now().timestamp()
    request.session[MFA] = {"account": request.user.pk, "at": now, "last": now}


def passed(request) -> bool:
    data = request.session.get(MFA)
    return bool(data) and data.get("account") == request.user.pk


class SecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self._exempt = None

    def exempt_prefixes(self) -> tuple[str, ...]:
        if self._exempt is None:
            self._exempt = (
                reverse("portal:mfa"),
                reverse("identity:signout"),
                "/i18n/",
                "/static/",
                "/healthz",
            )
        return self._exempt

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and is_admin(user):
            response = self.check(request)
            if response is not None:
                return response
        return self.get_response(request)

    def check(self, request):
        data = request.session.get(MFA)
        if data and data.get("account") == request.user.pk:
            now = clock.now().timestamp()
            if now - data.get("last", 0) > IDLE_SECONDS or now - data.get("at", 0) > MAX_SECONDS:
                logout(request)
                messages.info(request, _("Your session has expired. Please sign in again."))
                return redirect(
                    reverse("identity:signin") + "?" + urlencode({"next": request.path})
                )
            if now - data.get("last", 0) > _TOUCH_EVERY:
                request.session[MFA] = {**data, "last": now}
            return None
        if request.path.startswith(self.exempt_prefixes()):
            return None
        next_url = request.get_full_path()
        if request.path == reverse("identity:akun_saya"):
            next_url = reverse("portal:home")  # an admin's landing page is the portal
        return redirect(reverse("portal:mfa") + "?" + urlencode({"next": next_url}))
