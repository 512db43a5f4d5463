"""Shared by the OneRoster tests: a small roster of two schools in two provinces with
accounts, registered platforms and their tokens."""

import base64
import dataclasses

from akun.oneroster import project, query, views
from akun.oneroster.actions import CORE, DEMOGRAPHICS, ROSTER, do_grant_oneroster_access
from akun.sso import actions as sso_actions
from akun.sso import keys, validator
from tests import builders

BASE = "/ims/oneroster/rostering/v1p2"


@dataclasses.dataclass
class World:
    sd: object  # SD at 320412 (Jawa Barat)
    smp: object  # SMP at 350101 (Jawa Timur)
    students: list
    teacher: object
    head: object
    other_students: list


def reset_caches() -> None:
    keys.reset()
    validator.forget_clients()
    views.forget_clients()
    query.forget()


def make_world() -> World:
    sd = builders.sekolah("SD", npsn="20104321", nama="SD NEGERI 1 CIBODAS")
    smp = builders.sekolah(
        "SMP", npsn="20504444", kode_wilayah="350101", kab="Kab. Pacitan",
        prov="Prov. Jawa Timur", nama="SMP NEGERI 2 PACITAN",
    )  # fmt: skip
    students = []
    for i, (grade, rombel) in enumerate([(5, "5A"), (5, "5A"), (5, "5B"), (6, "6A")]):
        pd = builders.peserta_didik(sd, grade, rombel=rombel, nama=f"Siti Murid{i} Rahayu")
        students.append(
            builders.account(
                f"siti{i}", "peserta_didik", pd.peserta_didik_id, "peserta_didik", sd, pd.nama
            )
        )
    guru = builders.ptk(sd, "Guru Kelas", nama="Remo Bimantoro")
    teacher = builders.account(
        "remo1", "ptk", guru.ptk_id, "pendidik", sd, guru.nama, state="active"
    )
    kepala = builders.ptk(sd, "Kepala Sekolah", nama="Dewi Lestari")
    head = builders.account("dewi1", "ptk", kepala.ptk_id, "tenaga_kependidikan", sd, kepala.nama)
    others = []
    for i in range(2):
        pd = builders.peserta_didik(smp, 7, rombel="7A", nama=f"Budi{i}")
        others.append(
            builders.account(
                f"budi{i}", "peserta_didik", pd.peserta_didik_id, "peserta_didik", smp, pd.nama
            )
        )
    project.refresh()
    return World(sd, smp, students, teacher, head, others)


def basic(cid, secret):
    return "Basic " + base64.b64encode(f"{cid}:{secret}".encode()).decode()


def platform(orgs, *, demographics=False, personal=(), name="LMS"):
    """A registered platform: (client_id, secret)."""
    svc, secret = sso_actions.do_add_oidc_service(
        name, kind="machine", scopes="introspection", personal_claims=list(personal), actor="t"
    )
    do_grant_oneroster_access(svc, list(orgs), demographics=demographics, actor="t")
    return svc.application.client_id, secret


def token(client, cid, secret, scope=f"{CORE} {ROSTER}") -> str:
    r = client.post(
        "/o/token/",
        {"grant_type": "client_credentials", "scope": scope},
        HTTP_AUTHORIZATION=basic(cid, secret),
    )
    assert r.status_code == 200, r.content
    return r.json()["access_token"]


def get(client, tok, path, **params):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {tok}"} if tok else {}
    return client.get(BASE + path, params, **headers)


__all__ = ["CORE", "DEMOGRAPHICS", "ROSTER"]
