"""Shared by the provisioning tests: a Google target pointed at the stand-in (a service
account key file in a temporary folder), accounts issued from a small roster, and reads of
what the stand-in holds."""

import json

from akun.accounts.models import Account
from akun.provisioning import api as provisioning
from akun.provisioning.models import Provisioned, Target
from tests import builders as roster
from tests.lifecycle_support import freeze, issue


def target_config(standin, tmp_path, **extra) -> dict:
    key = tmp_path / "service-account.json"
    key.write_text(json.dumps(standin.service_account_info()))
    config = {
        "domain": standin.domain,
        "subject": standin.admin,
        "key_file": str(key),
        "api_endpoint": standin.api_endpoint,
        "backoff_base": 0.01,  # the tests do not wait seconds for a retry
        "quota_per_minute": 600_000,
    }
    config.update(extra)
    return config


def add_target(standin, tmp_path, name="google", fill=True, **extra) -> Target:
    provisioning.do_add_target(
        name, "google", target_config(standin, tmp_path, **extra), actor="test", fill=fill
    )
    return Target.objects.get(pk=name)


def school_with_accounts(names=("Ani Lestari", "Budi Santoso", "Citra"), *, npsn="20104321",
                         teacher="Remo Bimantoro"):  # fmt: skip
    freeze("2021-03-01")
    sd = roster.sekolah("SD", npsn=npsn, kode_wilayah="320412", kab="Kab. Bandung",
                        prov="Prov. Jawa Barat")  # fmt: skip
    for nama in names:
        roster.peserta_didik(sd, 5, nama=nama)
    if teacher:
        roster.ptk(sd, nama=teacher)
    issue()
    return sd, list(Account.objects.order_by("pk"))


def row(account, target="google") -> Provisioned:
    return Provisioned.objects.get(target_id=target, account_id=account.pk)


def users_at(standin) -> dict[str, dict]:
    """Every user the stand-in holds, by primary e-mail."""
    out = {}
    page = None
    directory = standin.directory()
    while True:
        kwargs = {"customer": "my_customer", "maxResults": 500, "projection": "full"}
        if page:
            kwargs["pageToken"] = page
        r = directory.users().list(**kwargs).execute()
        for u in r.get("users", []):
            out[u["primaryEmail"]] = u
        page = r.get("nextPageToken")
        if not page:
            return out
