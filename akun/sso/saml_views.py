"""SAML endpoints: metadata, SP-initiated single sign-on (HTTP-Redirect and HTTP-POST
bindings in, HTTP-POST out), IdP-initiated sign-on from Akun."""

from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.settings import oauth2_settings
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT

from akun.sso import actions, saml
from akun.sso.models import Service
from akun.sso.validator import account_usable

PENDING = "akun_saml_request"


def _base(request) -> str:
    return oauth2_settings.oidc_issuer(request)


def metadata_view(request):
    return HttpResponse(
        saml.metadata_xml(_base(request)), content_type="application/samlmetadata+xml"
    )


def _refuse(request, message: str, status=400):
    return render(request, "sso/error.html", {"message": message}, status=status)


@csrf_exempt  # the SP's browser posts here from another site; the message carries no session
@never_cache
def sso_view(request):
    """Receive an AuthnRequest; answer at once if signed in, else after the sign-in page."""
    if request.method == "POST":
        data, binding = request.POST, BINDING_HTTP_POST
    else:
        data, binding = request.GET, BINDING_HTTP_REDIRECT
    message = data.get("SAMLRequest")
    if not message:
        return HttpResponseBadRequest("SAMLRequest missing")
    request.session[PENDING] = {
        "message": message,
        "binding": binding,
        "relay_state": data.get("RelayState", ""),
    }
    return continue_view(request)


@never_cache
def continue_view(request):
    pending = request.session.get(PENDING)
    if not pending:
        return _refuse(request, _("There is no sign-in request to continue."))
    if request.user.is_authenticated and not account_usable(request.user):
        logout(request)
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("sso:saml_continue"))
    idp = saml.server(_base(request))
    try:
        req = idp.parse_authn_request(pending["message"], pending["binding"])
    except Exception:  # pysaml2 raises many kinds for a bad message
        request.session.pop(PENDING, None)
        return _refuse(request, _("The service sent a sign-in request Akun cannot read."))
    authn = req.message
    entity_id = authn.issuer.text if authn.issuer is not None else ""
    svc = saml.service_for(entity_id)
    if svc is None:
        request.session.pop(PENDING, None)
        return _refuse(request, _("This service is not registered with Akun."), status=403)
    try:
        args = idp.response_args(authn, [BINDING_HTTP_POST])
    except Exception:
        request.session.pop(PENDING, None)
        return _refuse(
            request, _("The service asked for an answer at an address it did not register.")
        )
    policy = authn.name_id_policy
    body = saml.signed_response(
        idp,
        request.user,
        svc,
        destination=args["destination"],
        in_response_to=args["in_response_to"],
        nameid_format=policy.format if policy is not None else None,
    )
    request.session.pop(PENDING, None)
    actions.note_sign_in(request.user, svc)
    return _post_form(request, args["destination"], body, pending.get("relay_state", ""))


@login_required
@never_cache
def idp_initiated_view(request, slug):
    """Sign in to a SAML service from Akun (an unsolicited response)."""
    if not account_usable(request.user):
        logout(request)
        return redirect_to_login(request.get_full_path())
    svc = get_object_or_404(Service, slug=slug, protocol=Service.Protocol.SAML, active=True)
    idp = saml.server(_base(request))
    destination = saml.acs_url(idp, svc.saml_entity_id)
    body = saml.signed_response(idp, request.user, svc, destination=destination)
    actions.note_sign_in(request.user, svc)
    return _post_form(request, destination, body, request.GET.get("RelayState", ""))


def _post_form(request, destination, saml_response, relay_state):
    return render(
        request,
        "sso/saml_post.html",
        {"destination": destination, "saml_response": saml_response, "relay_state": relay_state},
    )
