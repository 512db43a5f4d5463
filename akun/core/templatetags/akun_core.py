"""Template tags every app's pages use (base.html)."""

from urllib.parse import urlencode

from django import template

register = template.Library()

# Query parameters the language switcher carries over: the path alone would lose a search,
# a page of a list, the OpenID Connect authorization request on the consent page or where
# to go after sign-in. Anything else (a code, a token) is left behind: the switch posts
# `next` and redirects to it, which would send a single-use value again.
LANGUAGE_NEXT_PARAMS = frozenset(
    {
        # portal lists and filters, identity's school search
        "q",
        "wilayah",
        "page",
        "sort",
        "dir",
        "action",
        "role",
        "rombel",
        "state",  # also the OIDC request's
        "npsn",
        # where to go after sign-in (checked again where it is used: identity.flow.safe_next)
        "next",
        # the OpenID Connect authorization request (all public; the client's own values)
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "nonce",
        "code_challenge",
        "code_challenge_method",
        "prompt",
        "max_age",
        "ui_locales",
        "login_hint",
    }
)


@register.simple_tag(takes_context=True)
def language_next(context) -> str:
    """Where the language switcher returns to: this page's path and its allowed parameters."""
    request = context.get("request")
    if request is None:
        return "/"
    kept = [(k, v) for k, vs in request.GET.lists() if k in LANGUAGE_NEXT_PARAMS for v in vs]
    return request.path + ("?" + urlencode(kept) if kept else "")
