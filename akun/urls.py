from django.urls import include, path

# /healthz and /readyz are answered by akun.core.health.HealthCheckMiddleware.
urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("operator/", include("akun.oneroster.portal_urls")),
    path("operator/", include("akun.portal.urls")),
    path("bantuan/", include("akun.helpdesk.urls")),
    path("ims/oneroster/rostering/v1p2/", include("akun.oneroster.urls")),
    path("statistik/", include("akun.statistik.urls")),
    path("", include("akun.identity.urls")),
    path("", include("akun.sso.urls")),
]
