"""What the portal does: resets, downloads, admin creation, sign-in records. Each is atomic
where it writes and audited with the school or region it concerns."""

import csv
import io

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from akun.accounts.api import (
    Account,
    EventKind,
    allocate_local_part,
    base_local_part,
    do_reissue_account,
    export_accounts_csv,
    get_initial_password,
    neutralise,
    record_event,
)
from akun.audit import api as audit
from akun.audit.api import Action
from akun.core import clock
from akun.identity import api as identity
from akun.portal import reset_policy
from akun.portal import scope as scopes
from akun.portal.models import AdminScope
from akun.portal.slips import Slip, render_slips
from akun.roster.api import PesertaDidik, Sekolah

ROLE_CHOICES = {"peserta_didik": "peserta_didik", "ptk": "ptk"}
STAFF_SUBDOMAIN = "dinas"


def _admin_scope_fields(account) -> dict:
    """npsn/kode_wilayah for an admin's own audit rows (sign-in, second factor)."""
    s = account.sekolah if account.sekolah_id else None
    if s:
        return {"npsn": s.npsn, "kode_wilayah": s.kode_wilayah}
    row = AdminScope.objects.filter(account=account).exclude(kode_wilayah="").first()
    return {"kode_wilayah": row.kode_wilayah} if row else {}


def record_sign_in(account, *, method: str) -> None:
    audit.record(
        Action.PORTAL_SIGN_IN,
        actor=account.user_id,
        object_type="account",
        object_id=account.user_id,
        after={"second_factor": method},
        **_admin_scope_fields(account),
    )


def record_second_factor_failure(
    account, *, failures: int, method: str, actor: str, locked: bool = False
) -> None:
    """A wrong code (failures: the account's count), and the lock when this one starts it."""
    audit.record(
        Action.PORTAL_SECOND_FACTOR_FAILED,
        actor=actor,
        object_type="account",
        object_id=account.user_id,
        after={"failures": failures, "method": method},
        **_admin_scope_fields(account),
    )
    if locked:
        audit.record(
            Action.PORTAL_SECOND_FACTOR_LOCKED,
            actor=actor,
            object_type="account",
            object_id=account.user_id,
            after={"failures": failures},
            **_admin_scope_fields(account),
        )


def do_reset_password(account: Account, *, by: Account, reason: str = "", via="portal") -> str:
    """A new initial password for a person of a school (shown once; in the next download), if
    the admin `by` may reset this account (reset_policy: the page, the POST and the CLI all
    come here). Raises ResetRefused, or TransitionNotAllowed for the account's state.

    The account returns to `issued`, which ends its sessions; accounts' reissue writes the
    audit row, with the reason. Staff (not students) are told on their contacts once it is
    done."""
    sekolah = account.sekolah if account.sekolah_id else None
    scope = scopes.scope_of(by)
    rule = reset_policy.rule_for(scope, account, sekolah)
    if not rule.allowed:
        raise reset_policy.ResetRefused(str(rule.refusal))
    if rule.needs_reason or reason:
        reason = reset_policy.clean_reason(reason)
    who = "regional admin" if reset_policy.regional_over(scope, sekolah) else "school operator"
    recorded = f"password reset by the {who} ({via})" + (f": {reason}" if reason else "")
    with transaction.atomic():
        password = do_reissue_account(account, actor=by.user_id, reason=recorded)
        if rule.notify:
            transaction.on_commit(lambda: _notify_reset(account, by=by, sekolah=sekolah))
    return password


def _notify_reset(account: Account, *, by: Account, sekolah) -> None:
    """The holder hears of the reset (Indonesian first, then English), never the password."""
    params = {
        "user_id": account.user_id,
        "by": by.nama or by.user_id,
        "school": sekolah.nama if sekolah else "",
        "date": timezone.localtime(clock.now()).strftime("%d-%m-%Y %H:%M"),
    }
    subjects, bodies, sms = [], [], []
    for lang in ("id", "en"):
        with translation.override(lang):
            subjects.append(gettext("Your learning account password was reset"))
            bodies.append(
                gettext(
                    "The password of your learning account %(user_id)s at %(school)s was "
                    "reset on %(date)s by %(by)s. The account is back to 'issued': it needs a "
                    "new initial password, and every session on it has ended."
                )
                % params
                + "\n\n"
                + gettext(
                    "If you did not ask for this, tell your head of school or the regional "
                    "education office (dinas) at once."
                )
            )
            sms.append(
                gettext(
                    "Learning account %(user_id)s: password reset on %(date)s by %(by)s. Not "
                    "you? Tell your head of school or the dinas."
                )
                % params
            )
    identity.send_account_notice(
        account,
        subject=" / ".join(subjects),
        body="\n\n-----\n\n".join(bodies) + "\n",
        sms=" / ".join(sms),
    )


def download_csv(sekolah: Sekolah, *, role: str, rombel: str, actor: str) -> tuple[bytes, int]:
    """The operator's CSV (accounts' own export, the same file as `akun accounts export`),
    optionally only the rows of one class."""
    export = export_accounts_csv(sekolah.npsn, role=ROLE_CHOICES.get(role), actor=actor)
    if not rombel:
        return export.content, export.rows
    text = export.text.lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text))
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    header = next(reader)
    writer.writerow(header)
    col = header.index("Rombel")
    wanted = neutralise(rombel)
    rows = 0
    for row in reader:
        if row[col] == wanted:
            writer.writerow(row)
            rows += 1
    audit.record(
        Action.PORTAL_DOWNLOAD_CSV,
        actor=actor,
        object_type="sekolah",
        object_id=sekolah.npsn,
        npsn=sekolah.npsn,
        kode_wilayah=sekolah.kode_wilayah,
        after={"role": role or "all", "rombel": rombel, "rows": rows},
    )
    return out.getvalue().encode("utf-8"), rows


def slip_accounts(sekolah_ids, *, role: str = "", rombel: str = "") -> list[Slip]:
    ids = list(sekolah_ids)
    accounts = Account.objects.filter(
        sekolah_id__in=ids, state=Account.State.ISSUED, initial_password_enc__isnull=False
    ).only("user_id", "nama", "person_type", "person_id", "state", "initial_password_enc")
    if role in ROLE_CHOICES:
        accounts = accounts.filter(person_type=role)
    classes = dict(
        PesertaDidik.objects.filter(sekolah_id__in=ids).values_list("peserta_didik_id", "rombel")
    )
    if rombel:
        wanted = {pk for pk, r in classes.items() if r == rombel}
        accounts = accounts.filter(person_type="peserta_didik", person_id__in=wanted)
    slips = []
    for a in accounts:
        password = get_initial_password(a)
        if password:
            slips.append(Slip(a.nama, classes.get(a.person_id, ""), a.user_id, password))
    slips.sort(key=lambda s: (s.rombel == "", s.rombel, s.nama.lower(), s.user_id))
    return slips


def download_slips(
    sekolah: Sekolah, sekolah_ids, *, role: str, rombel: str, signin_url: str, actor: str
) -> tuple[bytes, int]:
    slips = slip_accounts(sekolah_ids, role=role, rombel=rombel)
    pdf = render_slips(slips, school=sekolah.nama, signin_url=signin_url)
    audit.record(
        Action.PORTAL_DOWNLOAD_SLIPS,
        actor=actor,
        object_type="sekolah",
        object_id=sekolah.npsn,
        npsn=sekolah.npsn,
        kode_wilayah=sekolah.kode_wilayah,
        after={"role": role or "all", "rombel": rombel, "slips": len(slips)},
    )
    return pdf, len(slips)


def download_region_csv(kode: str, rows, *, actor: str) -> bytes:
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(
        [
            "Kode",
            "Nama",
            "Sekolah",
            "Akun",
            "Diterbitkan",
            "Aktif",
            "Ditangguhkan",
            "Dinonaktifkan",
            "Tingkat Aktivasi (%)",
        ]
    )
    for r in rows:
        writer.writerow([neutralise(v) for v in r.as_list()])
    audit.record(
        Action.PORTAL_DOWNLOAD_REGION_CSV,
        actor=actor,
        object_type="wilayah",
        object_id=kode,
        kode_wilayah="" if kode == scopes.NATIONAL else kode,
        after={"rows": len(rows)},
    )
    return out.getvalue().encode("utf-8")


class AdminError(Exception):
    pass


def parse_region(region: str) -> tuple[str, str]:
    """--region value -> (level, code): 'nasional'/'national', 2 digits, 4 digits."""
    region = (region or "").strip().lower()
    if region in ("nasional", "national"):
        return AdminScope.Level.NATIONAL, ""
    if region.isdigit() and len(region) == 2:
        return AdminScope.Level.PROVINCE, region
    if region.isdigit() and len(region) == 4:
        return AdminScope.Level.REGENCY, region
    raise AdminError(
        "region must be 'nasional', a province code (2 digits, e.g. 32) or a regency/city code "
        "(4 digits, e.g. 3204)"
    )


def do_create_admin(
    *, nama: str, region: str, actor: str, granted_by=None, reason: str = ""
) -> tuple[Account, str]:
    """A dinas/national admin: a staff account (role dinas) and its region scope.

    `granted_by` (an admin account) may only delegate within its own region: national ->
    province -> regency/city. Returns the account and its initial password (shown once)."""
    level, kode = parse_region(region)
    if granted_by is not None:
        outer = scopes.scope_of(granted_by)
        if not scopes.covers(outer, level, kode):
            raise AdminError(f"{granted_by.user_id} may not delegate region {region}")
    if (
        level != AdminScope.Level.NATIONAL
        and not Sekolah.objects.filter(kode_wilayah__startswith=kode).exists()
    ):
        raise AdminError(f"no school of the roster is in region {kode}")
    with transaction.atomic():
        local = allocate_local_part(base_local_part(nama))
        now = clock.now()
        account = Account(
            local_part=local,
            subdomain=STAFF_SUBDOMAIN,
            user_id=f"{local}@{STAFF_SUBDOMAIN}.{settings.AKUN_DOMAIN}",
            person_type=Account.PersonType.STAFF,
            role=Account.Role.DINAS,
            nama=nama,
            state=Account.State.ISSUED,
            issued_at=now,
        )
        account.set_unusable_password()
        account.save()
        record_event(EventKind.ISSUED, account.pk, actor=actor, reason=reason)
        AdminScope.objects.create(
            account=account,
            level=level,
            kode_wilayah=kode,
            granted_at=now,
            granted_by=actor,
        )
        audit.record(
            Action.PORTAL_ADMIN_CREATED,
            actor=actor,
            object_type="account",
            object_id=account.user_id,
            reason=reason,
            kode_wilayah=kode,
            after={"level": level, "region": kode or "nasional", "nama": nama},
        )
        # accounts' own reissue makes and encrypts the initial password (and audits it).
        password = do_reissue_account(account, actor=actor, reason="admin account created")
    return account, password
