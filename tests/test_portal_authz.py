"""Server-side authorization on every portal page and download: an operator of school A who
puts school B's NPSN (or B's account) in a URL gets 404; a regional admin sees only their
region; nobody without an admin role and a second factor gets anything."""

import pytest
from django.urls import URLPattern, reverse

from akun.portal import urls as portal_urls
from tests import builders
from tests import portal_support as ps

pytestmark = pytest.mark.django_db

# Every portal URL with the arguments that point at "their" school / account / region.
SCHOOL_URLS = {
    "school": {},
    "accounts": {},
    "account": {"pk": "account"},
    "reset": {"pk": "account"},
    "downloads": {},
    "download_csv": {},
    "download_pdf": {},
    "why": {},
    "school_audit": {},
    "sync_retry": {},
}
REGION_URLS = ["region", "region_csv"]
PLAIN_URLS = ["home", "security", "audit"]
MFA_URL = "mfa"
POST_ONLY = {"reset", "sync_retry"}
OK = {"sync_retry": 302}  # a POST that redirects back to the school
POST_DATA = {"reset": {"confirm": "on"}, "sync_retry": {"all": "1"}}
QUERY = {"download_csv": "?role=peserta_didik", "download_pdf": "?role=peserta_didik"}


def test_every_portal_url_is_covered_here():
    names = {p.name for p in portal_urls.urlpatterns if isinstance(p, URLPattern)}
    covered = set(SCHOOL_URLS) | set(REGION_URLS) | set(PLAIN_URLS) | {MFA_URL}
    assert names == covered, "a new portal URL needs its authorization test"


@pytest.fixture
def world():
    a = builders.school("20100001", kode_wilayah="320412")
    b = builders.school("20100002", kode_wilayah="320413")  # same regency as A
    c = builders.school(
        "20200003", kode_wilayah="327301", kab="Kota Bandung"
    )  # other regency, same province
    d = builders.school(
        "30300004", kode_wilayah="310101", kab="Kota Jakarta Pusat", prov="Prov. DKI Jakarta"
    )
    accounts = {
        s.npsn: builders.student(s, f"Murid {s.npsn}", f"murid{s.npsn}") for s in (a, b, c, d)
    }
    return {"a": a, "b": b, "c": c, "d": d, "students": accounts}


def _url(name, sekolah, world, query=True):
    kwargs = {"npsn": sekolah.npsn}
    if SCHOOL_URLS[name].get("pk"):
        kwargs["pk"] = world["students"][sekolah.npsn].pk
    return reverse(f"portal:{name}", kwargs=kwargs) + (QUERY.get(name, "") if query else "")


def _hit(client, name, url):
    return client.post(url, POST_DATA[name]) if name in POST_ONLY else client.get(url)


@pytest.mark.parametrize("name", sorted(SCHOOL_URLS))
def test_operator_gets_404_for_another_school_on_every_page(client, world, name):
    op = builders.operator(world["a"])
    ps.sign_in(client, op)
    own = _hit(client, name, _url(name, world["a"], world))
    assert own.status_code == OK.get(name, 200), (name, own.status_code)
    for other in ("b", "c", "d"):
        r = _hit(client, name, _url(name, world[other], world))
        assert r.status_code == 404, (name, other, r.status_code)
        assert world[other].nama.encode() not in r.content
    # A school that does not exist answers the same as one outside the scope.
    kwargs = {"npsn": "99999999", **({"pk": 1} if SCHOOL_URLS[name] else {})}
    assert _hit(client, name, reverse(f"portal:{name}", kwargs=kwargs)).status_code == 404


@pytest.mark.parametrize("name", sorted(n for n in SCHOOL_URLS if SCHOOL_URLS[n].get("pk")))
def test_operator_gets_404_for_another_schools_account_under_own_npsn(client, world, name):
    op = builders.operator(world["a"])
    ps.sign_in(client, op)
    foreign = world["students"][world["b"].npsn]
    url = reverse(f"portal:{name}", kwargs={"npsn": world["a"].npsn, "pk": foreign.pk})
    r = _hit(client, name, url)
    assert r.status_code == 404
    foreign.refresh_from_db()
    assert foreign.state == "issued" and foreign.initial_password_enc is not None


@pytest.mark.parametrize("name", REGION_URLS)
def test_operator_has_no_region_pages(client, world, name):
    ps.sign_in(client, builders.operator(world["a"]))
    for kode in ("nasional", "32", "3204"):
        assert client.get(reverse(f"portal:{name}", kwargs={"kode": kode})).status_code == 404


@pytest.mark.parametrize("name", REGION_URLS)
def test_regional_admin_sees_only_their_region(client, world, name):
    ps.sign_in(client, ps.dinas("3204"))
    assert client.get(reverse(f"portal:{name}", kwargs={"kode": "3204"})).status_code == 200
    for kode in ("nasional", "32", "3273", "31", "3101"):
        r = client.get(reverse(f"portal:{name}", kwargs={"kode": kode}))
        assert r.status_code == 404, kode


@pytest.mark.parametrize("name", sorted(SCHOOL_URLS))
def test_regional_admin_reaches_schools_of_the_region_only(client, world, name):
    ps.sign_in(client, ps.dinas("3204"))
    for key in ("a", "b"):
        assert _hit(client, name, _url(name, world[key], world)).status_code == OK.get(name, 200), (
            key
        )
    for key in ("c", "d"):
        assert _hit(client, name, _url(name, world[key], world)).status_code == 404, key


def test_province_and_national_admins_follow_the_region_tree(client, world):
    ps.sign_in(client, ps.dinas("32", nama="Admin Provinsi"))
    for kode in ("32", "3204", "3273"):
        assert client.get(reverse("portal:region", kwargs={"kode": kode})).status_code == 200
    for kode in ("nasional", "31", "3101"):
        assert client.get(reverse("portal:region", kwargs={"kode": kode})).status_code == 404
    assert client.get(reverse("portal:school", kwargs={"npsn": "20200003"})).status_code == 200
    assert client.get(reverse("portal:school", kwargs={"npsn": "30300004"})).status_code == 404
    client.logout()
    ps.sign_in(client, ps.dinas("nasional", nama="Admin Nasional"))
    for kode in ("nasional", "31", "3204"):
        assert client.get(reverse("portal:region", kwargs={"kode": kode})).status_code == 200
    assert client.get(reverse("portal:school", kwargs={"npsn": "30300004"})).status_code == 200


def _all_urls(world):
    urls = [(n, _url(n, world["a"], world)) for n in SCHOOL_URLS]
    urls += [(n, reverse(f"portal:{n}", kwargs={"kode": "3204"})) for n in REGION_URLS]
    urls += [(n, reverse(f"portal:{n}")) for n in PLAIN_URLS]
    return urls


def test_anonymous_is_sent_to_sign_in_everywhere(client, world):
    for name, url in _all_urls(world):
        r = _hit(client, name, url)
        assert r.status_code == 302 and r["Location"].startswith("/masuk"), name


def test_students_and_teachers_get_403_everywhere(client, world):
    builders.teacher(world["a"])
    r = client.post(
        "/masuk", {"user_id": "gurusatu@guru.belajar.test", "password": builders.PASSWORD}
    )
    assert r.status_code == 302
    for name, url in _all_urls(world):
        assert _hit(client, name, url).status_code == 403, name


def test_admin_without_second_factor_is_sent_to_totp_everywhere(client, world):
    op = builders.operator(world["a"])
    r = client.post("/masuk", {"user_id": op.user_id, "password": builders.PASSWORD})
    assert r.status_code == 302
    for name, url in _all_urls(world):
        r = _hit(client, name, url)
        assert r.status_code == 302 and r["Location"].startswith("/operator/verifikasi"), name
    # Akun Saya too: an admin session is nothing until the second factor.
    r = client.get("/akun-saya")
    assert r.status_code == 302 and r["Location"].startswith("/operator/verifikasi")
