"""The Google stand-in (standins/google), driven the way the product drives Google: google-auth
service-account credentials with a subject (domain-wide delegation) and
google-api-python-client built from its shipped discovery document."""

import http.client
import json
import time

import google.auth.crypt
import google.auth.exceptions
import google.auth.jwt
import google.auth.transport.requests
import httplib2
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from googleapiclient.errors import BatchError, HttpError

from tests.google_standin import ADMIN, CLIENT_EMAIL, SCOPES, start_subprocess

D = "siswa.sd.belajar.test"

# Test vectors of the SHA-crypt specification (Drepper): "Hello world!".
CRYPT_SHA512 = (
    "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFC"
    "oEOfaS35inz1"
)
CRYPT_SHA512_ROUNDS = (
    "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8"
    "vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v."
)


def user(local: str, **extra) -> dict:
    body = {
        "primaryEmail": f"{local}@{D}",
        "name": {"givenName": "Budi", "familyName": "Santoso"},
        "password": "rahasia-sekali",
    }
    body.update(extra)
    return body


def error_of(exc: HttpError) -> dict:
    return json.loads(exc.content)["error"]


def refused(call) -> dict:
    with pytest.raises(HttpError) as e:
        call.execute(num_retries=0)
    return error_of(e.value)


@pytest.fixture
def directory(google_standin):
    return google_standin.directory()


# --- users -------------------------------------------------------------------------------


def test_users_insert_get_patch_update_delete(google_standin, directory):
    users = directory.users()
    made = users.insert(body=user("budi1", includeInGlobalAddressList=False)).execute()
    assert made["kind"] == "admin#directory#user"
    assert made["primaryEmail"] == f"budi1@{D}"
    assert made["includeInGlobalAddressList"] is False
    assert "password" not in made
    assert made["id"].isdigit() and len(made["id"]) == 21

    by_email = users.get(userKey=f"BUDI1@{D}").execute()  # e-mails are case-insensitive
    by_id = users.get(userKey=made["id"]).execute()
    assert by_email == by_id
    assert by_email["suspended"] is False and by_email["orgUnitPath"] == "/"

    patched = users.patch(userKey=made["id"], body={"suspended": True}).execute()
    assert patched["suspended"] is True
    assert patched["name"]["givenName"] == "Budi"  # a patch leaves the rest alone
    assert patched["etag"] != by_id["etag"]

    # update replaces: what it leaves out goes back to Google's defaults
    updated = users.update(
        userKey=made["id"], body={"name": {"givenName": "Budi", "familyName": "Setiawan"}}
    ).execute()
    assert updated["suspended"] is False
    assert updated["includeInGlobalAddressList"] is True
    assert updated["name"]["fullName"] == "Budi Setiawan"

    assert users.delete(userKey=f"budi1@{D}").execute() == ""
    err = refused(users.get(userKey=made["id"]))
    assert err["code"] == 404 and err["errors"][0]["reason"] == "notFound"
    assert err["status"] == "NOT_FOUND"
    assert refused(users.delete(userKey=made["id"]))["code"] == 404
    st = google_standin.stats()
    assert st["by_method"]["directory.users.insert"] == 1
    assert st["users"] == 0


def test_rename_keeps_the_old_address_as_an_alias(directory):
    users = directory.users()
    made = users.insert(body=user("lama")).execute()
    users.patch(userKey=made["id"], body={"primaryEmail": f"baru@{D}"}).execute()
    got = users.get(userKey=f"lama@{D}").execute()
    assert got["primaryEmail"] == f"baru@{D}" and got["aliases"] == [f"lama@{D}"]
    assert refused(users.insert(body=user("lama")))["code"] == 409


def test_duplicate_primary_email_is_409(directory):
    users = directory.users()
    users.insert(body=user("kembar")).execute()
    err = refused(users.insert(body=user("KEMBAR")))
    assert err["code"] == 409
    assert err["message"] == "Entity already exists."
    assert err["errors"] == [
        {"message": "Entity already exists.", "domain": "global", "reason": "duplicate"}
    ]
    assert err["status"] == "ALREADY_EXISTS"


@pytest.mark.parametrize(
    "given,family",
    [
        ("Budi=", "Santoso"),
        ("<b>Budi</b>", "Santoso"),
        ("B" * 61, "Santoso"),
        ("   ", "Santoso"),
        ("Budi\x00", "Santoso"),
        ("Budi", "Santoso>"),
        ("Budi", "S" * 61),
    ],
)
def test_names_google_refuses(directory, given, family):
    err = refused(
        directory.users().insert(body=user("nama", name={"givenName": given, "familyName": family}))
    )
    assert err["code"] == 400 and err["errors"][0]["reason"] == "invalid"
    label = "GivenName" if given != "Budi" else "FamilyName"
    assert err["message"] == f"Invalid Given/Family Name: {label}"


@pytest.mark.parametrize(
    "given,family",
    [("B" * 60, "S" * 60), ("Ni Made", "Ayu"), ("Đặng", "Thị-Hồng"), ("D'Costa", "A. Jr.")],
)
def test_names_google_accepts(directory, given, family):
    made = (
        directory.users()
        .insert(body=user("nama", name={"givenName": given, "familyName": family}))
        .execute()
    )
    assert made["name"]["givenName"] == given


def test_a_name_is_required_on_insert(directory):
    err = refused(directory.users().insert(body=user("x", name={"givenName": "Budi"})))
    assert err["code"] == 400 and err["errors"][0]["reason"] == "required"
    err = refused(directory.users().insert(body={"primaryEmail": f"y@{D}", "password": "12345678"}))
    assert err["errors"][0]["reason"] == "required"


@pytest.mark.parametrize(
    "password,hash_function",
    [
        (CRYPT_SHA512, "crypt"),
        (CRYPT_SHA512_ROUNDS, "crypt"),
        ("2aae6c35c94fcfb415dbe95f408b9ce91ee846ed", "SHA-1"),
        ("5eb63bbbe01eeed093cb22bb8f5acdc3", "MD5"),
        ("rahasia-sekali", None),
    ],
)
def test_password_hashes_google_accepts(google_standin, directory, password, hash_function):
    body = user("sandi", password=password)
    if hash_function:
        body["hashFunction"] = hash_function
    made = directory.users().insert(body=body).execute()
    assert "password" not in made and "hashFunction" not in made
    stored = google_standin.stored_user(f"sandi@{D}")
    assert stored["password"] == password
    assert stored.get("hashFunction") == hash_function


@pytest.mark.parametrize(
    "password,hash_function",
    [
        (CRYPT_SHA512[:-1], "crypt"),  # a hash one character short
        (CRYPT_SHA512_ROUNDS.replace("rounds=10000", "rounds=10001"), "crypt"),
        ("$6$salt", "crypt"),
        ("not-hex-not-hex-not-hex-not-hex-not-hex!", "SHA-1"),
        ("5eb63bbbe01eeed093cb22bb8f5acdc", "MD5"),
        ("kurang", None),  # under 8 characters
        (CRYPT_SHA512, "SHA-512"),
    ],
)
def test_passwords_google_refuses(directory, password, hash_function):
    body = user("sandi", password=password)
    if hash_function:
        body["hashFunction"] = hash_function
    err = refused(directory.users().insert(body=body))
    assert err["code"] == 400 and err["errors"][0]["reason"] == "invalid"


def test_primary_email_outside_the_domain_or_malformed(directory):
    err = refused(directory.users().insert(body={**user("x"), "primaryEmail": "x@gmail.com"}))
    assert err["code"] == 404 and err["message"] == "Domain not found."
    err = refused(directory.users().insert(body={**user("x"), "primaryEmail": "x y@" + D}))
    assert err["code"] == 400 and err["message"] == "Invalid Input: primary_user_email"


# --- what the discovery document says a body is -------------------------------------------


@pytest.mark.parametrize(
    "body,message",
    [
        ({"nik": "3201011234567890"}, "Unknown name \"nik\" at 'resource': Cannot find field."),
        (
            {"name": {"givenName": "B", "familyName": "S", "gelar": "S.Pd"}},
            "Unknown name \"gelar\" at 'resource.name': Cannot find field.",
        ),
        ({"suspended": "yes"}, "Invalid value at 'resource.suspended' (TYPE_BOOL), \"yes\""),
        ({"orgUnitPath": 5}, "Invalid value at 'resource.org_unit_path' (TYPE_STRING), 5"),
        ({"name": "Budi Santoso"}, "Invalid value at 'resource.name' (TYPE_MESSAGE)"),
        ({"customSchemas": {"Akun": "x"}}, "Invalid value at 'resource.custom_schemas[\"Akun\"]'"),
    ],
)
def test_a_body_that_breaks_the_discovery_schema_is_refused(
    google_standin, directory, body, message
):
    err = refused(directory.users().insert(body={**user("skema"), **body}))
    assert err["code"] == 400 and err["status"] == "INVALID_ARGUMENT"
    assert err["errors"][0]["reason"] == "invalid"
    assert message in err["message"]
    assert google_standin.stats()["users"] == 0


def test_read_only_fields_sent_back_are_ignored(directory):
    made = directory.users().insert(body=user("baca")).execute()
    got = directory.users().get(userKey=made["id"]).execute()
    got["name"]["givenName"] = "Bude"
    again = directory.users().update(userKey=made["id"], body=got).execute()
    assert again["name"]["givenName"] == "Bude" and again["isAdmin"] is False


# --- custom schemas ----------------------------------------------------------------------

AKUN_SCHEMA = {
    "schemaName": "Akun",
    "displayName": "Akun belajar.id",
    "fields": [
        {"fieldName": "peran", "fieldType": "STRING", "displayName": "Peran"},
        {"fieldName": "jenjang", "fieldType": "STRING", "displayName": "Jenjang"},
        {"fieldName": "npsn", "fieldType": "STRING", "displayName": "NPSN"},
        {"fieldName": "aktif", "fieldType": "BOOL", "displayName": "Aktif"},
        {"fieldName": "kelas", "fieldType": "INT64", "displayName": "Kelas"},
        {
            "fieldName": "wilayah",
            "fieldType": "STRING",
            "displayName": "Wilayah",
            "multiValued": True,
        },
    ],
}


def test_schemas_insert_get_list_and_duplicate(directory):
    schemas = directory.schemas()
    made = schemas.insert(customerId="my_customer", body=AKUN_SCHEMA).execute()
    assert made["schemaName"] == "Akun" and len(made["fields"]) == 6
    assert (
        schemas.get(customerId="my_customer", schemaKey="Akun").execute()["schemaId"]
        == (made["schemaId"])
    )
    assert schemas.get(customerId="my_customer", schemaKey=made["schemaId"]).execute()
    listed = schemas.list(customerId="my_customer").execute()
    assert [s["schemaName"] for s in listed["schemas"]] == ["Akun"]
    assert refused(schemas.insert(customerId="my_customer", body=AKUN_SCHEMA))["code"] == 409
    bad = {
        **AKUN_SCHEMA,
        "schemaName": "Lain",
        "fields": [{"fieldName": "x", "fieldType": "BLOB", "displayName": "X"}],
    }
    assert refused(schemas.insert(customerId="my_customer", body=bad))["code"] == 400
    assert refused(schemas.get(customerId="my_customer", schemaKey="Tidak"))["code"] == 404
    # another customer's schemas are not ours to read
    assert refused(schemas.list(customerId="C0other"))["code"] == 403


def test_custom_schema_fields_on_users(directory):
    directory.schemas().insert(customerId="my_customer", body=AKUN_SCHEMA).execute()
    users = directory.users()
    custom = {
        "Akun": {
            "peran": "siswa",
            "npsn": "20100001",
            "aktif": True,
            "kelas": 4,
            "wilayah": [{"value": "32"}, {"value": "3201"}],
        }
    }
    made = users.insert(body=user("kustom", customSchemas=custom)).execute()
    assert made["customSchemas"]["Akun"]["kelas"] == "4"  # int64 answers as a string
    basic = users.get(userKey=made["id"]).execute()
    assert "customSchemas" not in basic  # projection=basic, Google's default
    full = users.get(userKey=made["id"], projection="full").execute()
    assert full["customSchemas"]["Akun"]["npsn"] == "20100001"
    some = users.get(userKey=made["id"], projection="custom", customFieldMask="Akun").execute()
    assert some["customSchemas"]["Akun"]["peran"] == "siswa"
    # a patch of one field keeps the others
    users.patch(userKey=made["id"], body={"customSchemas": {"Akun": {"peran": "guru"}}}).execute()
    full = users.get(userKey=made["id"], projection="full").execute()
    assert full["customSchemas"]["Akun"] == {**custom["Akun"], "peran": "guru", "kelas": "4"}

    for bad in (
        {"Tidak": {"x": "y"}},  # no such schema
        {"Akun": {"nik": "3201"}},  # no such field
        {"Akun": {"aktif": "ya"}},  # BOOL
        {"Akun": {"kelas": "empat"}},  # INT64
        {"Akun": {"wilayah": "32"}},  # multi-valued takes a list
        {"Akun": {"npsn": ["20100001"]}},  # single-valued takes no list
    ):
        err = refused(users.insert(body=user("buruk", customSchemas=bad)))
        assert err["code"] == 400 and err["errors"][0]["reason"] == "invalid", bad


# --- org units ----------------------------------------------------------------------------


def test_orgunits(directory):
    ous = directory.orgunits()
    c = "my_customer"
    jabar = ous.insert(customerId=c, body={"name": "32", "parentOrgUnitPath": "/"}).execute()
    assert jabar["orgUnitPath"] == "/32" and jabar["orgUnitId"].startswith("id:")
    ous.insert(customerId=c, body={"name": "3201", "parentOrgUnitPath": "/32"}).execute()
    ous.insert(
        customerId=c, body={"name": "20100001", "parentOrgUnitId": jabar["orgUnitId"]}
    ).execute()
    sekolah = ous.insert(
        customerId=c, body={"name": "20100002", "parentOrgUnitPath": "/32/3201"}
    ).execute()
    assert sekolah["parentOrgUnitPath"] == "/32/3201"
    # the parent must exist; the same path twice is a conflict
    err = refused(ous.insert(customerId=c, body={"name": "x", "parentOrgUnitPath": "/99"}))
    assert err["code"] == 400
    err = refused(ous.insert(customerId=c, body={"name": "3201", "parentOrgUnitPath": "/32"}))
    assert err["code"] == 409 and err["errors"][0]["reason"] == "duplicate"
    assert refused(ous.insert(customerId=c, body={"parentOrgUnitPath": "/"}))["code"] == 400

    got = ous.get(customerId=c, orgUnitPath="32/3201/20100002").execute()
    assert got["orgUnitId"] == sekolah["orgUnitId"]
    assert ous.get(customerId=c, orgUnitPath=sekolah["orgUnitId"]).execute()["name"] == "20100002"
    assert refused(ous.get(customerId=c, orgUnitPath="32/9999"))["code"] == 404

    children = ous.list(customerId=c, orgUnitPath="/32").execute()["organizationUnits"]
    assert [o["orgUnitPath"] for o in children] == ["/32/20100001", "/32/3201"]
    every = ous.list(customerId=c, type="all").execute()["organizationUnits"]
    assert len(every) == 4
    assert (
        "organizationUnits" not in ous.list(customerId=c, orgUnitPath="/32/3201/20100002").execute()
    )

    # users go into an existing org unit only
    users = directory.users()
    made = users.insert(body=user("ou", orgUnitPath="/32/3201/20100002")).execute()
    err = refused(users.insert(body=user("ou2", orgUnitPath="/32/tidak-ada")))
    assert err["code"] == 400 and err["message"] == "Invalid Input: INVALID_OU_ID"

    # renaming a parent moves its subtree and the users in it
    ous.patch(customerId=c, orgUnitPath="32/3201", body={"name": "3201-bogor"}).execute()
    assert users.get(userKey=made["id"]).execute()["orgUnitPath"] == "/32/3201-bogor/20100002"
    # an org unit with users in it stays
    err = refused(ous.delete(customerId=c, orgUnitPath="32/3201-bogor/20100002"))
    assert err["code"] == 400
    users.delete(userKey=made["id"]).execute()
    ous.delete(customerId=c, orgUnitPath="32/3201-bogor/20100002").execute()
    assert refused(ous.get(customerId=c, orgUnitPath="32/3201-bogor/20100002"))["code"] == 404


# --- users.list: paging, queries, field masks -------------------------------------------


def test_list_pages_with_field_masks(google_standin, directory):
    google_standin.seed(
        [{**user(f"s{i:04d}"), "orgUnitPath": f"/32/{3201 + i % 3}"} for i in range(1234)]
    )
    users = directory.users()
    req = users.list(
        customer="my_customer",
        maxResults=500,
        orderBy="email",
        fields="users(primaryEmail,orgUnitPath),nextPageToken",
    )
    pages = []
    while req is not None:
        page = req.execute()
        pages.append(page)
        req = users.list_next(req, page)
    assert [len(p["users"]) for p in pages] == [500, 500, 234]
    assert "nextPageToken" not in pages[-1]
    emails = [u["primaryEmail"] for p in pages for u in p["users"]]
    assert emails == sorted(emails) and len(set(emails)) == 1234
    assert all(set(u) == {"primaryEmail", "orgUnitPath"} for p in pages for u in p["users"])
    assert set(pages[0]) == {"users", "nextPageToken"}

    # orgUnitPath= matches the org unit and everything under it
    in_3202 = users.list(
        customer="my_customer",
        query="orgUnitPath='/32/3202'",
        maxResults=500,
        fields="users(primaryEmail)",
    ).execute()
    assert len(in_3202["users"]) == 411
    under_32 = users.list(
        customer="my_customer",
        query="orgUnitPath='/32'",
        maxResults=10,
        fields="users/primaryEmail,nextPageToken",
    ).execute()
    assert len(under_32["users"]) == 10 and "nextPageToken" in under_32
    assert under_32["users"][0] == {"primaryEmail": f"s0000@{D}"}

    # email:PREFIX* and an exact e-mail
    pref = users.list(customer="my_customer", query="email:s012*", maxResults=500).execute()
    assert [u["primaryEmail"] for u in pref["users"]] == [f"s{i:04d}@{D}" for i in range(120, 130)]
    exact = users.list(domain=D, query=f"email={emails[7]}").execute()
    assert [u["primaryEmail"] for u in exact["users"]] == [emails[7]]

    # suspended ones only
    users.patch(userKey=emails[3], body={"suspended": True}).execute()
    susp = users.list(customer="my_customer", query="isSuspended=true").execute()
    assert [u["primaryEmail"] for u in susp["users"]] == [emails[3]]


def test_list_refusals(directory):
    users = directory.users()
    assert refused(users.list())["code"] == 400  # neither customer nor domain
    assert refused(users.list(customer="my_customer", maxResults=501))["code"] == 400
    assert refused(users.list(customer="my_customer", pageToken="bukan-token"))["code"] == 400
    err = refused(users.list(customer="my_customer", fields="users(nik)"))
    assert err["errors"][0]["reason"] == "invalidParameter"
    assert refused(users.list(customer="my_customer", query="orgUnitPath='/tidak'"))["code"] == 400
    assert refused(users.list(domain="gmail.com"))["code"] == 403


def test_a_page_token_survives_writes_between_pages(google_standin, directory):
    google_standin.seed([user(f"p{i:03d}") for i in range(300)])
    users = directory.users()
    first = users.list(customer="my_customer", maxResults=100).execute()
    users.delete(userKey=f"p050@{D}").execute()  # already listed
    users.delete(userKey=f"p150@{D}").execute()  # not yet listed
    users.insert(body=user("p2999")).execute()  # sorts after p299
    rest = []
    token = first["nextPageToken"]
    while token:
        page = users.list(customer="my_customer", maxResults=100, pageToken=token).execute()
        rest += [u["primaryEmail"] for u in page["users"]]
        token = page.get("nextPageToken")
    assert f"p150@{D}" not in rest and f"p2999@{D}" in rest
    assert len(rest) == 200  # 199 left of p100-p299, and p2999


# --- batch -------------------------------------------------------------------------------


def test_batch_of_a_thousand(google_standin, directory):
    results = {}
    batch = google_standin.batch(lambda rid, resp, exc: results.__setitem__(rid, (resp, exc)))
    for i in range(999):
        batch.add(directory.users().insert(body=user(f"b{i:03d}")), request_id=f"akun-{i}")
    batch.add(directory.users().insert(body=user("b000")), request_id="kembar")
    batch.execute()
    assert len(results) == 1000
    assert all(results[f"akun-{i}"][1] is None for i in range(999))
    assert results["akun-5"][0]["primaryEmail"] == f"b005@{D}"
    resp, exc = results["kembar"]
    assert resp is None and exc.resp.status == 409
    assert error_of(exc)["errors"][0]["reason"] == "duplicate"
    st = google_standin.stats()
    assert st["batches"] == 1 and st["batch_calls"] == 1000 and st["calls_served"] == 1000
    assert st["users"] == 999
    with pytest.raises(BatchError):  # the client itself stops at 1,000
        batch.add(directory.users().get(userKey="x"))


def test_batch_mixes_methods_and_answers_deletes(google_standin, directory):
    made = directory.users().insert(body=user("hapus")).execute()
    results = {}
    batch = google_standin.batch(lambda rid, resp, exc: results.__setitem__(rid, (resp, exc)))
    batch.add(directory.users().delete(userKey=made["id"]), request_id="hapus")
    batch.add(directory.users().get(userKey=made["id"]), request_id="cari")
    batch.add(
        directory.users().list(customer="my_customer", fields="nextPageToken"), request_id="daftar"
    )
    batch.add(
        directory.orgunits().insert(
            customerId="my_customer", body={"name": "x", "parentOrgUnitPath": "/"}
        ),
        request_id="ou",
    )
    batch.execute()
    assert results["hapus"] == ("", None)
    assert results["cari"][1].resp.status == 404  # in order: the delete went first
    assert results["daftar"] == ({}, None)
    assert results["ou"][0]["orgUnitPath"] == "/x"


def _raw_batch(standin, parts: list[str], token: str | None, boundary="===b==="):
    body = "".join(f"--{boundary}\r\n{p}\r\n" for p in parts) + f"--{boundary}--"
    headers = {"Content-Type": f'multipart/mixed; boundary="{boundary}"'}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.post(standin.batch_uri, data=body.encode(), headers=headers, timeout=30)


def _token(standin) -> str:
    creds = standin.credentials()
    creds.refresh(google.auth.transport.requests.Request())
    return creds.token


def test_batch_format_by_hand(google_standin):
    """Google's documented wire format: CRLF lines, the outer Authorization for the parts,
    Content-ID answered as response-<id>."""
    token = _token(google_standin)
    part = (
        "Content-Type: application/http\r\nContent-ID: <item1>\r\n\r\n"
        "POST /admin/directory/v1/users HTTP/1.1\r\nContent-Type: application/json\r\n\r\n"
        + json.dumps(user("mentah"))
    )
    r = _raw_batch(google_standin, [part], token)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("multipart/mixed; boundary=")
    assert "Content-ID: <response-item1>" in r.text
    assert "HTTP/1.1 200 OK" in r.text and f"mentah@{D}" in r.text
    # no token at all: each part is refused with 401, the batch itself is answered
    r = _raw_batch(google_standin, [part.replace("mentah", "lagi")], None)
    assert r.status_code == 200 and "HTTP/1.1 401 Unauthorized" in r.text
    assert '"reason": "authError"' in r.text
    # 1,001 parts is over Google's limit
    get = (
        "Content-Type: application/http\r\n\r\n"
        "GET /admin/directory/v1/users/x@siswa.sd.belajar.test HTTP/1.1\r\n\r\n"
    )
    r = _raw_batch(google_standin, [get] * 1001, token)
    assert r.status_code == 400
    # not multipart, or parts that are not HTTP requests
    r = requests.post(
        google_standin.batch_uri,
        data=b"{}",
        timeout=30,
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == 400
    r = _raw_batch(google_standin, ["Content-Type: text/plain\r\n\r\nhalo"], token)
    assert r.status_code == 400
    r = _raw_batch(
        google_standin, ["Content-Type: application/http\r\n\r\nBREW /kopi HTTP/1.1"], token
    )
    assert r.status_code == 400
    assert google_standin.stats()["users"] == 1


# --- OAuth: the service-account JWT grant -------------------------------------------------


def _assertion(standin, private_pem=None, **claims) -> str:
    signer = google.auth.crypt.RSASigner.from_string(
        (private_pem or standin.private_key).decode(), key_id="k1"
    )
    now = int(time.time())
    payload = {
        "iss": CLIENT_EMAIL,
        "sub": ADMIN,
        "aud": "https://oauth2.googleapis.com/token",
        "scope": " ".join(SCOPES),
        "iat": now,
        "exp": now + 3600,
    }
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    return google.auth.jwt.encode(signer, payload).decode()


def _grant(standin, assertion, grant_type="urn:ietf:params:oauth:grant-type:jwt-bearer"):
    return requests.post(
        standin.token_uri, data={"grant_type": grant_type, "assertion": assertion}, timeout=30
    )


def test_the_token_endpoint_checks_the_assertion(google_standin):
    ok = _grant(google_standin, _assertion(google_standin))
    assert ok.status_code == 200
    assert ok.json()["token_type"] == "Bearer" and ok.json()["expires_in"] > 3000

    def refusal(resp):
        return resp.status_code, resp.json()["error"]

    now = int(time.time())
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    assert refusal(_grant(google_standin, _assertion(google_standin, other))) == (
        400,
        "invalid_grant",
    )
    tampered = _assertion(google_standin).split(".")
    forged = _assertion(google_standin, sub="kepala@belajar.test").split(".")
    tampered[1] = forged[1]  # someone else's claims under the admin's signature
    assert refusal(_grant(google_standin, ".".join(tampered))) == (400, "invalid_grant")
    assert refusal(_grant(google_standin, "a.b")) == (400, "invalid_grant")
    assert refusal(_grant(google_standin, _assertion(google_standin, exp=now - 10))) == (
        400,
        "invalid_grant",
    )
    assert refusal(_grant(google_standin, _assertion(google_standin, exp=now + 7200))) == (
        400,
        "invalid_grant",
    )
    assert refusal(_grant(google_standin, _assertion(google_standin, iat=now + 3000))) == (
        400,
        "invalid_grant",
    )
    assert refusal(_grant(google_standin, _assertion(google_standin, aud="https://x/token"))) == (
        400,
        "invalid_grant",
    )
    assert refusal(
        _grant(google_standin, _assertion(google_standin, iss="lain@x.iam.gserviceaccount.com"))
    ) == (401, "invalid_client")
    assert refusal(_grant(google_standin, _assertion(google_standin, sub="admin@gmail.com"))) == (
        400,
        "invalid_grant",
    )
    # domain-wide delegation covers only the scopes the admin entered
    gmail = "https://mail.google.com/"
    assert refusal(_grant(google_standin, _assertion(google_standin, scope=gmail))) == (
        401,
        "unauthorized_client",
    )
    assert refusal(_grant(google_standin, _assertion(google_standin, scope=None))) == (
        400,
        "invalid_scope",
    )
    assert refusal(_grant(google_standin, _assertion(google_standin), grant_type="password")) == (
        400,
        "unsupported_grant_type",
    )
    r = _grant(google_standin, _assertion(google_standin, other))
    assert r.json()["error_description"] == "Invalid JWT Signature."
    assert google_standin.stats()["tokens_refused"] == 13


def test_credentials_signed_with_another_key_get_no_token(google_standin):
    from google.oauth2 import service_account

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    info = {**google_standin.service_account_info(), "private_key": other.decode()}
    creds = service_account.Credentials.from_service_account_info(
        info, scopes=SCOPES, subject=ADMIN
    )
    with pytest.raises(google.auth.exceptions.RefreshError, match="Invalid JWT Signature"):
        google_standin.directory(creds).users().get(userKey=f"x@{D}").execute()
    assert google_standin.stats()["calls_served"] == 0


def test_every_call_needs_a_valid_bearer_token(google_standin, directory):
    url = google_standin.url + f"/admin/directory/v1/users/x@{D}"
    for headers in ({}, {"Authorization": "Bearer ya29.palsu"}, {"Authorization": "Basic eDp5"}):
        r = requests.get(url, headers=headers, timeout=30)
        assert r.status_code == 401
        err = r.json()["error"]
        assert err["status"] == "UNAUTHENTICATED"
        assert err["errors"][0]["reason"] == "authError"
    # an expired token: google-auth refreshes it on the 401 and the call goes through
    directory.users().insert(body=user("kedaluwarsa")).execute()
    for grant in google_standin.server.grants.values():
        grant.expires = 0
    assert directory.users().get(userKey=f"kedaluwarsa@{D}").execute()
    assert google_standin.stats()["tokens_issued"] == 2


def test_the_delegated_subject_must_be_an_admin_and_scopes_must_cover_the_method(
    google_standin,
):
    as_teacher = google_standin.directory(google_standin.credentials(subject=f"guru@{D}"))
    err = refused(as_teacher.users().get(userKey=f"x@{D}"))
    assert err["code"] == 403 and err["errors"][0]["reason"] == "forbidden"
    no_subject = google_standin.directory(google_standin.credentials(subject=None))
    assert refused(no_subject.users().list(customer="my_customer"))["code"] == 403
    readonly = google_standin.directory(
        google_standin.credentials(
            scopes=["https://www.googleapis.com/auth/admin.directory.user.readonly"]
        )
    )
    assert readonly.users().list(customer="my_customer").execute()["kind"]
    err = refused(readonly.users().insert(body=user("baca")))
    assert err["code"] == 403 and err["errors"][0]["reason"] == "insufficientPermissions"


# --- quota -------------------------------------------------------------------------------


def test_quota_per_minute_refuses_with_user_rate_limit_exceeded(google_standin, directory):
    google_standin.set_quota(10)
    users = directory.users()
    for i in range(6):
        users.insert(body=user(f"q{i}")).execute()
    results = {}
    batch = google_standin.batch(lambda rid, resp, exc: results.__setitem__(rid, exc))
    for i in range(6, 12):
        batch.add(users.insert(body=user(f"q{i}")), request_id=str(i))
    batch.execute()
    refusals = [e for e in results.values() if e is not None]
    assert len(refusals) == 2  # 4 left of the 10, inside the batch too
    err = error_of(refusals[0])
    assert refusals[0].resp.status == 403
    assert err["errors"][0] == {
        "message": "User Rate Limit Exceeded",
        "domain": "usageLimits",
        "reason": "userRateLimitExceeded",
    }
    err = refused(users.get(userKey=f"q0@{D}"))
    assert err["errors"][0]["reason"] == "userRateLimitExceeded"
    st = google_standin.stats()
    assert st["calls_served"] == 10 and st["refused_quota"] == 3 and st["users"] == 10
    # Per minute of the clock (the calls may straddle two on a slow machine).
    assert sum(m["served"] for m in st["per_minute"]) == 10
    assert sum(m["refused_quota"] for m in st["per_minute"]) == 3
    google_standin.set_quota(None)
    assert users.get(userKey=f"q0@{D}").execute()


def test_the_quota_window_rolls(google_standin):
    from standins.google.server import Quota

    q = Quota(3)
    assert [q.take(1000.0 + i * 0.1) for i in range(4)] == [True, True, True, False]
    assert q.take(1059.5) is False
    assert q.take(1060.0) is True  # the first second's calls left the window


# --- faults ------------------------------------------------------------------------------


def test_backend_errors_next_n_and_share(google_standin, directory):
    google_standin.set_faults("backend=next:2")
    users = directory.users()
    for _ in range(2):
        err = refused(users.insert(body=user("gagal")))
        assert err["code"] == 503 and err["errors"][0]["reason"] == "backendError"
    assert users.insert(body=user("gagal")).execute()
    google_standin.set_faults({"backend": {"share": 1.0}})
    results = {}
    batch = google_standin.batch(lambda rid, resp, exc: results.__setitem__(rid, exc))
    for i in range(5):
        batch.add(users.get(userKey=f"gagal@{D}"), request_id=str(i))
    batch.execute()
    assert {e.resp.status for e in results.values()} == {503}
    google_standin.set_faults(None)
    # the client's own retries get through once the fault is gone
    google_standin.set_faults("backend=next:1")
    assert users.get(userKey=f"gagal@{D}").execute(num_retries=2)
    assert google_standin.stats()["faults_fired"]["backend"] == 8


def test_quota_exceeded_fault(google_standin, directory):
    google_standin.set_faults("quota=next:1")
    err = refused(directory.users().list(customer="my_customer"))
    assert err["code"] == 403 and err["errors"][0]["reason"] == "quotaExceeded"


def test_timeout(google_standin):
    google_standin.set_faults("timeout=next:1,timeout_seconds=3")
    slow = google_standin.directory(timeout=0.5)
    t0 = time.monotonic()
    with pytest.raises(TimeoutError):
        slow.users().list(customer="my_customer").execute(num_retries=0)
    assert time.monotonic() - t0 < 2.5
    assert slow.users().list(customer="my_customer").execute()["kind"]
    assert google_standin.stats()["faults_fired"] == {"timeout": 1}


def _insert_batch(standin, directory, names):
    results = {}
    batch = standin.batch(lambda rid, resp, exc: results.__setitem__(rid, (resp, exc)))
    for n in names:
        batch.add(directory.users().insert(body=user(n)), request_id=n)
    batch.execute()
    return results


def test_dropped_before_the_answer_nothing_happened(google_standin, directory):
    # httplib2 retries a dropped connection once by itself: two drops reach the product
    google_standin.set_faults("drop_before=next:2")
    with pytest.raises((ConnectionError, httplib2.HttpLib2Error)):
        _insert_batch(google_standin, directory, ["d1", "d2"])
    assert google_standin.stats()["users"] == 0


def test_dropped_after_the_work_a_resend_meets_409(google_standin, directory):
    """The batch ran, the answer was lost, httplib2 sent it again: every insert now answers
    409 although the users are there (the product must adopt them, not retry forever)."""
    google_standin.set_faults("drop_after=next:1")
    results = _insert_batch(google_standin, directory, ["a1", "a2", "a3"])
    assert {exc.resp.status for _, exc in results.values()} == {409}
    st = google_standin.stats()
    assert st["users"] == 3 and st["batches"] == 2 and st["faults_fired"] == {"drop_after": 1}


def test_dropped_mid_answer(google_standin, directory):
    google_standin.set_faults("drop_mid=next:1")  # a short read: httplib2 does not retry
    with pytest.raises((ConnectionError, http.client.HTTPException, httplib2.HttpLib2Error)):
        _insert_batch(google_standin, directory, ["m1", "m2", "m3"])
    # the work was done; only the answer was cut short
    assert google_standin.stats()["users"] == 3
    assert google_standin.stats()["faults_fired"] == {"drop_mid": 1}


def test_bad_fault_specs_are_refused(google_standin):
    with pytest.raises(requests.HTTPError):
        r = requests.post(
            google_standin.url + "/_standin/faults", json={"spec": "petir=0.5"}, timeout=30
        )
        r.raise_for_status()
    r = requests.post(
        google_standin.url + "/_standin/faults", json={"backend": {"share": 2}}, timeout=30
    )
    assert r.status_code == 400


# --- routes and hostile input ------------------------------------------------------------


def test_routes_come_from_the_discovery_document(google_standin, directory):
    err = refused(directory.users().makeAdmin(userKey=f"x@{D}", body={"status": True}))
    assert err["code"] == 501  # in the document, not in the stand-in
    err = refused(directory.groups().list(customer="my_customer"))
    assert err["code"] == 403  # and our token's scopes don't cover groups
    token = _token(google_standin)
    auth = {"Authorization": f"Bearer {token}"}
    r = requests.get(google_standin.url + "/admin/directory/v2/users", headers=auth, timeout=30)
    assert r.status_code == 404
    r = requests.get(
        google_standin.url + "/admin/directory/v1/users?customer=my_customer&petir=1",
        headers=auth,
        timeout=30,
    )
    assert r.status_code == 400 and "Cannot bind query parameter" in r.json()["error"]["message"]
    r = requests.get(
        google_standin.url + "/admin/directory/v1/users?customer=my_customer&orderBy=nik",
        headers=auth,
        timeout=30,
    )
    assert r.status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe{",
        b'{"primaryEmail": "x\x00@siswa.sd.belajar.test"}',
        b"[1, 2]",
        b"{",
        b'{"suspended": NaN}',
        b"[" * 100000 + b"]" * 100000,
    ],
)
def test_hostile_bodies(google_standin, body):
    token = _token(google_standin)
    r = requests.post(
        google_standin.url + "/admin/directory/v1/users",
        data=body,
        timeout=30,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert r.status_code == 400 and r.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert google_standin.stats()["users"] == 0


def test_an_oversized_request_is_refused_unread(google_standin):
    import socket

    host, port = google_standin.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(
            b"POST /admin/directory/v1/users HTTP/1.1\r\nHost: x\r\n"
            b"Content-Length: 999999999999\r\n\r\n"
        )
        answer = s.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413")


# --- the command line ---------------------------------------------------------------------


def test_python_m_standins_google():
    standin = start_subprocess("--quota-per-minute", "3", "--faults", "backend=next:1")
    try:
        users = standin.directory().users()
        err = refused(users.list(customer="my_customer"))
        assert err["errors"][0]["reason"] == "backendError"
        assert users.list(customer="my_customer").execute()["kind"] == "admin#directory#users"
        users.insert(body=user("cli")).execute()
        err = refused(users.get(userKey=f"cli@{D}"))
        assert err["errors"][0]["reason"] == "userRateLimitExceeded"
        st = standin.stats()
        assert (st["calls_served"], st["refused_quota"], st["users"]) == (3, 1, 1)
    finally:
        standin.stop()
    assert standin.process.returncode == 0


# --- sign-in in password-sync mode ---------------------------------------------------------


def test_sha512_crypt_matches_the_specification():
    from standins.google.passwords import sha512_crypt

    assert sha512_crypt("Hello world!", "saltstring") == CRYPT_SHA512
    assert sha512_crypt("Hello world!", "saltstringsaltstring", 10000) == CRYPT_SHA512_ROUNDS


def test_signin_checks_the_last_password_sent_and_refuses_suspended(google_standin, directory):
    users = directory.users()
    made = users.insert(body=user("masuk", password=CRYPT_SHA512, hashFunction="crypt")).execute()
    email = f"masuk@{D}"
    assert google_standin.signin(email, "Hello world!") == {"ok": True, "reason": ""}
    assert google_standin.signin(email, "hello world!")["reason"] == "wrong_password"
    assert google_standin.signin(f"MASUK@{D}", "Hello world!")["ok"]
    sha1 = "2aae6c35c94fcfb415dbe95f408b9ce91ee846ed"  # "hello world"
    users.patch(userKey=made["id"], body={"password": sha1, "hashFunction": "SHA-1"}).execute()
    assert google_standin.signin(email, "hello world")["ok"]
    assert not google_standin.signin(email, "Hello world!")["ok"]
    users.patch(userKey=made["id"], body={"suspended": True}).execute()
    assert google_standin.signin(email, "hello world") == {"ok": False, "reason": "suspended"}
    assert google_standin.signin(f"tidak@{D}", "x")["reason"] == "unknown_user"
    r = requests.post(google_standin.url + "/_standin/signin", json={"email": email}, timeout=30)
    assert r.status_code == 400


# --- more of users.list -------------------------------------------------------------------


def test_list_by_name_custom_field_and_order(google_standin, directory):
    directory.schemas().insert(customerId="my_customer", body=AKUN_SCHEMA).execute()
    people = [
        ("andi", "Andi", "Wijaya", "siswa"),
        ("bella", "Bella", "Putri", "guru"),
        ("citra", "Citra", "Andini", "siswa"),
    ]
    for local, given, family, peran in people:
        directory.users().insert(
            body=user(
                local,
                name={"givenName": given, "familyName": family},
                customSchemas={"Akun": {"peran": peran}},
            )
        ).execute()

    def emails(**kw):
        page = directory.users().list(customer="my_customer", **kw).execute()
        return [u["primaryEmail"].split("@")[0] for u in page.get("users", ())]

    assert emails(query="Akun.peran=siswa") == ["andi", "citra"]
    assert emails(query="Akun.peran=siswa givenName:Cit*") == ["citra"]
    assert emails(query="familyName='Putri'") == ["bella"]
    assert emails(query="name:andi") == ["andi", "citra"]  # given or family name, in part
    assert emails(query="andi") == ["andi", "citra"]  # no field: name or e-mail
    assert emails(orderBy="familyName") == ["citra", "bella", "andi"]
    assert emails(orderBy="email", sortOrder="DESCENDING") == ["citra", "bella", "andi"]
    assert emails(orderBy="givenName", maxResults=2) == ["andi", "bella"]
    assert (
        refused(directory.users().list(customer="my_customer", query="Akun.nik=1"))["code"] == 400
    )
    assert (
        refused(directory.users().list(customer="my_customer", query="isSuspended=ya"))["code"]
        == 400
    )


def test_schema_patch_update_delete(directory):
    schemas = directory.schemas()
    schemas.insert(customerId="my_customer", body=AKUN_SCHEMA).execute()
    patched = schemas.patch(
        customerId="my_customer", schemaKey="Akun", body={"displayName": "Akun belajar"}
    ).execute()
    assert patched["displayName"] == "Akun belajar" and len(patched["fields"]) == 6
    one = [{"fieldName": "npsn", "fieldType": "STRING", "displayName": "NPSN"}]
    updated = schemas.update(
        customerId="my_customer", schemaKey="Akun", body={"fields": one}
    ).execute()
    assert [f["fieldName"] for f in updated["fields"]] == ["npsn"]
    assert schemas.delete(customerId="my_customer", schemaKey="Akun").execute() == ""
    assert refused(schemas.get(customerId="my_customer", schemaKey="Akun"))["code"] == 404
    assert "schemas" not in schemas.list(customerId="my_customer").execute()


def test_move_an_org_unit_under_another_parent(directory):
    ous, c = directory.orgunits(), "my_customer"
    for name, parent in (("32", "/"), ("3201", "/32"), ("33", "/"), ("20100001", "/32/3201")):
        ous.insert(customerId=c, body={"name": name, "parentOrgUnitPath": parent}).execute()
    made = directory.users().insert(body=user("pindah", orgUnitPath="/32/3201/20100001")).execute()
    moved = ous.patch(
        customerId=c, orgUnitPath="32/3201", body={"parentOrgUnitPath": "/33"}
    ).execute()
    assert moved["orgUnitPath"] == "/33/3201" and moved["parentOrgUnitPath"] == "/33"
    assert (
        ous.get(customerId=c, orgUnitPath="33/3201/20100001").execute()["parentOrgUnitPath"]
        == "/33/3201"
    )
    assert directory.users().get(userKey=made["id"]).execute()["orgUnitPath"] == (
        "/33/3201/20100001"
    )
    listed = directory.users().list(customer=c, query="orgUnitPath='/33'").execute()
    assert [u["id"] for u in listed["users"]] == [made["id"]]
    # not under itself
    err = refused(ous.patch(customerId=c, orgUnitPath="33", body={"parentOrgUnitPath": "/33/3201"}))
    assert err["code"] == 400


# --- the directory under load -------------------------------------------------------------


def test_concurrent_inserts_of_the_same_users_make_each_once(google_standin):
    import threading

    statuses = []

    def worker():
        d = google_standin.directory()
        users = d.users()
        for i in range(40):
            try:
                users.insert(body=user(f"sama{i}")).execute(num_retries=0)
                statuses.append(200)
            except HttpError as e:
                statuses.append(e.resp.status)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(set(statuses)) == [200, 409]
    assert statuses.count(200) == 40 and statuses.count(409) == 200
    assert google_standin.stats()["users"] == 40


def test_email_order_stays_right_through_merges_renames_and_deletes():
    """The paging index (a sorted list plus recent additions) against a plain sort, across
    more than one merge."""
    import random

    from standins.google.directory import Directory

    d = Directory()
    rng = random.Random(15)
    live: dict[str, str] = {}

    def body(email):
        return {
            "primaryEmail": email,
            "name": {"givenName": "A", "familyName": "B"},
            "password": "rahasia-sekali",
        }

    def listed():
        out, token = [], None
        while True:
            _, page = d.users_list(
                {
                    "customer": "my_customer",
                    "maxResults": "500",
                    **({"pageToken": token} if token else {}),
                },
                None,
            )
            out += [u["primaryEmail"] for u in page.get("users", ())]
            token = page.get("nextPageToken")
            if not token:
                return out

    for step in range(12000):
        r = rng.random()
        if r < 0.7 or not live:
            email = f"u{rng.randrange(10**6):06d}@{D}"
            if email not in d.by_email:  # not a user's address nor an old one (alias)
                live[d.insert_user(body(email))["id"]] = email
        elif r < 0.85:
            uid = rng.choice(list(live))
            d.users_delete({"userKey": uid}, None)
            del live[uid]
        else:
            uid = rng.choice(list(live))
            email = f"r{rng.randrange(10**6):06d}@{D}"
            if email not in d.by_email:
                d.users_patch({"userKey": uid}, {"primaryEmail": email})
                live[uid] = email
        if step % 3000 == 2999:
            assert listed() == sorted(live.values())
    assert listed() == sorted(live.values())
