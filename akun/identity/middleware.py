from django.contrib.auth import logout

from akun.identity.flow import GENERATION, current_generation


class SessionGenerationMiddleware:
    """Ends a session whose account has since signed out everywhere (generation bumped)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            if request.session.get(GENERATION, 0) != current_generation(user):
                logout(request)
        return self.get_response(request)
