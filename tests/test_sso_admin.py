"""Registering services: the `akun services` and `akun sso` commands, and the admin page that
only national admins reach."""

import json

import pytest
from django.urls import reverse

from akun.core import clock
from akun.sso import actions
from akun.sso.models import Service, SigningKey
from tests import builders

CALLBACK = "https://kelas.example.id/callback"


def admin(local_part, level):
    from akun.portal.models import AdminScope

    acc = builders.account(local_part, "staff", None, "dinas", None, "Admin", state="active")
    AdminScope.objects.create(
        account=acc,
        level=level,
        kode_wilayah="" if level == "national" else "32",
        granted_at=clock.now(),
        granted_by="test",
    )
    return acc


def signed_in(client, account):
    from akun.identity.flow import GENERATION
    from akun.portal.middleware import MFA

    client.force_login(account, backend="akun.identity.signin.AkunBackend")
    session = client.session
    now = clock.now().timestamp()
    session[MFA] = {"account": account.pk, "at": now, "last": now}  # second factor passed
    session[GENERATION] = 0
    session.save()
    return client


@pytest.mark.django_db
def test_only_national_admins_reach_the_service_pages(client):
    url = reverse("sso:admin_list")
    assert client.get(url).status_code == 302  # anonymous: to the sign-in page
    student = builders.student(builders.school(), state="active")
    assert signed_in(client, student).get(url).status_code == 403
    client.logout()
    regional = admin("dinasjabar", "province")
    assert signed_in(client, regional).get(url).status_code == 403
    client.logout()
    national = admin("pusdatin", "national")
    c = signed_in(client, national)
    assert c.get(url).status_code == 200
    r = c.post(
        reverse("sso:admin_add"),
        {
            "name": "Kelas Maya",
            "protocol": "oidc",
            "kind": "web",
            "redirect_uris": CALLBACK,
            "scopes": ["openid", "akun"],
            "personal_claims": ["nisn"],
        },
    )
    assert r.status_code == 200 and 'id="secret"' in r.content.decode()
    svc = Service.objects.get(name="Kelas Maya")
    assert svc.application.redirect_uris == CALLBACK
    assert svc.scopes == {"openid", "akun"} and svc.personal_claims == ["nisn"]
    assert not svc.application.client_secret.startswith(("argon2", "pbkdf2"))  # fast hash
    assert svc.application.client_secret.startswith("akun_sso_sha256$")
    r = c.post(reverse("sso:admin_toggle", args=[svc.slug]))
    svc.refresh_from_db()
    assert r.status_code == 302 and not svc.active


@pytest.mark.django_db
def test_policy_refuses_nik_and_unknown_scopes():
    with pytest.raises(actions.ServiceError, match="NIK is never stored"):
        actions.do_add_oidc_service(
            "X", redirect_uris=[CALLBACK], personal_claims=["nik"], actor="t"
        )
    with pytest.raises(actions.ServiceError, match="unknown scopes"):
        actions.do_add_oidc_service("X", redirect_uris=[CALLBACK], scopes="openid admin", actor="t")
    with pytest.raises(actions.ServiceError, match="redirect URI"):
        actions.do_add_oidc_service("X", actor="t")


@pytest.mark.django_db(transaction=True)
def test_services_and_key_commands(run_akun, tmp_path):
    r = run_akun(
        "services", "add", "Rapor Digital", "--redirect-uri", CALLBACK,
        "--scopes", "openid profile akun", "--first-party", "--json",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["client_secret"] and out["protocol"] == "oidc"
    svc = Service.objects.get(slug=out["slug"])
    assert svc.first_party and svc.application.skip_authorization
    assert svc.application.client_id == out["id"]

    r = run_akun("services", "list")
    assert out["slug"] in r.stdout and "first-party" in r.stdout
    r = run_akun("services", "add", "Bad", "--redirect-uri", CALLBACK, "--personal", "nik")
    assert r.returncode != 0 and "NIK is never stored" in r.stderr

    md = tmp_path / "sp.xml"
    md.write_text(
        '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
        'entityID="https://wiki.example.id/saml"><md:SPSSODescriptor '
        'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        '<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" '
        'Location="https://wiki.example.id/acs" index="1"/></md:SPSSODescriptor>'
        "</md:EntityDescriptor>"
    )
    r = run_akun(
        "services", "add", "Wiki", "--protocol", "saml", "--saml-metadata", str(md),
        "--attributes", '{"mail": "email", "sekolah": "school_name"}',
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    wiki = Service.objects.get(saml_entity_id="https://wiki.example.id/saml")
    assert wiki.saml_attributes == {"mail": "email", "sekolah": "school_name"}
    r = run_akun("services", "disable", wiki.slug)
    wiki.refresh_from_db()
    assert r.returncode == 0 and not wiki.active

    r = run_akun("sso", "rotate-key", "--publish-seconds", "600")
    assert r.returncode == 0, r.stderr
    assert SigningKey.objects.filter(retired_at__isnull=True).count() == 1
    r = run_akun("sso", "keys")
    assert "signing" in r.stdout and "published until" in r.stdout


@pytest.mark.django_db
def test_keys_and_jwks_served_from_memory(
    client, django_assert_num_queries, django_capture_on_commit_callbacks
):
    from akun.sso import keys

    keys.reset()
    first = client.get("/o/jwks.json")
    assert first.status_code == 200 and first["Cache-Control"].startswith("public, max-age=")
    body = keys.keyset().jwks
    with django_assert_num_queries(0):  # no table read, no rebuild within the recheck window
        again = client.get("/o/jwks.json")
        assert keys.keyset().jwks is body
    assert again.content == first.content
    # A rotation is picked up (forced here; workers re-read every RECHECK seconds).
    with django_capture_on_commit_callbacks(execute=True):
        new, retired = actions.do_rotate_key(actor="t")
    kids = [k["kid"] for k in json.loads(client.get("/o/jwks.json").content)["keys"]]
    assert kids == [new.kid, retired[0].kid]
    # Past publish_until the old key leaves the JWKS.
    SigningKey.objects.filter(pk=retired[0].pk).update(publish_until=clock.now())
    keys.reset()
    kids = [k["kid"] for k in json.loads(client.get("/o/jwks.json").content)["keys"]]
    assert kids == [new.kid]


@pytest.mark.django_db
def test_the_person_removes_a_service_from_their_page(client):
    from akun.identity.actions import do_record_service_sign_in
    from akun.sso.models import Consent

    student = builders.student(builders.school(), state="active")
    svc, _ = actions.do_add_oidc_service("Kelas Maya", redirect_uris=[CALLBACK], actor="t")
    actions.do_grant_consent(student, svc, ["openid", "profile"], actor=student.user_id)
    do_record_service_sign_in(student, svc.service_id, svc.name)
    c = signed_in(client, student)
    page = c.get(reverse("sso:my_services")).content.decode()
    assert "Kelas Maya" in page and reverse("sso:revoke", args=[svc.slug]) in page
    r = c.post(reverse("sso:revoke", args=[svc.slug]))
    assert r.status_code == 302
    assert Consent.objects.get(account=student, service=svc).revoked_at is not None
    after = c.get(reverse("sso:my_services")).content.decode()
    assert "tidak lagi memiliki akses" in after  # the message, in Indonesian
    assert reverse("sso:revoke", args=[svc.slug]) not in after  # off the list


@pytest.mark.django_db
def test_saml_metadata_lists_retired_certificates_while_published(
    client, django_capture_on_commit_callbacks
):
    from akun.sso import keys

    keys.reset()
    first = client.get("/saml/metadata").content.decode()
    assert first.count('KeyDescriptor use="signing"') == 1
    with django_capture_on_commit_callbacks(execute=True):
        new, retired = actions.do_rotate_key(actor="t")
    both = client.get("/saml/metadata").content.decode()
    assert both.count('KeyDescriptor use="signing"') == 2
    for k in (new, retired[0]):
        body = "".join(line for line in k.certificate_pem.splitlines() if "-----" not in line)
        assert body in both
