from django.http import HttpResponse
from django.urls import include, path


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("operator/", include("akun.portal.urls")),
    path("", include("akun.identity.urls")),
    path("", include("akun.sso.urls")),
]
