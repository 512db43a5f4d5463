"""Butuh Bantuan's pages. Thin: forms, then answers/actions. The person's pages are public
(rate-limited); the agents' and operators' need an admin account past its second factor and
a helpdesk desk (agent region or the operator's school); a report outside it is a 404."""

import functools
import time

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from akun.accounts.api import Account
from akun.helpdesk import actions, agents, answers, limits, mail, numbers, screen, stats
from akun.helpdesk.forms import (
    CANNED,
    CATEGORY_LABELS,
    STATE_LABELS,
    AssignForm,
    CorrectionForm,
    DetailsForm,
    FileForm,
    LinkForm,
    LookupForm,
    MessageForm,
    NoteForm,
    OperatorFileForm,
    ReasonForm,
    ReplyForm,
    StartForm,
    StateForm,
    VerifyForm,
)
from akun.helpdesk.models import Message, Report, RosterCorrection
from akun.identity import api as identity_api
from akun.portal import api as portal_api
from akun.roster.api import PesertaDidik, Sekolah

ANSWER_SESSION = "helpdesk_answer"
TRACK_SESSION = "helpdesk_track"
PUBLIC_KINDS = (Message.Kind.PERSON, Message.Kind.REPLY, Message.Kind.SCHOOL)


def _no_store(response):
    response["Cache-Control"] = "no-store"
    return response


def _wait_error(wait: int) -> str:
    minutes = max(1, (wait + 59) // 60)
    return _("Too many requests. Try again in %(n)d minutes.") % {"n": minutes}


def _person(request):
    """The signed-in person (not an admin: their own account is not what they ask about)."""
    user = request.user
    if user.is_authenticated and not portal_api.is_admin(user):
        return user
    return None


# --- The person's pages ------------------------------------------------------------------------


@never_cache
def help_view(request):
    """Step 1: who and what; step 2: the details that category needs; step 3: the answer
    from the account's state, and only then the report form."""
    step = request.POST.get("step", "")
    start = StartForm(request.POST if step else None)
    signed_in = _person(request)
    context = {"start": start, "signed_in": signed_in, "step": "start"}
    if not step or not start.is_valid():
        return render(request, "helpdesk/help.html", context)
    who, category = start.cleaned_data["who"], start.cleaned_data["category"]
    context.update(who=who, category=category)
    details = DetailsForm(
        request.POST if step in ("answer", "file") else None,
        who=who,
        category=category,
        signed_in=signed_in is not None,
    )
    context.update(details=details, step="details")
    if step == "details" or not details.is_valid():
        return render(request, "helpdesk/help.html", context)
    data = details.cleaned_data
    if step == "answer":
        address = identity_api.client_address(request)
        wait = limits.spend([(limits.ANSWER_PER_ADDRESS, address)])
        if wait:
            context["error"] = _wait_error(wait)
            return render(request, "helpdesk/help.html", context, status=429)
        answer = answers.answer(
            who=who,
            category=category,
            details={**data, "tanggal_lahir": data.get("tanggal_lahir")},
            signed_in=signed_in,
            address=address,
        )
        sa = actions.do_record_self_answer(
            who=who, category=category, kode_wilayah=answer.kode_wilayah, outcome=answer.outcome
        )
        request.session[ANSWER_SESSION] = {
            "who": who,
            "category": category,
            "lines": answer.lines,
            "outcome": answer.outcome,
            "account": answer.account.pk if answer.account is not None else None,
            "verified": answer.verified,
            "npsn": answer.npsn,
            "kode_wilayah": answer.kode_wilayah,
            "self_answer": sa.pk,
        }
        initial = {}
        if signed_in is not None:
            initial = {"nama": signed_in.nama, "contact_email": signed_in.recovery_email}
        elif data.get("nama"):
            initial = {"nama": data["nama"]}
        context.update(step="answer", lines=answer.lines, file=FileForm(initial=initial))
        return render(request, "helpdesk/help.html", context)
    # step == "file": the answer shown must be the one in this session
    saved = request.session.get(ANSWER_SESSION)
    if not saved or saved["who"] != who or saved["category"] != category:
        context["error"] = _("Please check your details again first.")
        return render(request, "helpdesk/help.html", context)
    form = FileForm(request.POST)
    context.update(step="answer", lines=saved["lines"], file=form)
    if not form.is_valid():
        return render(request, "helpdesk/help.html", context)
    f = form.cleaned_data
    address = identity_api.client_address(request)
    contact = f["contact_email"] or identity_api.normalize_phone(f["contact_phone"])
    wait = limits.spend([(limits.FILE_PER_ADDRESS, address), (limits.FILE_PER_CONTACT, contact)])
    if wait:
        context["error"] = _wait_error(wait)
        return render(request, "helpdesk/help.html", context, status=429)
    answer = answers.Answer(
        lines=saved["lines"],
        outcome=saved["outcome"],
        account=Account.objects.filter(pk=saved["account"]).first() if saved["account"] else None,
        verified=saved["verified"],
        npsn=saved["npsn"],
        kode_wilayah=saved["kode_wilayah"],
    )
    report = actions.do_file_report(
        who=who,
        category=category,
        nama=f["nama"],
        contact_email=f["contact_email"],
        contact_phone=f["contact_phone"],
        description=f["description"],
        details={k: v for k, v in data.items() if k in ("npsn", "user_id", "service")},
        answer=answer,
        self_answer_id=saved["self_answer"],
        actor=signed_in.user_id if signed_in is not None else "butuh-bantuan",
    )
    request.session.pop(ANSWER_SESSION, None)
    request.session[TRACK_SESSION] = [report.number]
    return render(request, "helpdesk/filed.html", {"report": report})


@never_cache
@require_POST
def helped_view(request):
    """'This answered my question': nothing is filed."""
    request.session.pop(ANSWER_SESSION, None)
    return render(request, "helpdesk/helped.html")


@never_cache
def lookup_view(request):
    form = LookupForm(request.POST or None)
    error = ""
    status = 200
    if request.method == "POST" and form.is_valid():
        number = numbers.parse(form.cleaned_data["number"])
        contact = form.cleaned_data["contact"].strip().lower()
        address = identity_api.client_address(request)
        pairs = [(limits.LOOKUP_PER_ADDRESS, address)]
        if number:
            pairs.append((limits.LOOKUP_PER_NUMBER, number))
        wait = limits.spend(pairs)
        report = None
        if wait:
            error, status = _wait_error(wait), 429
        elif number:
            report = Report.objects.filter(number=number).first()
            phone = identity_api.normalize_phone(contact) if "@" not in contact else ""
            if report is not None and not (
                (report.contact_email and contact == report.contact_email)
                or (report.contact_phone and phone and phone == report.contact_phone)
            ):
                report = None
        if report is not None:
            track = [n for n in request.session.get(TRACK_SESSION, []) if n != report.number]
            request.session[TRACK_SESSION] = (track + [report.number])[-10:]
            return redirect("helpdesk:track", number=report.number)
        if not error:
            error = _("No report has this number and contact. Check both and try again.")
    return render(request, "helpdesk/lookup.html", {"form": form, "error": error}, status=status)


@never_cache
def track_view(request, number):
    if number not in request.session.get(TRACK_SESSION, []):
        return redirect("helpdesk:lookup")
    report = Report.objects.filter(number=number).first()
    if report is None:
        raise Http404
    form = MessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        wait = limits.spend([(limits.REPLY_PER_ADDRESS, identity_api.client_address(request))])
        if wait:
            form.add_error(None, _wait_error(wait))
        else:
            actions.do_add_person_message(report, form.cleaned_data["body"], actor="butuh-bantuan")
            return redirect("helpdesk:track", number=number)
    thread = report.messages.filter(kind__in=PUBLIC_KINDS).order_by("at", "pk")
    return render(
        request,
        "helpdesk/track.html",
        {"report": report, "thread": thread, "form": form, "state": STATE_LABELS[report.state]},
    )


@csrf_exempt
@require_POST
def inbound_view(request):
    """The inbound-mail webhook: the relay posts one raw message, signed with the shared
    secret (timestamp and body). 202 added, 422 refused (the relay bounces it)."""
    secret = settings.AKUN_HELPDESK_INBOUND_SECRET
    if not secret:
        raise Http404
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > mail.MAX_MESSAGE_BYTES:
        return HttpResponse("too large", status=413, content_type="text/plain")
    body = request.body
    if not mail.signature_ok(
        body,
        request.headers.get("X-Akun-Timestamp", ""),
        request.headers.get("X-Akun-Signature", ""),
        secret,
        time.time(),
    ):
        return HttpResponseForbidden("bad signature", content_type="text/plain")
    try:
        report = actions.do_receive_mail(body, actor="mail")
    except mail.Refused as e:
        return HttpResponse(f"refused: {e.code}", status=422, content_type="text/plain")
    return HttpResponse(f"added to {report.number}", status=202, content_type="text/plain")


# --- Agents and operators ----------------------------------------------------------------------


def desk_view(view):
    """An admin account past its second factor with a helpdesk desk; never cached."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect(
                reverse("identity:signin") + "?" + urlencode({"next": request.get_full_path()})
            )
        if not portal_api.is_admin(request.user) or not portal_api.second_factor_passed(request):
            raise PermissionDenied
        desk = agents.desk_of(request.user)
        if desk.empty:
            raise PermissionDenied
        request.helpdesk_desk = desk
        return _no_store(view(request, *args, **kwargs))

    return wrapper


def _report_or_404(request, number) -> Report:
    report = Report.objects.filter(number=number).first()
    if report is None or not request.helpdesk_desk.covers(report):
        raise Http404
    return report


@desk_view
def queue_view(request):
    desk = request.helpdesk_desk
    show = request.GET.get("tampil", "antrean")
    qs = Report.objects.filter(desk.visible())
    if show == "antrean" and desk.agent:
        qs = qs.filter(desk.queue()).filter(state__in=stats.OPEN)
    elif show == "saya":
        qs = qs.filter(assigned_to=request.user)
    elif show != "semua":
        qs = qs.filter(state__in=stats.OPEN)
    state = request.GET.get("status", "")
    if state in Report.State.values:
        qs = qs.filter(state=state)
    page = Paginator(qs.order_by("created_at", "pk"), 50).get_page(request.GET.get("hal"))
    for r in page:
        r.category_label = CATEGORY_LABELS.get(r.category, r.category)
        r.state_label = STATE_LABELS.get(r.state, r.state)
    return render(
        request,
        "helpdesk/queue.html",
        {
            "desk": desk,
            "page": page,
            "show": show,
            "state": state,
            "states": STATE_LABELS.items(),
        },
    )


ACTIONS = {
    "reply": ReplyForm,
    "note": NoteForm,
    "state": StateForm,
    "assign": AssignForm,
    "escalate": ReasonForm,
    "verify": VerifyForm,
    "link": LinkForm,
    "resend": None,
    "reset": ReasonForm,
    "retry": None,
    "correction": CorrectionForm,
    "school": MessageForm,
    "done": None,
}
AGENT_ONLY = {"reply", "note", "state", "assign", "escalate", "verify", "link", "resend", "reset",
              "retry", "correction"}  # fmt: skip


def _act(request, report, name, form):
    by = request.user
    d = form.cleaned_data if form is not None else {}
    if name == "reply":
        actions.do_reply(report, d["body"], by=by, state=d["state"])
        return _("Reply sent.")
    if name == "note":
        actions.do_add_note(report, d["body"], by=by)
        return _("Note added.")
    if name == "state":
        actions.do_set_state(report, d["state"], by=by)
        return _("State changed.")
    if name == "assign":
        agent = None
        if d["user_id"].strip():
            agent = Account.objects.filter(user_id=d["user_id"].strip().lower()).first()
            if agent is None:
                raise actions.HelpdeskError(_("That account is not a helpdesk agent."))
        actions.do_assign(report, agent, by=by)
        return _("Assigned.")
    if name == "escalate":
        actions.do_escalate(report, by=by, reason=d["reason"])
        return _("Escalated.")
    if name == "verify":
        actions.do_verify_person(report, by=by, how=d["how"])
        return _("Person verified.")
    if name == "link":
        actions.do_link_account(report, d["user_id"], by=by)
        return _("Account linked.")
    if name == "resend":
        actions.do_resend_activation(report, by=by)
        return _("Activation instructions sent.")
    if name == "reset":
        password = actions.do_reset_password(report, by=by, reason=d["reason"])
        request.session["helpdesk_password"] = {"number": report.number, "password": password}
        return _("Password reset.")
    if name == "retry":
        actions.do_retry_sync(report, by=by)
        return _("Sync retried.")
    if name == "correction":
        actions.do_file_roster_correction(
            report, by=by, field=d["field"], proposed=d["proposed"], note=d["note"]
        )
        return _("Correction sent to the school.")
    if name == "school":
        actions.do_school_message(report, d["body"], by=by)
        return _("Message added.")
    if name == "done":
        correction = RosterCorrection.objects.filter(
            pk=request.POST.get("correction", "0") if request.POST.get(
                "correction", "").isdigit() else 0, report=report
        ).first()  # fmt: skip
        if correction is None:
            raise Http404
        actions.do_complete_roster_correction(correction, by=by)
        return _("Correction marked done.")
    raise Http404


@desk_view
def report_view(request, number):
    desk = request.helpdesk_desk
    report = _report_or_404(request, number)
    agent = desk.agent and (
        desk.national
        or (report.kode_wilayah and any(report.kode_wilayah.startswith(p) for p in desk.prefixes))
    )
    forms_ = {}
    if request.method == "POST":
        name = request.POST.get("action", "")
        if name not in ACTIONS or (name in AGENT_ONLY and not agent):
            raise PermissionDenied
        cls = ACTIONS[name]
        form = cls(request.POST, prefix=name) if cls else None
        if form is None or form.is_valid():
            try:
                messages.success(request, _act(request, report, name, form))
                return redirect("helpdesk:report", number=number)
            except actions.HelpdeskError as e:
                messages.error(request, str(e))
                return redirect("helpdesk:report", number=number)
        forms_[name] = form
    shown = request.session.get("helpdesk_password")
    password = ""
    if shown and shown.get("number") == number:
        password = shown["password"]
        del request.session["helpdesk_password"]
    kinds = None if agent else PUBLIC_KINDS + (Message.Kind.SYSTEM,)
    thread = report.messages.order_by("at", "pk")
    if kinds is not None:
        thread = thread.filter(kind__in=kinds)
    context = {
        "report": report,
        "agent": agent,
        "thread": thread,
        "corrections": list(report.corrections.order_by("filed_at")),
        "state_label": STATE_LABELS[report.state],
        "category_label": CATEGORY_LABELS.get(report.category, report.category),
        "password": password,
        "retry_available": actions.retry_available(),
        "canned": CANNED,
    }
    if agent:
        context["accounts"] = screen.account_views(report)
        context["details"] = report.details if report.verified else {
            k: (v if k in ("npsn", "service") else screen.mask_digits(v)) for k, v in
            report.details.items()
        }  # fmt: skip
    for name, cls in ACTIONS.items():
        if cls is not None:
            context[f"{name}_form"] = forms_.get(name) or cls(prefix=name)
    return render(request, "helpdesk/report.html", context)


@desk_view
def school_file_view(request):
    """A school's operator files a report for a student of the school (who may have no
    e-mail): the student is told by SMS."""
    desk = request.helpdesk_desk
    if not desk.npsns:
        raise PermissionDenied
    form = OperatorFileForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        schools = {s.pk: s for s in Sekolah.objects.filter(npsn__in=sorted(desk.npsns))}
        pd = PesertaDidik.objects.filter(
            nisn=d["nisn"].strip(), sekolah_id__in=list(schools)
        ).first()
        if pd is None:
            form.add_error("nisn", _("No student of your school has this NISN."))
        else:
            account = (
                Account.objects.filter(person_type="peserta_didik", person_id=pd.pk)
                .exclude(state="deleted")
                .first()
            )
            school = schools[pd.sekolah_id]
            report = actions.do_file_report(
                who="student",
                category=d["category"],
                nama=pd.nama,
                contact_email="",
                contact_phone=d["phone"],
                description=d["description"],
                details={"npsn": school.npsn, "nisn": pd.nisn},
                account=account,
                verified="school" if account is not None else "",
                npsn=school.npsn,
                kode_wilayah=school.kode_wilayah,
                filed_by=request.user.user_id,
                actor=request.user.user_id,
            )
            messages.success(
                request,
                _("Report %(number)s filed; the student is told by SMS.")
                % {"number": report.display_number},
            )
            return redirect("helpdesk:report", number=report.number)
    return render(request, "helpdesk/school_file.html", {"form": form})


@desk_view
def stats_view(request, kode):
    desk = request.helpdesk_desk
    level = portal_api.region_level(kode)
    if not level or not desk.covers_region(kode):
        raise Http404
    region = "" if kode == portal_api.NATIONAL else kode
    f = stats.figures(region)
    charts = [
        stats.bar_chart(
            [(str(CATEGORY_LABELS.get(c, c)), n) for c, n in f.by_category],
            title=_("Reports by category"),
        ),
        stats.bar_chart(f.by_region, title=_("Reports by region")),
        stats.bar_chart(f.by_week, title=_("Reports by week")),
        stats.bar_chart(
            [(str(STATE_LABELS.get(s, s)), n) for s, n in f.backlog], title=_("Backlog")
        ),
    ]
    return render(
        request,
        "helpdesk/stats.html",
        {"kode": kode, "figures": f, "charts": charts, "weeks": stats.WEEKS},
    )


CHARTS = {"kategori", "wilayah", "minggu", "antrean"}


@never_cache
def stats_chart_view(request, kode, chart):
    """One chart as an SVG image, for the portal's national and regional pages: for agents
    of the region and for the portal's admins of it."""
    if chart not in CHARTS or not portal_api.region_level(kode):
        raise Http404
    user = request.user
    if not user.is_authenticated or not portal_api.is_admin(user):
        raise PermissionDenied
    if not portal_api.second_factor_passed(request):
        raise PermissionDenied
    desk = agents.desk_of(user)
    if not (desk.covers_region(kode) or portal_api.scope_of(user).covers_region(kode)):
        raise Http404
    f = stats.figures("" if kode == portal_api.NATIONAL else kode)
    if chart == "kategori":
        svg = stats.bar_chart(
            [(str(CATEGORY_LABELS.get(c, c)), n) for c, n in f.by_category],
            title=_("Reports by category"),
        )
    elif chart == "wilayah":
        svg = stats.bar_chart(f.by_region, title=_("Reports by region"))
    elif chart == "minggu":
        svg = stats.bar_chart(f.by_week, title=_("Reports by week"))
    else:
        svg = stats.bar_chart(
            [(str(STATE_LABELS.get(s, s)), n) for s, n in f.backlog], title=_("Backlog")
        )
    return _no_store(HttpResponse(svg, content_type="image/svg+xml; charset=utf-8"))
