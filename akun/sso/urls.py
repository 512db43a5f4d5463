from django.urls import include, path, re_path

from akun.sso import saml_views, views

# django-oauth-toolkit's endpoints under its own namespace (its views reverse these names).
# Discovery sits at the root, so the issuer is the site itself.
oauth_patterns = [
    re_path(
        r"^\.well-known/openid-configuration/?$",
        views.DiscoveryView.as_view(),
        name="oidc-connect-discovery-info",
    ),
    path("o/jwks.json", views.jwks_view, name="jwks-info"),
    path("o/authorize/", views.AuthorizeView.as_view(), name="authorize"),
    path("o/token/", views.TokenView.as_view(), name="token"),
    path("o/revoke_token/", views.RevokeTokenView.as_view(), name="revoke-token"),
    path("o/introspect/", views.IntrospectView.as_view(), name="introspect"),
    path("o/userinfo/", views.UserInfoView.as_view(), name="user-info"),
    path("o/logout/", views.LogoutView.as_view(), name="rp-initiated-logout"),
]

sso_patterns = [
    path("akun-saya/layanan", views.my_services_view, name="my_services"),
    path("akun-saya/layanan/<slug:slug>/cabut", views.revoke_view, name="revoke"),
    path("admin/layanan", views.admin_list_view, name="admin_list"),
    path("admin/layanan/baru", views.admin_add_view, name="admin_add"),
    path("admin/layanan/<slug:slug>/aktif", views.admin_toggle_view, name="admin_toggle"),
    path("saml/metadata", saml_views.metadata_view, name="saml_metadata"),
    path("saml/sso", saml_views.sso_view, name="saml_sso"),
    path("saml/sso/lanjut", saml_views.continue_view, name="saml_continue"),
    path("saml/masuk/<slug:slug>", saml_views.idp_initiated_view, name="saml_idp_initiated"),
    path("saml/google/keluar", saml_views.google_signed_out_view, name="google_signed_out"),
]

# Two namespaces at the top level: "oauth2_provider" (for the toolkit) and "sso".
urlpatterns = [
    path("", include((oauth_patterns, "oauth2_provider"))),
    path("", include((sso_patterns, "sso"))),
]
