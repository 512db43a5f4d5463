"""Builders for the helpdesk tests: schools in regencies 3204 and 3301, students in every
account state, helpdesk agents (dinas accounts with the role) signed in past TOTP, a school
operator; a live server and SMTP servers on this helper's ports (8700-8799)."""

import datetime as dt

from akun.helpdesk import actions
from akun.helpdesk.answers import Answer
from tests import builders
from tests import portal_support as ps
from tests.ports import share

DOB = dt.date(2013, 1, 2)  # portal_support's students' birth date


def world():
    a = builders.school("20400001", kode_wilayah="320412", nama="SD NEGERI 1 CIBODAS")
    b = builders.school(
        "20400002", kode_wilayah="330101", nama="SD NEGERI 1 CILACAP", kab="Kab. Cilacap",
        prov="Prov. Jawa Tengah",
    )  # fmt: skip
    return {
        "a": a,
        "b": b,
        "issued": builders.student(
            a, "Siti Nurhaliza", "sitinurhaliza7", nisn="0012345678", tanggal_lahir=DOB
        ),
        "active": builders.student(
            a, "Budi Santoso", "budisantoso3", state="active", tanggal_lahir=DOB
        ),
        "deactivated": builders.student(
            a, "Dewi Lestari", "dewilestari2", state="deactivated", tanggal_lahir=DOB
        ),
        "other": builders.student(
            b, "Agus Saputra", "agussaputra1", nisn="0087654321", tanggal_lahir=DOB
        ),
        "op": builders.operator(a, local_part="operatorcibodas", nama="Rahmat Hidayat"),
        "op_b": builders.operator(b, local_part="operatorcilacap", nama="Joko Prasetyo"),
    }


def agent(region, nama="Agen Bantuan"):
    """A dinas account (as `akun admins create`), activated, with the helpdesk role."""
    account = ps.dinas(region, nama=nama)
    actions.do_grant_agent(account, region=region, actor="test")
    return account


def report_for(account, *, kode=None, email="siti.n@gmail.com", category="account", **kw):
    """A report about `account` as the public form files it after a roster match."""
    school = account.sekolah
    answer = Answer(
        lines=["dari status akun"],
        account=account,
        verified=kw.pop("verified", "roster"),
        npsn=school.npsn,
        kode_wilayah=kode or school.kode_wilayah,
    )
    return actions.do_file_report(
        who="student",
        category=category,
        nama=account.nama,
        contact_email=email,
        contact_phone=kw.pop("phone", ""),
        description=kw.pop("description", "Saya tidak bisa masuk."),
        details={"npsn": school.npsn},
        answer=answer,
        actor="butuh-bantuan",
    )


def live_server_on(port: int):
    """Django's live server thread on a fixed port of this helper's range, re-binding a port
    that a previous run left in TIME_WAIT (Django's own refuses: allow_reuse_address=False)."""
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.test.testcases import LiveServerThread, _StaticFilesHandler

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    class Thread(LiveServerThread):
        def _create_server(self, connections_override=None):
            return ThreadedWSGIServer(
                (self.host, self.port),
                Quiet,
                allow_reuse_address=True,
                connections_override=connections_override,
            )

    thread = Thread("127.0.0.1", _StaticFilesHandler, port=port)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    return thread


def port(n: int) -> int:
    """Port n (0-11) of this helper's range (8700-8799): the first half on SQLite, the
    second on PostgreSQL, so that the two suites can run side by side, and each test worker
    in a slice of its own (tests/ports.py)."""
    from django.db import connection

    return share(range(8700, 8750) if connection.vendor == "sqlite" else range(8750, 8800))[n]
