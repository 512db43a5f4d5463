from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest
from django.utils import translation
from django.utils.translation import gettext_lazy as _

# No inline scripts or styles; no framing. form-action is left out on purpose: the SSO flows
# redirect to relying parties after a form post, which form-action 'self' would block.
DEFAULT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


class ContentSecurityPolicyMiddleware:
    """Sets Content-Security-Policy (AKUN_CSP overrides) unless a view set its own."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = getattr(settings, "AKUN_CSP", DEFAULT_CSP)

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.policy
        return response


# Parameters whose values are legitimately long: SAML messages, SP metadata pasted by an
# admin, redirect URI lists, JWTs. Every other value is refused beyond MAX_PARAMETER_CHARS.
LONG_PARAMETERS = frozenset(
    {
        "SAMLRequest",
        "SAMLResponse",
        "saml_metadata",
        "redirect_uris",
        "post_logout_redirect_uris",
        "id_token_hint",
        "request",
        "client_assertion",
    }
)
MAX_PARAMETER_CHARS = 4096
_FORM = "application/x-www-form-urlencoded"


class ParameterCheckMiddleware:
    """Answers 400, naming the parameter, to a query or form parameter that holds a NUL
    (PostgreSQL refuses it in text: a 500 deep in a view), is not UTF-8 (Django would quietly
    turn it into U+FFFD) or is over-long. Runs before any view, so views need not care."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Read before the body is: Django would raise on a Content-Length that is not a number.
        length = request.META.get("CONTENT_LENGTH") or "0"
        if not length.isdigit():
            return HttpResponseBadRequest(
                "Content-Length is not a number.", content_type="text/plain; charset=utf-8"
            )
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit and int(length) > limit and request.content_type != "multipart/form-data":
            return HttpResponse(
                "Request body too large.", status=413, content_type="text/plain; charset=utf-8"
            )
        problem = self.problem(request)
        if problem:
            with translation.override(translation.get_language_from_request(request)):
                return HttpResponseBadRequest(problem(), content_type="text/plain; charset=utf-8")
        return self.get_response(request)

    def problem(self, request):
        raw_query = request.META.get("QUERY_STRING", "")
        try:
            raw_query = raw_query.encode("iso-8859-1")  # WSGI's str of the raw bytes
        except UnicodeEncodeError:
            raw_query = raw_query.encode("utf-8")
        problem = _urlencoded_problem(raw_query)
        if problem or request.method != "POST":
            return problem
        if request.content_type == _FORM:
            return _urlencoded_problem(request.body)
        if request.content_type == "multipart/form-data":
            # Django has decoded these already (undecodable bytes as U+FFFD).
            for name, values in request.POST.lists():
                for value in values:
                    if problem := _value_problem(name, value):
                        return problem
        return None


def _urlencoded_problem(raw: bytes):
    for part in raw.split(b"&"):
        if not part:
            continue
        raw_name, _eq, raw_value = part.partition(b"=")
        name = unquote_to_bytes(raw_name.replace(b"+", b" ")).decode("utf-8", "replace")
        for text in (raw_name, raw_value):
            try:
                unquote_to_bytes(text.replace(b"+", b" ")).decode("utf-8")
            except UnicodeDecodeError:
                return _message(_("The parameter “%(name)s” is not valid UTF-8."), name)
        value = unquote_to_bytes(raw_value.replace(b"+", b" ")).decode("utf-8")
        if problem := _value_problem(name, value):
            return problem
    return None


def _value_problem(name: str, value: str):
    if "\x00" in name or "\x00" in value:
        return _message(_("The parameter “%(name)s” contains a NUL character."), name)
    if len(value) > MAX_PARAMETER_CHARS and name not in LONG_PARAMETERS:
        return _message(
            _("The parameter “%(name)s” is longer than %(limit)d characters."),
            name,
            limit=MAX_PARAMETER_CHARS,
        )
    return None


def _message(text, name: str, **values):
    """The message, made when the language is known; the name shown printable and short."""
    shown = "".join(c if c.isprintable() else "?" for c in name.replace("\x00", "?"))
    if len(shown) > 40:
        shown = shown[:40] + "…"
    return lambda: str(text) % {"name": shown, **values}
