"""SAML endpoints: metadata, SP-initiated single sign-on (HTTP-Redirect and HTTP-POST
bindings in, HTTP-POST out), IdP-initiated sign-on from Akun. A third-party service gets the
consent screen first, as in OpenID Connect, remembered in sso.Consent.

An AuthnRequest is checked when it arrives (size, signature, service, address); until the
person has signed in, what the answer needs waits in a signed, short-lived cookie, never in a
session: anonymous requests store nothing."""

import secrets

from django import forms
from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from oauth2_provider.settings import oauth2_settings
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT

from akun.core import clock
from akun.sso import actions, saml
from akun.sso.models import Consent, Service
from akun.sso.validator import account_usable
from akun.sso.views import PERSONAL_TEXT, SCOPE_TEXT

PENDING = "akun_saml_request"  # in the session, once signed in (the consent screen)
COOKIE = "akun_saml_request"  # before sign-in
COOKIE_SALT = "akun.sso.saml.pending-request"
COOKIE_SECONDS = 15 * 60
COOKIE_MAX = 3800  # browsers keep 4 KB a cookie
IDP_PENDING = "akun_saml_idp_consent"
STALE_ANSWER = gettext_lazy(
    "This answer does not belong to the sign-in in progress. Start again from the service."
)

# What the consent screen says a SAML service will receive, per claim its attributes carry.
_USER_ID = gettext_lazy("Your user ID")
CLAIM_TEXT = {
    "sub": _USER_ID,
    "preferred_username": _USER_ID,
    "name": gettext_lazy("Your name"),
    "email": SCOPE_TEXT["email"],
    "email_verified": SCOPE_TEXT["email"],
    "locale": gettext_lazy("Your language setting"),
    "role": gettext_lazy("Your role (student, teacher, school staff or education office)"),
    "jenjang": gettext_lazy("Your school level"),
    "school_npsn": gettext_lazy("Your school's NPSN"),
    "school_name": gettext_lazy("Your school's name"),
    "province_code": gettext_lazy("Your school's province"),
    "regency_code": gettext_lazy("Your school's regency or city"),
    "grade": gettext_lazy("Your grade"),
    "class": gettext_lazy("Your class"),
    **PERSONAL_TEXT,
}


def _base(request) -> str:
    return oauth2_settings.oidc_issuer(request)


def metadata_view(request):
    return HttpResponse(
        saml.metadata_xml(_base(request)), content_type="application/samlmetadata+xml"
    )


def _refuse(request, message: str, status=400):
    return render(request, "sso/error.html", {"message": message}, status=status)


REFUSAL_TEXT = {
    "size": gettext_lazy("This sign-in request is too large."),
    "signature": gettext_lazy(
        "The signature of this sign-in request is not valid. Start again from the service."
    ),
    "sha1": gettext_lazy(
        "This service signs its sign-in requests with SHA-1, which Akun no longer accepts. "
        "Its operator must switch to RSA-SHA256."
    ),
    "unsigned": gettext_lazy(
        "This service must sign its sign-in requests, and this request is not signed."
    ),
    "unknown": gettext_lazy("This service is not registered with Akun."),
    "acs": gettext_lazy("The service asked for an answer at an address it did not register."),
    "unreadable": gettext_lazy("The service sent a sign-in request Akun cannot read."),
}
EXPIRED_TEXT = gettext_lazy(
    "The sign-in settings (SAML metadata) Akun holds for %(name)s have expired, so Akun cannot "
    "sign you in to it. Nothing was sent to it. Tell the service; its operator must give Akun "
    "new metadata."
)


def _refusal(request, refusal: saml.Refusal):
    if isinstance(refusal, saml.ExpiredMetadata):
        return _expired(request, refusal.service)
    return _refuse(request, REFUSAL_TEXT[refusal.kind], status=refusal.status)


def _expired(request, svc: Service):
    actions.note_expired_metadata(svc)
    return _refuse(request, EXPIRED_TEXT % {"name": svc.name}, status=403)


@csrf_exempt  # the SP's browser posts here from another site; the message carries no session
@never_cache
def sso_view(request):
    """Receive an AuthnRequest, check it, and answer at once if signed in, else after the
    sign-in page."""
    if request.method == "POST":
        # Refused before Django reads the body.
        length = request.META.get("CONTENT_LENGTH") or "0"
        if not length.isdigit() or int(length) > saml.MAX_BODY:
            return _refusal(request, saml.Refusal("too large", status=413, kind="size"))
        data, binding, query = request.POST, BINDING_HTTP_POST, ""
    else:
        data, binding = request.GET, BINDING_HTTP_REDIRECT
        query = request.META.get("QUERY_STRING", "")
        if len(query) > saml.MAX_BODY:
            return _refusal(request, saml.Refusal("too large", status=413, kind="size"))
    try:
        pending = saml.read_authn_request(_base(request), binding, data, query)
    except saml.Refusal as refusal:
        return _refusal(request, refusal)
    return _answer(request, pending, None)


@csrf_protect  # the consent screen posts here
@never_cache
def continue_view(request):
    """After the sign-in page (GET: the request from the cookie), or the person's answer on
    the consent screen (POST: the request from the session)."""
    if request.method == "POST":
        state = request.session.get(PENDING) or {}
        pending = state.get("request")
        answer = request.POST
    else:
        try:
            pending = signing.loads(
                request.COOKIES.get(COOKIE, ""), salt=COOKIE_SALT, max_age=COOKIE_SECONDS
            )
        except (signing.BadSignature, ValueError):
            pending = None
        answer = None
    if not pending:
        return _refuse(request, _("There is no sign-in request to continue."))
    return _answer(request, saml.PendingRequest.from_dict(pending), answer)


def _to_sign_in(pending: saml.PendingRequest):
    response = redirect_to_login(reverse("sso:saml_continue"))
    value = signing.dumps(pending.as_dict(), salt=COOKIE_SALT, compress=True)
    if len(value) > COOKIE_MAX:
        raise saml.Refusal("too large for the cookie", status=413, kind="size")
    response.set_cookie(
        COOKIE,
        value,
        max_age=COOKIE_SECONDS,
        path=reverse("sso:saml_sso"),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


def _done(response):
    response.delete_cookie(COOKIE, path=reverse("sso:saml_sso"), samesite="Lax")
    return response


def _answer(request, pending: saml.PendingRequest, consent_answer):
    if request.user.is_authenticated and not account_usable(request.user):
        logout(request)
    if not request.user.is_authenticated:
        try:
            return _to_sign_in(pending)
        except saml.Refusal as refusal:
            return _refusal(request, refusal)
    # Checked again: the service may have been disabled, or its metadata expired, meanwhile.
    svc = Service.objects.filter(
        pk=pending.service, protocol=Service.Protocol.SAML, active=True
    ).first()
    if svc is None:
        request.session.pop(PENDING, None)
        return _done(_refuse(request, REFUSAL_TEXT["unknown"], status=403))
    if svc.saml_metadata_expired(clock.now()):
        request.session.pop(PENDING, None)
        return _done(_expired(request, svc))
    idp = saml.server(_base(request))
    relay_state = pending.relay_state
    if consent_answer is not None:
        if not _answer_is_for(request.session.get(PENDING), consent_answer, request.user, svc):
            return _refuse(request, STALE_ANSWER)
        request.session.pop(PENDING, None)
        if not consent_answer.get("allow"):
            _note_denied(request.user, svc)
            # The service hears "denied" (signed, no assertion), so it need not wait.
            body = saml.refusal_response(
                idp, destination=pending.acs, in_response_to=pending.request_id
            )
            return _post_form(request, pending.acs, body, relay_state)
        _remember_consent(request.user, svc)
    elif _needs_consent(request.user, svc):
        state = {"request": pending.as_dict()}
        return _done(_ask(request, svc, PENDING, state, reverse("sso:saml_continue")))
    body = saml.signed_response(
        idp,
        request.user,
        svc,
        destination=pending.acs,
        in_response_to=pending.request_id,
        nameid_format=pending.name_id_format,
    )
    request.session.pop(PENDING, None)
    actions.note_sign_in(request.user, svc)
    return _done(_post_form(request, pending.acs, body, relay_state))


@login_required
@csrf_protect  # the consent screen posts here
@never_cache
def idp_initiated_view(request, slug):
    """Sign in to a SAML service from Akun (an unsolicited response)."""
    if not account_usable(request.user):
        logout(request)
        return redirect_to_login(request.get_full_path())
    svc = get_object_or_404(Service, slug=slug, protocol=Service.Protocol.SAML, active=True)
    if svc.saml_metadata_expired(clock.now()):
        return _expired(request, svc)
    relay_state = request.GET.get("RelayState", "")
    if request.method == "POST":
        state = request.session.get(IDP_PENDING)
        if not _answer_is_for(state, request.POST, request.user, svc):
            return _refuse(request, STALE_ANSWER)
        request.session.pop(IDP_PENDING, None)
        if not request.POST.get("allow"):
            _note_denied(request.user, svc)
            message = _("You did not allow %(name)s to use your account. Nothing was sent to it.")
            return _refuse(request, message % {"name": svc.name}, status=403)
        relay_state = state.get("relay_state", "")
        _remember_consent(request.user, svc)
    elif _needs_consent(request.user, svc):
        return _ask(request, svc, IDP_PENDING, {"relay_state": relay_state}, request.path)
    idp = saml.server(_base(request))
    destination = saml.acs_url(idp, svc.saml_entity_id)
    body = saml.signed_response(idp, request.user, svc, destination=destination)
    actions.note_sign_in(request.user, svc)
    return _post_form(request, destination, body, relay_state)


# --- the consent screen -----------------------------------------------------------------------


class ConsentForm(forms.Form):
    # One-time value naming the sign-in in progress (kept in the session beside it).
    consent = forms.CharField(widget=forms.HiddenInput)


def _needs_consent(account, svc: Service) -> bool:
    if svc.first_party:
        return False
    consent = Consent.objects.filter(account=account, service=svc).first()
    return consent is None or not consent.covers(saml.released_claims(svc))


def _note_denied(account, svc: Service) -> None:
    actions.do_deny_consent(account, svc, saml.released_claims(svc), actor=account.user_id)


def _remember_consent(account, svc: Service) -> None:
    if not svc.first_party:
        actions.do_grant_consent(account, svc, saml.released_claims(svc), actor=account.user_id)


def _ask(request, svc: Service, key: str, state: dict, action: str):
    """The consent screen; the answer is valid only for this sign-in, person and service."""
    nonce = secrets.token_urlsafe(24)
    request.session[key] = {
        **state,
        "consent": {"nonce": nonce, "account": request.user.pk, "service": svc.slug},
    }
    texts = []
    for claim in saml.released_claims(svc):
        text = CLAIM_TEXT.get(claim, claim)
        if text not in texts:
            texts.append(text)
    context = {
        "application": svc,  # the template names the service as application.name (OIDC)
        "service": svc,
        "action": action,
        "form": ConsentForm(initial={"consent": nonce}),
        "scope_texts": texts,
    }
    return render(request, "sso/consent.html", context)


def _answer_is_for(state, answer, account, svc: Service) -> bool:
    """The posted answer belongs to the sign-in in this session, to this person and this
    service: a consent page left open cannot answer a later request."""
    asked = (state or {}).get("consent") or {}
    return (
        bool(asked.get("nonce"))
        and asked.get("account") == account.pk
        and asked.get("service") == svc.slug
        and constant_time_compare(asked.get("nonce", ""), answer.get("consent", ""))
    )


def _post_form(request, destination, saml_response, relay_state):
    return render(
        request,
        "sso/saml_post.html",
        {"destination": destination, "saml_response": saml_response, "relay_state": relay_state},
    )


@never_cache
def google_signed_out_view(request):
    """Google's "sign-out page URL": Google sends the browser here (a GET) after its own
    sign-out. A GET never signs out of Akun (a link on any site could); the page offers it."""
    return render(request, "sso/google_signed_out.html", {})
