"""The operator portal's pages. Thin: authorization (scope), then queries and actions.

Every view that takes an NPSN or a region code checks it against the signed-in admin's scope
on the server and answers 404 for anything outside it, whether it exists or not.
"""

import functools

from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from akun.accounts.api import Account, TransitionNotAllowed
from akun.audit.api import Action, AuditEvent
from akun.core.replica import reading_from_replica
from akun.identity.api import safe_next
from akun.portal import actions, explain, queries, reset_policy, totp
from akun.portal import scope as scopes
from akun.portal.forms import (
    AccountFilterForm,
    CodeForm,
    DownloadForm,
    RecoveryForm,
    ResetForm,
    WhyForm,
)
from akun.portal.middleware import mark_passed, passed
from akun.provisioning import api as provisioning_api
from akun.roster.api import Sekolah

PAGE_SIZE = 50


def _no_store(response):
    response["Cache-Control"] = "no-store"
    return response


def admin_view(view):
    """Signed in, an admin role, second factor passed, a non-empty scope; never cached."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect(
                reverse("identity:signin") + "?" + urlencode({"next": request.get_full_path()})
            )
        if not scopes.is_admin(request.user) or scopes.request_scope(request).empty:
            raise PermissionDenied
        if not passed(request):  # the middleware sends these to the TOTP pages first
            raise PermissionDenied
        return _no_store(view(request, *args, **kwargs))

    return wrapper


def school_or_404(request, npsn: str):
    """(school, its sekolah ids) if in the admin's scope; 404 otherwise, existing or not."""
    rows = [
        s
        for s in Sekolah.objects.filter(npsn=npsn)
        if scopes.request_scope(request).covers_school(s)
    ]
    if not rows:
        raise Http404
    rows.sort(key=lambda s: s.departed_at is not None)
    return rows[0], [s.pk for s in rows]


def region_or_404(request, kode: str) -> str:
    level = scopes.region_level(kode)
    if not level or not scopes.request_scope(request).covers_region(kode):
        raise Http404
    return level


def _nav(request, sekolah=None, active=""):
    scope = scopes.request_scope(request)
    return {"sekolah": sekolah, "scope": scope, "roots": scope.roots(), "active": active}


# --- Second factor ---------------------------------------------------------------------------


@never_cache
def mfa_view(request):
    """Set up TOTP (first sign-in) or check a code; recovery codes as the fallback."""
    if not request.user.is_authenticated:
        return redirect("identity:signin")
    account = request.user
    if not scopes.is_admin(account):
        return redirect("identity:akun_saya")
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next")) or reverse(
        "portal:home"
    )
    if passed(request):
        return redirect(next_url)
    device = totp.device_of(account)
    enrolled = bool(device and device.confirmed_at)
    form = CodeForm(request.POST if "code" in request.POST else None)
    recovery = RecoveryForm(request.POST if "recovery_code" in request.POST else None)
    error = ""
    status = 200
    if request.method == "POST":
        check, method = None, "totp"
        if enrolled and recovery.is_valid():
            method = "recovery_code"
            check = totp.do_check_second_factor(
                account, recovery_code=recovery.cleaned_data["recovery_code"], actor=account.user_id
            )
        elif form.is_valid() and device is not None:
            check = totp.do_check_second_factor(
                account, code=form.cleaned_data["code"], actor=account.user_id
            )
        if check is not None and check.ok:
            request.session.cycle_key()
            mark_passed(request)
            actions.record_sign_in(account, method=method)
            if check.recovery_codes:
                return _no_store(
                    render(
                        request,
                        "portal/recovery_codes.html",
                        {"codes": list(check.recovery_codes), "next": next_url, "first": True},
                    )
                )
            return redirect(next_url)
        if check is not None and check.locked:
            # Locked for the account, not the session: signing in again does not help.
            logout(request)
            minutes = max(1, (check.wait + 59) // 60)
            messages.error(
                request,
                ngettext(
                    "Too many wrong codes: the second step of this account is locked for "
                    "%(n)d minute. Try again later, or ask your regional admin or the helpdesk.",
                    "Too many wrong codes: the second step of this account is locked for "
                    "%(n)d minutes. Try again later, or ask your regional admin or the helpdesk.",
                    minutes,
                )
                % {"n": minutes},
            )
            return redirect("identity:signin")
        if check is not None and check.refused:
            status = 429
            error = ngettext(
                "Too many wrong codes. Wait %(n)d second and try again.",
                "Too many wrong codes. Wait %(n)d seconds and try again.",
                check.wait,
            ) % {"n": check.wait}
        else:
            error = _("That code is not right. Check the time on your phone and try again.")
    secret = uri = qr = ""
    if not enrolled:
        if device is None or request.method == "GET" and "new" in request.GET:
            secret = totp.do_start_totp_enrollment(account, actor=account.user_id)
        else:
            secret = totp.secret_of(device)
        uri = totp.provisioning_uri(account, secret)
        qr = totp.qr_svg(uri)
    return _no_store(
        render(
            request,
            "portal/mfa.html",
            {
                "enrolled": enrolled,
                "form": CodeForm() if error else form,
                "recovery": RecoveryForm(),
                "error": error,
                "next": next_url,
                "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
                "uri": uri,
                "qr": qr,
            },
            status=status,
        )
    )


@admin_view
def security_view(request):
    codes = None
    if request.method == "POST":
        codes = totp.do_regenerate_recovery_codes(request.user, actor=request.user.user_id)
        return render(
            request,
            "portal/recovery_codes.html",
            {"codes": codes, "next": reverse("portal:security"), "first": False},
        )
    return render(
        request,
        "portal/security.html",
        {**_nav(request, active="security"), "left": totp.recovery_codes_left(request.user)},
    )


# --- Landing ---------------------------------------------------------------------------------


@admin_view
def home_view(request):
    scope = scopes.request_scope(request)
    roots = scope.roots()
    schools = list(Sekolah.objects.filter(pk__in=list(scope.sekolah_ids)).order_by("nama"))
    if len(schools) == 1 and not roots:
        return redirect("portal:school", npsn=schools[0].npsn)
    if len(roots) == 1 and not schools:
        return redirect("portal:region", kode=roots[0])
    regions = [(k, queries.region_name(k) if k != scopes.NATIONAL else "") for k in roots]
    return render(
        request, "portal/home.html", {**_nav(request), "schools": schools, "regions": regions}
    )


# --- A school --------------------------------------------------------------------------------


@admin_view
def school_view(request, npsn):
    sekolah, ids = school_or_404(request, npsn)
    counts = queries.school_counts(ids)
    deadline = queries.next_deadline(queries.deadlines(sekolah.pk))
    return render(
        request,
        "portal/school.html",
        {
            **_nav(request, sekolah, "school"),
            "counts": counts,
            "roles": queries.ROLES,
            "deadline": deadline,
            **_sync_block(ids),
        },
    )


def _sync_block(ids) -> dict:
    """The school's "Akun Google" block: counts by sync state, and the accounts that failed
    or wait with a reason (plain Indonesian), with a retry button."""
    if not provisioning_api.has_targets():
        return {}
    return {
        "sync_counts": provisioning_api.counts(sekolah_ids=ids),
        "sync_problems": provisioning_api.problems(ids, limit=SYNC_PROBLEMS),
    }


SYNC_PROBLEMS = 50
# A POST names at most one page of the list; ids are digits (no NULs, no huge numbers).
MAX_RETRY_IDS = SYNC_PROBLEMS


@admin_view
@require_POST
def sync_retry_view(request, npsn):
    """Retry the failed Google sync of some (or all) of the school's accounts. Ids of
    another school's accounts: 404, as for any object outside the admin's scope."""
    sekolah, ids = school_or_404(request, npsn)
    wanted = request.POST.getlist("account")
    if len(wanted) > MAX_RETRY_IDS or not all(v.isascii() and v.isdigit() and len(v) <= 18
                                              for v in wanted):  # fmt: skip
        return HttpResponse(status=400)
    if wanted:
        own = set(
            Account.objects.filter(pk__in=[int(v) for v in wanted], sekolah_id__in=ids).values_list(
                "pk", flat=True
            )
        )
        if own != {int(v) for v in wanted}:
            raise Http404
    elif request.POST.get("all") != "1":
        return HttpResponse(status=400)
    actor = request.user.user_id
    chosen = sorted(own) if wanted else None
    n = sum(provisioning_api.do_retry_sync(chosen, actor=actor, sekolah_id=pk) for pk in ids)
    messages.success(
        request,
        ngettext(
            "%(n)d account will be sent to Google again.",
            "%(n)d accounts will be sent to Google again.",
            n,
        )
        % {"n": n},
    )
    return redirect(reverse("portal:school", args=[sekolah.npsn]) + "#google")


@admin_view
def accounts_view(request, npsn):
    sekolah, ids = school_or_404(request, npsn)
    # A search by name, NISN or NUPTK is a POST: in a URL it would land in access logs,
    # proxies and browser history. Links keep the other filters (?state=issued); a ?q= is
    # not searched.
    posted = request.method == "POST"
    params = request.POST.copy() if posted else request.GET.copy()
    params.pop("csrfmiddlewaretoken", None)
    if not posted:
        params.pop("q", None)
    page_number = params.pop("page", [None])[-1]
    form = AccountFilterForm(params or None, rombels=queries.rombels(ids))
    data = form.cleaned_data if form.is_valid() else {}
    qs = queries.account_list(
        ids,
        q=data.get("q", ""),
        role=data.get("role", ""),
        rombel=data.get("rombel", ""),
        state=data.get("state", ""),
    )
    page = Paginator(qs, PAGE_SIZE).get_page(page_number)
    return render(
        request,
        "portal/accounts.html",
        {
            **_nav(request, sekolah, "accounts"),
            "form": form,
            "page": page,
            "query": "" if posted else params.urlencode(),
            "post_fields": [(k, v) for k, v in data.items() if v] if posted else None,
        },
    )


def _account_or_404(ids, pk) -> Account:
    account = (
        Account.objects.filter(pk=pk, sekolah_id__in=ids)
        .exclude(state=Account.State.DELETED)
        .first()
    )
    if account is None:
        raise Http404
    return account


def _reset_rule(request, account):
    sekolah = account.sekolah if account.sekolah_id else None
    return reset_policy.rule_for(scopes.request_scope(request), account, sekolah)


def _account_page(request, sekolah, ids, account, *, form=None, status=200):
    rule = _reset_rule(request, account)
    row = queries.account_list(ids).filter(pk=account.pk).first()
    return render(
        request,
        "portal/account.html",
        {
            **_nav(request, sekolah, "accounts"),
            "account": row,
            "form": form or ResetForm(needs_reason=rule.needs_reason),
            "state_allows_reset": account.state in (Account.State.ISSUED, Account.State.ACTIVE),
            "rule": rule,
        },
        status=status,
    )


@admin_view
def account_view(request, npsn, pk):
    sekolah, ids = school_or_404(request, npsn)
    return _account_page(request, sekolah, ids, _account_or_404(ids, pk))


@admin_view
@require_POST
def reset_view(request, npsn, pk):
    """Who may reset whom (reset_policy) is checked here and again in the action."""
    sekolah, ids = school_or_404(request, npsn)
    account = _account_or_404(ids, pk)
    rule = _reset_rule(request, account)
    if not rule.allowed:
        return _account_page(request, sekolah, ids, account, status=403)
    form = ResetForm(request.POST, needs_reason=rule.needs_reason)
    if not form.is_valid():
        if "reason" in form.errors:
            return _account_page(request, sekolah, ids, account, form=form, status=400)
        messages.error(request, _("Tick the box to confirm the reset."))
        return redirect("portal:account", npsn=npsn, pk=pk)
    try:
        password = actions.do_reset_password(
            account, by=request.user, reason=form.cleaned_data.get("reason", "")
        )
    except reset_policy.ResetRefused as e:
        messages.error(request, str(e))
        return _account_page(request, sekolah, ids, account, status=403)
    except TransitionNotAllowed:
        messages.error(
            request,
            _("This account is %(state)s: its password cannot be reset here.")
            % {"state": account.get_state_display()},
        )
        return redirect("portal:account", npsn=npsn, pk=pk)
    account.refresh_from_db()
    # Shown once, in this response only: not stored in the session, not cached.
    return render(
        request,
        "portal/reset_done.html",
        {**_nav(request, sekolah, "accounts"), "account": account, "password": password},
    )


@admin_view
def downloads_view(request, npsn):
    sekolah, ids = school_or_404(request, npsn)
    rombels = queries.rombels(ids)
    return render(
        request,
        "portal/downloads.html",
        {
            **_nav(request, sekolah, "downloads"),
            "form": DownloadForm(rombels=rombels),
            "rombels": rombels,
            # The OneRoster package: the operator's own schools only (akun.oneroster).
            "oneroster": sekolah.pk in scopes.request_scope(request).sekolah_ids,
        },
    )


def _download_params(request, ids):
    form = DownloadForm(request.GET, rombels=queries.rombels(ids))
    if not form.is_valid():
        raise Http404
    return form.cleaned_data["role"], form.cleaned_data.get("rombel", "")


def _filename(npsn, role, rombel, ext):
    parts = ["akun", npsn, role] + ([rombel] if rombel else [])
    safe = "-".join("".join(ch for ch in p if ch.isalnum()) for p in parts)
    return f"{safe}.{ext}"


@admin_view
def download_csv_view(request, npsn):
    sekolah, ids = school_or_404(request, npsn)
    role, rombel = _download_params(request, ids)
    content, _rows = actions.download_csv(
        sekolah, role=role, rombel=rombel, actor=request.user.user_id
    )
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{_filename(npsn, role, rombel, "csv")}"'
    )
    return response


@admin_view
def download_pdf_view(request, npsn):
    sekolah, ids = school_or_404(request, npsn)
    role, rombel = _download_params(request, ids)
    pdf, _n = actions.download_slips(
        sekolah,
        ids,
        role=role,
        rombel=rombel,
        signin_url=request.build_absolute_uri(reverse("identity:signin")),
        actor=request.user.user_id,
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="{_filename(npsn, role, rombel, "pdf")}"'
    )
    return response


@admin_view
def why_view(request, npsn):
    sekolah, ids = school_or_404(request, npsn)
    form = WhyForm(request.POST or None)  # a NIK or NISN is never put in a URL
    answers = None
    if form.is_valid():
        answers = explain.at_school(form.cleaned_data["q"], sekolah, ids, lang=get_language())
    return render(
        request,
        "portal/why.html",
        {**_nav(request, sekolah, "why"), "form": form, "answers": answers},
    )


def _audit_page(request, q):
    events = AuditEvent.objects.filter(q)
    action = request.GET.get("action", "")
    if action:
        events = events.filter(action=action)
    return Paginator(events.order_by("-at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))


@admin_view
def school_audit_view(request, npsn):
    sekolah, ids = school_or_404(request, npsn)
    user_ids = Account.objects.filter(sekolah_id__in=ids).values("user_id")
    # Sign-ins carry no school: they are found by the account's user ID.
    q = Q(npsn=npsn) | Q(action=Action.IDENTITY_SIGN_IN, object_id__in=user_ids)
    return render(
        request,
        "portal/audit.html",
        {**_nav(request, sekolah, "audit"), "page": _audit_page(request, q)},
    )


@admin_view
def audit_view(request):
    scope = scopes.request_scope(request)
    npsns = list(
        Sekolah.objects.filter(pk__in=list(scope.sekolah_ids)).values_list("npsn", flat=True)
    )
    q = scope.audit_q(npsns) | Q(actor=request.user.user_id)
    return render(
        request,
        "portal/audit.html",
        {**_nav(request, active="audit"), "page": _audit_page(request, q)},
    )


# --- Regions ---------------------------------------------------------------------------------

SORT_KEYS = list(queries.SORTS)


def _sorted_rows(request, kode):
    with reading_from_replica():  # counts that may lag a few seconds (AKUN_READ_REPLICA_URL)
        rows = queries.region_rows("" if kode == scopes.NATIONAL else kode)
    sort = request.GET.get("sort", "kode")
    if sort not in queries.SORTS:
        sort = "kode"
    desc = request.GET.get("dir") == "desc"
    rows.sort(key=queries.SORTS[sort], reverse=desc)
    return rows, sort, desc


def _sync_counts(rows) -> "provisioning_api.Counts":
    counts = provisioning_api.Counts()
    for r in rows:
        for state, n in r.sync.items():
            counts.add(state, n)
    return counts


@admin_view
def region_view(request, kode):
    level = region_or_404(request, kode)
    rows, sort, desc = _sorted_rows(request, kode)
    page = Paginator(rows, 100).get_page(request.GET.get("page"))
    child = {"national": "province", "province": "regency", "regency": "school"}[level]
    totals = queries.RegionRow(
        kode,
        "",
        sum(r.schools for r in rows),
        *(
            sum(getattr(r, f) for r in rows)
            for f in ("total", "issued", "active", "suspended", "deactivated")
        ),
    )
    sync_totals = None
    if provisioning_api.has_targets():
        # Kept by the statistics with the other counts (never a live count of 30M rows).
        sync_totals = _sync_counts(rows)
        for r in page:
            r.sync_counts = _sync_counts([r])
    parent = ""
    if level == "regency" and scopes.request_scope(request).covers_region(kode[:2]):
        parent = kode[:2]
    elif level == "province" and scopes.request_scope(request).covers_region(scopes.NATIONAL):
        parent = scopes.NATIONAL
    return render(
        request,
        "portal/region.html",
        {
            **_nav(request, active="region"),
            "kode": kode,
            "level": level,
            "child": child,
            "name": queries.region_name(kode),
            "page": page,
            "sort": sort,
            "desc": desc,
            "totals": totals,
            "sync_totals": sync_totals,
            "parent": parent,
            "columns": [
                ("kode", _("Code") if child != "school" else "NPSN"),
                ("nama", _("Name")),
                ("total", _("Accounts")),
                ("issued", _("issued")),
                ("active", _("active")),
                ("rate", _("Activation rate")),
            ],
        },
    )


@admin_view
def region_csv_view(request, kode):
    region_or_404(request, kode)
    rows, _sort, _desc = _sorted_rows(request, kode)
    content = actions.download_region_csv(kode, rows, actor=request.user.user_id)
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="wilayah-{kode}.csv"'
    return response
