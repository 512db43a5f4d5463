"""OpenID Connect endpoints (django-oauth-toolkit's views, extended), the consent screen,
the person's own list of services, and the national admins' service pages."""

import json
from urllib.parse import urlencode

from django.apps import apps
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from oauth2_provider import views as dot
from oauth2_provider.exceptions import InvalidOIDCClientError, OAuthToolkitError
from oauth2_provider.models import get_application_model
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.signals import app_authorized
from oauth2_provider.views import mixins as dot_mixins
from oauthlib.common import Request as OauthlibRequest

from akun.accounts.api import Account
from akun.core import clock
from akun.identity import api as identity_api
from akun.sso import actions, keys, server
from akun.sso.models import PERSONAL_CLAIMS, Consent, Service
from akun.sso.validator import account_usable, service_of

SCOPE_TEXT = {
    "openid": gettext_lazy("Know that you signed in with your learning account"),
    "profile": gettext_lazy("Your name and user ID"),
    "email": gettext_lazy("Your learning account e-mail address"),
    "akun": gettext_lazy(
        "Your role, level, school (NPSN and name), region, and for students grade and class"
    ),
    "introspection": gettext_lazy("Check access tokens"),
}
PERSONAL_TEXT = {
    "nisn": gettext_lazy("Your NISN (national student number)"),
    "nuptk": gettext_lazy("Your NUPTK (teacher number)"),
    "birthdate": gettext_lazy("Your date of birth"),
}


def _prompt(request) -> set[str]:
    return set(request.GET.get("prompt", "").split())


class AuthorizeView(dot.AuthorizationView):
    """The authorization endpoint: only active accounts; a consent screen for third-party
    services, remembered (sso.Consent) and revocable from Akun Saya.

    prompt=none never shows a page: a code, or login_required / consent_required back to
    the client. prompt=login, and a max_age older than this session's sign-in, ask for the
    password again. prompt=consent shows a third-party service's consent screen although
    remembered."""

    template_name = "sso/consent.html"

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if user.is_authenticated and not account_usable(user):
            logout(request)
        elif user.is_authenticated:  # for the code's auth_time (validator)
            user.akun_authenticated_at = identity_api.authenticated_at(request)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        prompt = _prompt(request)
        if "none" in prompt and len(prompt) > 1:  # oauthlib checks it for openid only
            return self._error_to_client("invalid_request", "prompt=none with other values")
        max_age = request.GET.get("max_age")
        if max_age is not None and "login" not in prompt:
            try:
                max_age = int(max_age)
            except ValueError:
                return self._error_to_client("invalid_request", "max_age is not a number")
            signed_in = identity_api.authenticated_at(request)
            if signed_in is None or clock.now().timestamp() - signed_in > max_age:
                if "none" in prompt:
                    return self._error_to_client("login_required")
                return self.handle_prompt_login()
        return super().get(request, *args, **kwargs)

    def handle_no_permission(self):
        # Not signed in, with max_age: the sign-in about to happen satisfies it (as for
        # prompt=login), so it is not checked again on the way back.
        if "none" not in _prompt(self.request) and "max_age" in self.request.GET:
            return self.handle_prompt_login()
        return super().handle_no_permission()

    def handle_prompt_login(self):
        """To the sign-in page, which asks for the password although signed in; back here
        without prompt=login and max_age (satisfied by then), any other prompt kept."""
        if self.request.user.is_authenticated:  # no session is made for a visitor
            identity_api.ask_password_again(self.request)
        params = self.request.GET.copy()
        rest = [p for p in params.get("prompt", "").split() if p != "login"]
        params.pop("prompt", None)
        params.pop("max_age", None)
        if rest:
            params["prompt"] = " ".join(rest)
        return redirect_to_login(
            f"{self.request.path}?{params.urlencode()}",
            resolve_url(self.get_login_url()),
            self.get_redirect_field_name(),
        )

    def _error_to_client(self, error: str, description: str = ""):
        """An OpenID Connect error to the client's redirect URI, once the request is known to
        come from that client (never to an unregistered URI: then an error page)."""
        try:
            _scopes, credentials = self.validate_authorization_request(self.request)
        except OAuthToolkitError as e:
            return self.error_response(e, application=None)
        params = {"error": error}
        if description:
            params["error_description"] = description
        if credentials.get("state"):
            params["state"] = credentials["state"]
        uri = credentials["redirect_uri"]
        application = get_application_model().objects.get(client_id=credentials["client_id"])
        return self.redirect(uri + ("&" if "?" in uri else "?") + urlencode(params), application)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        app = ctx.get("application")
        svc = service_of(app) if app else None
        if svc is not None:
            scopes = ctx.get("scopes") or []
            ctx["service"] = svc
            ctx["scope_texts"] = [SCOPE_TEXT.get(s, s) for s in scopes]
            if "akun" in scopes:
                ctx["scope_texts"] += [PERSONAL_TEXT[c] for c in svc.personal_claims]
        return ctx

    def render_to_response(self, context, **kwargs):
        # A consent remembered for these scopes: no screen, straight on (as if allowed).
        app = context.get("application")
        form = context.get("form")
        svc = service_of(app) if app else None
        prompt = _prompt(self.request) if self.request.method == "GET" else set()
        if svc is not None and form is not None and not context.get("error"):
            consent = Consent.objects.filter(account=self.request.user, service=svc).first()
            remembered = consent is not None and consent.covers(context.get("scopes") or [])
            if remembered and "consent" not in prompt:
                data = {k: v for k, v in form.initial.items() if v is not None}
                data["allow"] = "1"
                bound = self.get_form_class()(data=data)
                if bound.is_valid():
                    return super().form_valid(bound)
            if "none" in prompt:  # the consent screen would show: not with prompt=none
                return self._error_to_client("consent_required")
        return super().render_to_response(context, **kwargs)

    def form_valid(self, form):
        response = super().form_valid(form)
        if response.status_code in (301, 302):
            svc = Service.objects.filter(
                application__client_id=form.cleaned_data.get("client_id")
            ).first()
            if svc is not None and not svc.first_party:
                scopes = (form.cleaned_data.get("scope") or "").split()
                user = self.request.user
                if form.cleaned_data.get("allow"):
                    actions.do_grant_consent(user, svc, scopes, actor=user.user_id)
                else:
                    actions.do_deny_consent(user, svc, scopes, actor=user.user_id)
        return response


def _as_oauth_error(response):
    """An error from oauthlib as RFC 6749 5.2 has it: a JSON body (oauthlib leaves errors
    raised before a grant's handler without a content type), and a 401 from client
    authentication naming the scheme clients authenticate with (oauthlib writes Bearer)."""
    if response.status_code >= 400:
        response["Content-Type"] = "application/json"
        response["Cache-Control"] = "no-store"
    if response.status_code == 401:
        response["WWW-Authenticate"] = 'Basic realm="Akun", error="invalid_client"'
    return response


def _oauth_error(status: int, error: str, description: str = "", challenge: str = ""):
    body = {"error": error}
    if description:
        body["error_description"] = description
    response = JsonResponse(body, status=status)
    response["Cache-Control"] = "no-store"
    if challenge:
        response["WWW-Authenticate"] = challenge
    return response


class TokenView(dot.TokenView):
    """The library's token endpoint. After a grant it reads the new access token back only to
    send `app_authorized`; with nobody listening that is a wasted statement per grant.

    Every grant goes to oauthlib (akun.sso.server.AkunServer), which refuses the ones Akun
    does not offer: the library's own device-code branch (a 500 without `device_code`) is
    not taken."""

    def post(self, request, *args, **kwargs):
        return _as_oauth_error(self.authorization_flow_token_response(request))

    def http_method_not_allowed(self, request, *args, **kwargs):
        response = _oauth_error(405, "invalid_request", "The token endpoint takes POST.")
        response["Allow"] = "POST"
        return response

    @method_decorator(sensitive_post_parameters("password", "client_secret"))
    def authorization_flow_token_response(self, request, *args, **kwargs):
        if app_authorized.has_listeners(sender=self):
            return super().authorization_flow_token_response(request, *args, **kwargs)
        url, headers, body, status = self.create_token_response(request)
        response = HttpResponse(content=body, status=status)
        for k, v in headers.items():
            response[k] = v
        return response


class UserInfoView(dot.UserInfoView):
    def _create_userinfo_response(self, request):
        response = super()._create_userinfo_response(request)
        if response.status_code >= 400:  # oauthlib's JSON error, without its content type
            response["Content-Type"] = "application/json"
        return response


class RevokeTokenView(dot.RevokeTokenView):
    def post(self, request, *args, **kwargs):
        return _as_oauth_error(super().post(request, *args, **kwargs))


@method_decorator(csrf_exempt, name="dispatch")
class IntrospectView(dot.IntrospectTokenView):
    """RFC 7662, for services registered with may_introspect only (`akun services add
    --introspect`): by their client credentials, or by their token with the introspection
    scope. Errors are OAuth errors in JSON: 401 invalid_client / invalid_token, 403
    unauthorized_client."""

    def dispatch(self, request, *args, **kwargs):
        if request.method.upper() == "OPTIONS":
            return super().dispatch(request, *args, **kwargs)
        client = self._authenticated_client(request)
        if client is None:
            bearer = request.META.get("HTTP_AUTHORIZATION", "").startswith("Bearer ")
            if not bearer or request.POST.get("client_id"):
                return _as_oauth_error(
                    _oauth_error(401, "invalid_client", "Client authentication failed.")
                )
            valid, r = self.verify_request(request)
            if not valid:
                error = (getattr(r, "oauth2_error", None) or {}).get("error", "invalid_token")
                return _oauth_error(401, error, challenge=f'Bearer error="{error}"')
            client = r.client
        svc = service_of(client)
        if svc is None or not svc.may_introspect:
            return _oauth_error(
                403, "unauthorized_client", "This service may not introspect tokens."
            )
        # Authenticated and allowed: the library's view without its own client check.
        return super(dot_mixins.ClientProtectedResourceMixin, self).dispatch(
            request, *args, **kwargs
        )

    def _authenticated_client(self, request):
        core = self.get_oauthlib_core()
        oauth_request = OauthlibRequest(
            request.get_full_path(),
            request.method,
            urlencode(core.extract_body(request)),
            core.extract_headers(request),
        )
        if core.server.request_validator.authenticate_client(oauth_request):
            return oauth_request.client
        return None


class DiscoveryView(dot.ConnectDiscoveryInfoView):
    def get(self, request, *args, **kwargs):
        keys.keyset()
        response = super().get(request, *args, **kwargs)
        data = json.loads(response.content)
        data["revocation_endpoint"] = request.build_absolute_uri(
            reverse("oauth2_provider:revoke-token")
        )
        data["introspection_endpoint"] = request.build_absolute_uri(
            reverse("oauth2_provider:introspect")
        )
        # What akun.sso.server.AkunServer and AuthorizeView do (tests/test_sso_strict.py
        # holds every item to it).
        data["grant_types_supported"] = list(server.GRANT_TYPES)
        data["response_types_supported"] = list(server.RESPONSE_TYPES)
        data["response_modes_supported"] = list(server.RESPONSE_MODES)
        data["code_challenge_methods_supported"] = list(server.CODE_CHALLENGE_METHODS)
        data["prompt_values_supported"] = ["none", "login", "consent"]
        data["request_parameter_supported"] = False
        data["request_uri_parameter_supported"] = False
        data["claims_parameter_supported"] = False
        data["id_token_signing_alg_values_supported"] = ["RS256"]
        data["introspection_endpoint_auth_methods_supported"] = [
            "client_secret_basic",
            "client_secret_post",
        ]
        data["revocation_endpoint_auth_methods_supported"] = data[
            "token_endpoint_auth_methods_supported"
        ]
        out = JsonResponse(data)
        out["Access-Control-Allow-Origin"] = "*"
        return out


def jwks_view(request):
    """The published keys, serialised once per key change (akun.sso.keys)."""
    body = keys.keyset().jwks
    response = HttpResponse(body, content_type="application/json")
    age = oauth2_settings.OIDC_JWKS_MAX_AGE_SECONDS
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = f"public, max-age={age}"
    return response


class LogoutView(dot.RPInitiatedLogoutView):
    template_name = "sso/logout_confirm.html"

    def get_request_application(self, id_token, client_id):
        # The toolkit lets an unknown client_id escape as a 500.
        try:
            return super().get_request_application(id_token, client_id)
        except get_application_model().DoesNotExist as e:
            raise InvalidOIDCClientError() from e


# --- Akun Saya: my services ------------------------------------------------------------------


@login_required
@never_cache
def my_services_view(request):
    account = request.user
    sign_ins = identity_api.ServiceSignIn.objects.filter(account=account)
    signed_in = {s.service_id: s for s in sign_ins}
    rows = []
    for svc in Service.objects.select_related("application").order_by("name"):
        sign_in = signed_in.get(svc.service_id)
        consent = Consent.objects.filter(account=account, service=svc, revoked_at=None).first()
        if sign_in or consent:
            rows.append({"service": svc, "sign_in": sign_in, "consent": consent})
    return render(request, "sso/my_services.html", {"rows": rows})


@login_required
@require_POST
def revoke_view(request, slug):
    svc = get_object_or_404(Service, slug=slug)
    actions.do_revoke_service_access(request.user, svc, actor=request.user.user_id)
    messages.success(
        request, _("%(name)s no longer has access to your account.") % {"name": svc.name}
    )
    return redirect("sso:my_services")


# --- national admins: services ---------------------------------------------------------------


def is_national_admin(account) -> bool:
    """A dinas account with a national scope (akun.portal's AdminScope)."""
    if not (account.is_authenticated and account_usable(account)):
        return False
    if account.role != Account.Role.DINAS:
        return False
    scope = apps.get_model("portal", "AdminScope")
    return scope.objects.filter(account=account, level="national").exists()


def national_admin_required(view):
    @login_required
    def wrapped(request, *args, **kwargs):
        if not is_national_admin(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


@national_admin_required
@never_cache
def admin_list_view(request):
    services = Service.objects.select_related("application").order_by("name")
    return render(request, "sso/admin_list.html", {"services": services})


@national_admin_required
@never_cache
def admin_add_view(request):
    error = ""
    secret = ""
    svc = None
    form = request.POST
    if request.method == "POST":
        try:
            if form.get("protocol") == "saml":
                svc = actions.do_add_saml_service(
                    form.get("name", "").strip(),
                    metadata_xml=form.get("saml_metadata", ""),
                    first_party=bool(form.get("first_party")),
                    personal_claims=form.getlist("personal_claims"),
                    actor=request.user.user_id,
                )
            else:
                svc, secret = actions.do_add_oidc_service(
                    form.get("name", "").strip(),
                    kind=form.get("kind", "web"),
                    redirect_uris=form.get("redirect_uris", "").split(),
                    post_logout_redirect_uris=form.get("post_logout_redirect_uris", "").split(),
                    scopes=" ".join(form.getlist("scopes")) or "openid",
                    first_party=bool(form.get("first_party")),
                    personal_claims=form.getlist("personal_claims"),
                    require_pkce=bool(form.get("require_pkce")),
                    actor=request.user.user_id,
                )
        except (actions.ServiceError, ValueError) as e:
            error = str(e)
    return render(
        request,
        "sso/admin_add.html",
        {
            "error": error,
            "service": svc,
            "secret": secret,
            "form": form,
            "scopes": list(SCOPE_TEXT),
            "personal": PERSONAL_CLAIMS,
        },
    )


@national_admin_required
@require_POST
def admin_toggle_view(request, slug):
    svc = get_object_or_404(Service, slug=slug)
    actions.do_update_service(svc, active=not svc.active, actor=request.user.user_id)
    return redirect("sso:admin_list")
