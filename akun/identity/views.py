"""Sign-in, activation, Cek Akun, reset and Akun Saya. Thin: the work is in actions, signin,
codes, selfservice and throttle."""

from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from akun.core.replica import read_from_replica
from akun.identity import actions, codes, flow, people, selfservice, signin, terms, throttle
from akun.identity.forms import (
    AccountRequestForm,
    AppealForm,
    CekAkunForm,
    ChangePasswordForm,
    ChooseContactForm,
    CodeForm,
    EmailContactForm,
    NewPasswordForm,
    NpsnSearchForm,
    PhoneContactForm,
    ResetStartForm,
    SignInForm,
    TermsForm,
)
from akun.identity.masking import mask_email, mask_phone, normalize_phone
from akun.identity.models import OneTimeCode
from akun.lifecycle import api as lifecycle_api
from akun.provisioning import api as provisioning_api
from akun.roster.api import Sekolah

RESET_SESSION = "akun_reset"
CONTACT_SESSION = "akun_contact"
CEK_SESSION = "akun_cek"


def _wait_text(wait: int, locked: bool) -> str:
    if locked:
        minutes = max(1, (wait + 59) // 60)
        return ngettext(
            "Too many failed attempts: sign-in is locked for %(n)d minute. Try again later, or "
            "reset your password.",
            "Too many failed attempts: sign-in is locked for %(n)d minutes. Try again later, or "
            "reset your password.",
            minutes,
        ) % {"n": minutes}
    return ngettext(
        "Too many failed attempts. Wait %(n)d second and try again.",
        "Too many failed attempts. Wait %(n)d seconds and try again.",
        wait,
    ) % {"n": wait}


def refusal_text(state: str) -> str:
    if state == "suspended":
        return _(
            "This account is suspended and cannot sign in. Ask your school operator, or the "
            "helpdesk, what to do."
        )
    if state == "deactivated":
        return _(
            "This account has been deactivated and cannot sign in. Ask your school operator, or "
            "the helpdesk, whether it can be reactivated."
        )
    return _(
        "This account can no longer be used. Ask your school operator, or the helpdesk, for help."
    )


def _refused(request, account, next_url=""):
    """The page for a right password on an account that cannot sign in. Only reached after
    the right password: why it is suspended (lifecycle's notice) and, for a misuse suspension
    open to appeal, the appeal form (a pending session that allows nothing else)."""
    notice = lifecycle_api.signin_notice(account) if account.state == "suspended" else None
    form = None
    if notice is not None and notice.can_appeal:
        flow.start(request, account, flow.APPEAL, next_url)
        form = AppealForm()
    return render(
        request,
        "identity/refused.html",
        {
            "error": refusal_text(account.state) if notice is None else "",
            "notice": notice,
            "form": form,
            "account": account,
        },
    )


def home(request):
    if request.user.is_authenticated:
        return redirect("identity:akun_saya")
    return redirect("identity:signin")


@never_cache
def signin_view(request):
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    reauth = request.session.get(flow.REAUTH)
    if request.user.is_authenticated and request.method == "GET" and not reauth:
        return redirect(flow.safe_next(request, next_url) or reverse("identity:akun_saya"))
    form = SignInForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        result = signin.attempt(
            request, form.cleaned_data["user_id"], form.cleaned_data["password"]
        )
        outcome = result.outcome
        if outcome is signin.Outcome.OK:
            flow.complete(request, result.account)
            return redirect(flow.safe_next(request, next_url) or reverse("identity:akun_saya"))
        if outcome is signin.Outcome.ACTIVATE:
            flow.start(request, result.account, flow.ACTIVATE, next_url)
            return redirect("identity:terms")
        if outcome is signin.Outcome.NEEDS_TERMS:
            flow.start(request, result.account, flow.TERMS, next_url)
            return redirect("identity:terms")
        if outcome is signin.Outcome.REFUSED:
            return _refused(request, result.account, next_url)
        if outcome is signin.Outcome.THROTTLED:
            error = _wait_text(result.wait, result.locked)
        else:
            error = _("The user ID or the password is wrong. Check both and try again.")
    elif request.method == "POST":
        error = _("Enter your user ID and your password.")
    return render(request, "identity/signin.html", {"form": form, "error": error, "next": next_url})


@never_cache
def appeal_view(request):
    """The appeal of a misuse suspension, from the refusal page (right password first)."""
    account, purpose, _next = flow.pending(request)
    if account is None or purpose != flow.APPEAL:
        return redirect("identity:signin")
    notice = lifecycle_api.signin_notice(account)
    if notice is None or not notice.can_appeal:
        request.session.pop(flow.PENDING, None)
        return redirect("identity:signin")
    form = AppealForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            lifecycle_api.do_submit_appeal(
                account, text=form.cleaned_data["text"], actor=account.user_id
            )
        except lifecycle_api.MisuseError:
            form.add_error(None, _("The appeal could not be sent. Ask the helpdesk."))
        else:
            request.session.pop(flow.PENDING, None)
            return render(request, "identity/appeal_sent.html", {"account": account})
    return render(
        request,
        "identity/refused.html",
        {"error": "", "notice": notice, "form": form, "account": account},
    )


@require_POST
def signout_view(request):
    logout(request)
    messages.info(request, _("You have signed out."))
    return redirect("identity:signin")


def terms_page(request):
    return render(request, "identity/terms_page.html", {"terms": terms.current()})


@never_cache
def terms_view(request):
    account, purpose, next_url = flow.pending(request)
    if account is None or purpose not in (flow.ACTIVATE, flow.TERMS):
        return redirect("identity:signin")
    current = terms.current()
    form = TermsForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        actions.do_accept_terms(account, current.version, actor=account.user_id)
        if purpose == flow.ACTIVATE:
            return redirect("identity:new_password")
        flow.complete(request, account)
        return redirect(next_url or reverse("identity:akun_saya"))
    step = purpose == flow.ACTIVATE
    return render(
        request,
        "identity/terms.html",
        {"form": form, "terms": current, "account": account, "activation": step},
    )


@never_cache
def new_password_view(request):
    """Activation's second step, and a reset's last one."""
    account, purpose, next_url = flow.pending(request)
    if account is None or purpose not in (flow.ACTIVATE, flow.RESET):
        return redirect("identity:signin")
    if purpose == flow.ACTIVATE and terms.needs_acceptance(account):
        return redirect("identity:terms")  # terms come first, always
    form = NewPasswordForm(request.POST or None, account=account)
    if request.method == "POST" and form.is_valid():
        password = form.cleaned_data["new_password"]
        generation = flow.pending_generation(request)  # checked again under the row lock
        try:
            if purpose == flow.ACTIVATE:
                actions.do_activate_account(
                    account, password, actor=account.user_id, session_generation=generation
                )
                messages.success(request, _("Your account is active. Welcome!"))
            else:
                # Ends every other session and SSO grant of the account, other resets too.
                actions.do_change_password(
                    account,
                    password,
                    actor=account.user_id,
                    reason="reset with a code",
                    session_generation=generation,
                )
                messages.success(request, _("Your password has been changed."))
        except ValidationError as e:
            form.add_error("new_password", e)
        except actions.ActivationOrderError:
            # Ended meanwhile (a reset, sign out everywhere) or no longer in the right state.
            flow.end_pending(request)
            return redirect("identity:signin")
        else:
            flow.complete(request, account)
            return redirect(next_url or reverse("identity:akun_saya"))
    return render(
        request,
        "identity/new_password.html",
        {"form": form, "account": account, "activation": purpose == flow.ACTIVATE},
    )


# --- Cek Akun -----------------------------------------------------------------------------


def _minutes(wait: int) -> int:
    return max(1, (wait + 59) // 60)


def _cek_refusal_text(policy, decision) -> str:
    if policy.name == throttle.cek_akun_all().name:
        n = _minutes(decision.wait)
        return ngettext(
            "Cek Akun is receiving very many requests right now, so it is paused for a while to "
            "protect students' data. Please try again in about %(n)d minute. Your school "
            "operator can also tell you your user ID.",
            "Cek Akun is receiving very many requests right now, so it is paused for a while to "
            "protect students' data. Please try again in about %(n)d minutes. Your school "
            "operator can also tell you your user ID.",
            n,
        ) % {"n": n}
    if policy.name == throttle.cek_akun_school().name:
        return _(
            "There have been too many lookups for this school today, so Cek Akun is paused for "
            "it to protect its students' data. Please try again tomorrow, or ask your school "
            "operator: they can see your user ID."
        )
    return ngettext(
        "Too many lookups from your connection. Wait %(n)d second and try again.",
        "Too many lookups from your connection. Wait %(n)d seconds and try again.",
        decision.wait,
    ) % {"n": decision.wait}


def _cek_pairs(request):
    addr = throttle.client_address(request)
    return [(throttle.address_key(throttle.CEK_AKUN, addr), throttle.CEK_AKUN)]


@never_cache
def cek_akun_view(request):
    form = CekAkunForm(request.POST or None)
    result, error = None, ""
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        # Every lookup counts against harvesting: per client, per school and in all.
        refused = throttle.spend(
            throttle.cek_akun_pairs(d["npsn"], throttle.client_address(request))
        )
        if refused:
            error = _cek_refusal_text(*refused)
        else:
            result = selfservice.cek_akun(d["role"], d["npsn"], d["nama"], d["tanggal_lahir"])
            if not result.accounts:
                request.session[CEK_SESSION] = {
                    "role": d["role"],
                    "npsn": d["npsn"],
                    "nama": d["nama"],
                    "tanggal_lahir": d["tanggal_lahir"].isoformat(),
                    "explanation": result.explanation,
                }
    return render(
        request, "identity/cek_akun.html", {"form": form, "result": result, "error": error}
    )


@read_from_replica
def npsn_search_view(request):
    form = NpsnSearchForm(request.GET or None)
    schools = []
    if form.is_valid():
        qs = Sekolah.objects.filter(
            nama__icontains=form.cleaned_data["q"].strip(), departed_at__isnull=True
        )
        region = form.cleaned_data["wilayah"].strip()
        if region:
            from django.db.models import Q

            qs = qs.filter(Q(kabupaten_kota__icontains=region) | Q(provinsi__icontains=region))
        schools = list(qs.order_by("nama")[:30])
    return render(request, "identity/npsn_search.html", {"form": form, "schools": schools})


@never_cache
def request_account_view(request):
    initial = dict(request.session.get(CEK_SESSION) or {})
    form = AccountRequestForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        decision = throttle.check(_cek_pairs(request))
        if not decision.allowed:
            form.add_error(None, _("Too many requests from your connection. Try again later."))
        else:
            throttle.fail(_cek_pairs(request))
            d = form.cleaned_data
            actions.do_request_account(
                role=d["role"],
                npsn=d["npsn"].strip(),
                nama=d["nama"],
                tanggal_lahir=d["tanggal_lahir"],
                contact=d["contact"],
                message=d["message"],
                explanation=initial.get("explanation", ""),
                client_address=throttle.client_address(request),
                actor="cek-akun",
            )
            request.session.pop(CEK_SESSION, None)
            return render(request, "identity/request_sent.html")
    return render(request, "identity/request_account.html", {"form": form})


# --- Reset password -----------------------------------------------------------------------


def _reset_refusal_text(policy, decision) -> str:
    if policy.name == throttle.reset_all().name:
        n = _minutes(decision.wait)
        return ngettext(
            "Password reset is receiving very many requests right now, so it is paused for a "
            "while. Please try again in about %(n)d minute, or ask your school operator to "
            "reset your password.",
            "Password reset is receiving very many requests right now, so it is paused for a "
            "while. Please try again in about %(n)d minutes, or ask your school operator to "
            "reset your password.",
            n,
        ) % {"n": n}
    if policy.name == throttle.reset_school().name:
        return _(
            "There have been too many attempts for accounts of this school today, so password "
            "reset is paused for them. Please try again tomorrow, or ask your school operator "
            "to reset your password."
        )
    return _wait_text(decision.wait, decision.locked)


def _reset_pairs(request, user_id=""):
    addr = throttle.client_address(request)
    pairs = [(throttle.address_key(throttle.RESET, addr), throttle.RESET)]
    if user_id:
        pairs.append((f"reset:{signin.normalize_user_id(user_id)[:180]}", throttle.RESET))
    return pairs


@never_cache
def reset_start_view(request):
    form = ResetStartForm(request.POST or None)
    error, no_contact = "", None
    if request.method == "POST" and form.is_valid():
        uid = signin.normalize_user_id(form.cleaned_data["user_id"])
        pairs = _reset_pairs(request, uid)
        refused = throttle.refusal(pairs)
        account = None
        if not refused:
            from django.contrib.auth import get_user_model

            account = get_user_model().objects.filter(user_id=uid).first()
            # Every try counts against the platform's and the school's budgets, before the
            # birth date is compared: no walking a school's accounts from many addresses.
            npsn = account.sekolah.npsn if account is not None and account.sekolah_id else ""
            refused = throttle.spend(throttle.reset_budget_pairs(npsn))
        if refused:
            error = _reset_refusal_text(*refused)
        else:
            facts = people.facts(account) if account else None
            if not facts or facts.tanggal_lahir != form.cleaned_data["tanggal_lahir"]:
                throttle.fail(pairs)
                error = _("No account matches this user ID and birth date. Check both.")
            elif account.state not in ("issued", "active"):
                error = refusal_text(account.state)
            else:
                found = selfservice.contacts(account)
                if not found:
                    no_contact = account.person_type
                else:
                    request.session.cycle_key()
                    request.session[RESET_SESSION] = {
                        "account": account.pk,
                        "generation": flow.current_generation(account),
                    }
                    return redirect("identity:reset_contact")
    return render(
        request,
        "identity/reset_start.html",
        {"form": form, "error": error, "no_contact": no_contact},
    )


def _reset_account(request):
    """The account of the reset in progress, unless its sessions have ended since it began
    (another reset, the operator's among them)."""
    data = request.session.get(RESET_SESSION) or {}
    if not data.get("account"):
        return None, data
    from django.contrib.auth import get_user_model

    account = get_user_model().objects.filter(pk=data["account"]).first()
    if account is None or data.get("generation", 0) != flow.current_generation(account):
        request.session.pop(RESET_SESSION, None)
        return None, {}
    return account, data


@never_cache
def reset_contact_view(request):
    account, data = _reset_account(request)
    if account is None:
        return redirect("identity:reset")
    found = {c.key: c for c in selfservice.contacts(account)}
    choices = [
        (
            c.key,
            (_("E-mail to %(c)s") if c.channel == "email" else _("SMS to %(c)s")) % {"c": c.masked},
        )
        for c in found.values()
    ]
    form = ChooseContactForm(request.POST or None, choices=choices)
    if request.method == "POST" and form.is_valid():
        pairs = _reset_pairs(request, account.user_id)
        decision = throttle.check(pairs)
        if not decision.allowed:
            form.add_error(None, _wait_text(decision.wait, decision.locked))
        else:
            throttle.fail(pairs)  # each code sent counts: no flooding someone's phone
            c = found[form.cleaned_data["contact"]]
            otc, _code = codes.issue(account, OneTimeCode.Purpose.RESET, c.channel, c.destination)
            request.session[RESET_SESSION] = {**data, "code": otc.pk, "masked": c.masked}
            return redirect("identity:reset_code")
    return render(request, "identity/reset_contact.html", {"form": form})


@never_cache
def reset_code_view(request):
    account, data = _reset_account(request)
    if account is None or not data.get("code"):
        return redirect("identity:reset")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        check = codes.check(
            data["code"], account, OneTimeCode.Purpose.RESET, form.cleaned_data["code"]
        )
        if check is codes.Check.OK:
            request.session.pop(RESET_SESSION, None)
            # Under the generation the reset began with: a reset landing meanwhile ends it.
            generation = data.get("generation", 0)
            if account.state == "issued":
                flow.start(request, account, flow.ACTIVATE, generation=generation)
                return redirect("identity:terms")
            flow.start(request, account, flow.RESET, generation=generation)
            return redirect("identity:new_password")
        form.add_error("code", _code_error(check, data["code"]))
    return render(
        request, "identity/reset_code.html", {"form": form, "masked": data.get("masked", "")}
    )


def _code_error(check, code_id) -> str:
    if check is codes.Check.WRONG:
        left = codes.tries_left(code_id)
        return ngettext(
            "The code is wrong. %(n)d try left.", "The code is wrong. %(n)d tries left.", left
        ) % {"n": left}
    if check is codes.Check.EXPIRED:
        return _("The code has expired (it is valid 15 minutes). Ask for a new code.")
    return _("This code can no longer be used (too many tries). Ask for a new code.")


# --- Akun Saya ----------------------------------------------------------------------------


@login_required
@never_cache
def akun_saya_view(request):
    account = request.user
    facts = people.facts(account)
    return render(
        request,
        "identity/akun_saya.html",
        {
            "account": account,
            "facts": facts,
            "services": account.service_sign_ins.all()[:50],
            # "Akun Google": the account's state at each outside directory, if any.
            "sync": provisioning_api.sync_status_of(account.pk),
            "email_masked": mask_email(account.recovery_email) if account.recovery_email else "",
            "phone_masked": mask_phone(account.recovery_phone) if account.recovery_phone else "",
        },
    )


@login_required
@never_cache
def change_password_view(request):
    account = request.user
    form = ChangePasswordForm(request.POST or None, account=account)
    if request.method == "POST" and form.is_valid():
        pairs = [(throttle.account_key(account.user_id), throttle.ACCOUNT)]
        decision = throttle.check(pairs)
        if not decision.allowed:
            form.add_error(None, _wait_text(decision.wait, decision.locked))
        elif not signin.verify_password(account, form.cleaned_data["current_password"]):
            throttle.fail(pairs)
            form.add_error("current_password", _("The current password is wrong."))
        else:
            try:
                actions.do_change_password(
                    account, form.cleaned_data["new_password"], actor=account.user_id
                )
            except ValidationError as e:
                form.add_error("new_password", e)
            else:
                update_session_auth_hash(request, account)
                flow.keep_session(request, account)  # the others have ended
                messages.success(request, _("Your password has been changed."))
                return redirect("identity:akun_saya")
    return render(request, "identity/change_password.html", {"form": form})


@login_required
@require_POST
def sign_out_everywhere_view(request):
    actions.do_sign_out_everywhere(request.user, actor=request.user.user_id)
    logout(request)
    messages.info(request, _("You have signed out of all sessions, on every device."))
    return redirect("identity:signin")


CONTACT_FORMS = {"email": EmailContactForm, "phone": PhoneContactForm}


@login_required
@never_cache
def contact_view(request, kind):
    account = request.user
    form = CONTACT_FORMS[kind](request.POST or None)
    if request.method == "POST" and form.is_valid():
        pairs = _reset_pairs(request, account.user_id)
        decision = throttle.check(pairs)
        if not decision.allowed:
            form.add_error(None, _wait_text(decision.wait, decision.locked))
        else:
            throttle.fail(pairs)
            value = form.cleaned_data["value"].strip()
            if kind == "email":
                value, channel, purpose = value.lower(), "email", "verify_email"
            else:
                value, channel, purpose = normalize_phone(value), "sms", "verify_phone"
            otc, _code = codes.issue(account, purpose, channel, value)
            request.session[CONTACT_SESSION] = {"code": otc.pk, "kind": kind, "value": value}
            return redirect("identity:contact_code", kind=kind)
    return render(request, "identity/contact.html", {"form": form, "kind": kind})


@login_required
@never_cache
def contact_code_view(request, kind):
    account = request.user
    data = request.session.get(CONTACT_SESSION) or {}
    if data.get("kind") != kind:
        return redirect("identity:contact", kind=kind)
    form = CodeForm(request.POST or None)
    purpose = "verify_email" if kind == "email" else "verify_phone"
    if request.method == "POST" and form.is_valid():
        check = codes.check(data["code"], account, purpose, form.cleaned_data["code"])
        if check is codes.Check.OK:
            actions.do_set_recovery_contact(account, kind, data["value"], actor=account.user_id)
            request.session.pop(CONTACT_SESSION, None)
            messages.success(request, _("The contact is confirmed and saved."))
            return redirect("identity:akun_saya")
        form.add_error("code", _code_error(check, data["code"]))
    masked = mask_email(data["value"]) if kind == "email" else mask_phone(data["value"])
    return render(
        request, "identity/contact_code.html", {"form": form, "kind": kind, "masked": masked}
    )
