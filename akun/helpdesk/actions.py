"""Every change of the helpdesk: one do_* function each, atomic, with an audit row (object
`helpdesk_report` and the report's number, with its school and region so that scoped audit
views see it). Mail and SMS go out on commit."""

import logging

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import override

from akun.accounts.api import Account
from akun.audit import api as audit
from akun.audit.api import Action
from akun.core import clock
from akun.helpdesk import agents, mail, numbers
from akun.helpdesk.models import Agent, Category, Message, Report, RosterCorrection, SelfAnswer
from akun.identity import api as identity_api
from akun.portal import api as portal_api
from akun.provisioning import api as provisioning_api

log = logging.getLogger("akun.helpdesk")

MAX_TEXT = 4000


class HelpdeskError(Exception):
    """Refused; the message says why (shown to the agent)."""


def _clean(text: str, limit: int = MAX_TEXT) -> str:
    text = (text or "").replace("\x00", "").strip()
    if len(text) > limit:
        raise HelpdeskError(_("The text is longer than %(n)d characters.") % {"n": limit})
    return text


def _audit(action, report: Report, *, actor: str, after=None, reason: str = "", before=None):
    audit.record(
        action,
        actor=actor,
        object_type="helpdesk_report",
        object_id=report.number,
        npsn=report.npsn,
        kode_wilayah=report.kode_wilayah,
        reason=reason,
        before=before,
        after=after,
    )


def _touch(report: Report, **fields) -> None:
    fields["updated_at"] = clock.now()
    for k, v in fields.items():
        setattr(report, k, v)
    report.save(update_fields=list(fields))


# --- Messages to the person --------------------------------------------------------------------


def _post(report: Report, kind: str, body: str, *, author: str, outgoing: bool) -> Message:
    """A message in the thread; to the person by mail (threaded) or SMS on commit."""
    msg = Message(report=report, at=clock.now(), kind=kind, author=author, body=body)
    if outgoing and report.contact_email:
        msg.message_id = mail.new_message_id(report.number)
    msg.save()
    if outgoing:
        pk = msg.pk
        transaction.on_commit(lambda: deliver(pk))
    return msg


def deliver(message_pk: int) -> None:
    """Send one outgoing message (after commit): e-mail in the report's thread, else SMS."""
    msg = Message.objects.select_related("report").get(pk=message_pk)
    report = msg.report
    try:
        if report.contact_email:
            previous = list(
                report.messages.filter(at__lte=msg.at, message_id__isnull=False)
                .exclude(pk=msg.pk)
                .order_by("at", "pk")
                .values_list("message_id", flat=True)
            )
            mail.build(report, msg, previous).send()
        elif report.contact_phone:
            identity_api.send_sms(report.contact_phone, sms_text(report, msg))
    except Exception:  # the report and its message stand; the agent sees no delivery error
        log.exception("helpdesk: delivering message %s of %s failed", msg.pk, report.number)


def sms_text(report: Report, msg: Message) -> str:
    with override("id"):
        head = _("Butuh Bantuan %(number)s:") % {"number": report.display_number}
    return f"{head} {msg.body}"[:480]


def _received_text(report: Report) -> str:
    with override("id"):
        return _(
            "Your report has been received. Its number is %(number)s: keep it, and give it "
            "with your contact to look the report up at %(url)s. We answer by this channel."
        ) % {"number": report.display_number, "url": "/bantuan/lacak"}


# --- Filing ------------------------------------------------------------------------------------


def do_file_report(
    *,
    who: str,
    category: str,
    nama: str,
    contact_email: str,
    contact_phone: str,
    description: str,
    details: dict,
    answer=None,
    self_answer_id: int | None = None,
    filed_by: str = "",
    verified: str = "",
    account=None,
    npsn: str = "",
    kode_wilayah: str = "",
    actor: str,
) -> Report:
    """A new report with a fresh number, told to the person by e-mail (else SMS). A request
    for another service gets the canned answer and is closed at once."""
    if not contact_email and not contact_phone:
        raise HelpdeskError(_("Give an e-mail address or a phone number."))
    now = clock.now()
    if answer is not None:
        account = account or answer.account
        verified = verified or answer.verified
        npsn = npsn or answer.npsn
        kode_wilayah = kode_wilayah or answer.kode_wilayah
    report = Report(
        created_at=now,
        updated_at=now,
        who=who,
        category=category,
        nama=_clean(nama, 200),
        contact_email=contact_email.strip().lower(),
        contact_phone=identity_api.normalize_phone(contact_phone) if contact_phone else "",
        description=_clean(description),
        details={k: str(v)[:200] for k, v in details.items() if v},
        account=account,
        verified=verified if account is not None else "",
        npsn=npsn,
        kode_wilayah=kode_wilayah,
        level=Report.Level.REGENCY if kode_wilayah else Report.Level.NATIONAL,
        filed_by=filed_by,
    )
    with transaction.atomic():
        for _attempt in range(10):
            report.number = numbers.new_number()
            try:
                with transaction.atomic():
                    report.save()
                break
            except IntegrityError:  # that number is taken: draw another
                report.pk = None
        else:
            raise HelpdeskError("no free report number")
        if self_answer_id:
            SelfAnswer.objects.filter(pk=self_answer_id, report__isnull=True).update(report=report)
        _post(report, Message.Kind.PERSON, report.description or "-", author=actor, outgoing=False)
        if answer is not None and answer.lines:
            _post(report, Message.Kind.SYSTEM, "\n".join(answer.lines), author="akun",
                  outgoing=False)  # fmt: skip
        _post(report, Message.Kind.SYSTEM, _received_text(report), author="akun", outgoing=True)
        if category == Category.OTHER_SERVICE and answer is not None:
            _post(report, Message.Kind.REPLY, "\n".join(answer.lines), author="akun",
                  outgoing=True)  # fmt: skip
            _touch(report, state=Report.State.CLOSED, first_answer_at=now, resolved_at=now)
        _audit(
            Action.HELPDESK_FILE_REPORT,
            report,
            actor=actor,
            after={
                "who": who,
                "category": category,
                "verified": report.verified,
                "account": report.account.user_id if report.account else "",
                "filed_by": filed_by,
                "state": report.state,
            },
        )
    return report


def do_record_self_answer(*, who, category, kode_wilayah, outcome) -> SelfAnswer:
    return SelfAnswer.objects.create(
        at=clock.now(), who=who, category=category, kode_wilayah=kode_wilayah, outcome=outcome
    )


def do_add_person_message(report: Report, body: str, *, actor: str) -> Message:
    """The person writes again (the tracking page): back to the agents' queue."""
    body = _clean(body)
    if not body:
        raise HelpdeskError(_("Write a message."))
    with transaction.atomic():
        msg = _post(report, Message.Kind.PERSON, body, author=actor, outgoing=False)
        if report.state in (Report.State.WAITING_PERSON, Report.State.RESOLVED):
            _touch(report, state=Report.State.NEW)
        else:
            _touch(report)
        _audit(Action.HELPDESK_PERSON_MESSAGE, report, actor=actor, after={"via": "web"})
    return msg


# --- Agents ------------------------------------------------------------------------------------


def _desk_or_refuse(report: Report, by) -> agents.Desk:
    desk = agents.desk_of(by)
    if not desk.covers(report):
        raise HelpdeskError(_("This report is outside your region."))
    return desk


def do_reply(report: Report, body: str, *, by, state: str = Report.State.WAITING_PERSON):
    """An answer to the person (mail or SMS), and the report's next state."""
    _desk_or_refuse(report, by)
    body = _clean(body)
    if not body:
        raise HelpdeskError(_("Write a message."))
    if state not in Report.State.values:
        raise HelpdeskError("unknown state")
    now = clock.now()
    with transaction.atomic():
        before = report.state
        _post(report, Message.Kind.REPLY, body, author=by.user_id, outgoing=True)
        fields = {"state": state}
        if report.first_answer_at is None:
            fields["first_answer_at"] = now
        if state in (Report.State.RESOLVED, Report.State.CLOSED) and not report.resolved_at:
            fields["resolved_at"] = now
        _touch(report, **fields)
        _audit(Action.HELPDESK_REPLY, report, actor=by.user_id, before={"state": before},
               after={"state": state})  # fmt: skip


def do_add_note(report: Report, body: str, *, by) -> Message:
    _desk_or_refuse(report, by)
    body = _clean(body)
    if not body:
        raise HelpdeskError(_("Write a message."))
    with transaction.atomic():
        msg = _post(report, Message.Kind.NOTE, body, author=by.user_id, outgoing=False)
        _touch(report)
        _audit(Action.HELPDESK_NOTE, report, actor=by.user_id)
    return msg


def do_set_state(report: Report, state: str, *, by) -> None:
    _desk_or_refuse(report, by)
    if state not in Report.State.values:
        raise HelpdeskError("unknown state")
    with transaction.atomic():
        before = report.state
        fields = {"state": state}
        if state in (Report.State.RESOLVED, Report.State.CLOSED) and not report.resolved_at:
            fields["resolved_at"] = clock.now()
        _touch(report, **fields)
        _audit(Action.HELPDESK_SET_STATE, report, actor=by.user_id, before={"state": before},
               after={"state": state})  # fmt: skip


def do_assign(report: Report, agent, *, by) -> None:
    """To an agent whose region covers the report (or to nobody: agent None)."""
    _desk_or_refuse(report, by)
    if agent is not None and not agents.desk_of(agent).agent:
        raise HelpdeskError(_("That account is not a helpdesk agent."))
    if agent is not None and not agents.desk_of(agent).covers(report):
        raise HelpdeskError(_("That agent's region does not cover this report."))
    with transaction.atomic():
        before = report.assigned_to.user_id if report.assigned_to_id else ""
        _touch(report, assigned_to=agent)
        _audit(Action.HELPDESK_ASSIGN, report, actor=by.user_id, before={"agent": before},
               after={"agent": agent.user_id if agent else ""})  # fmt: skip


ESCALATION = {
    Report.Level.REGENCY: Report.Level.PROVINCE,
    Report.Level.PROVINCE: Report.Level.NATIONAL,
}


def do_escalate(report: Report, *, by, reason: str) -> None:
    """Up the region tree: the regency's dinas -> the province -> the nation."""
    _desk_or_refuse(report, by)
    reason = _clean(reason, 500)
    if not reason:
        raise HelpdeskError(_("Give the reason for escalating."))
    nxt = ESCALATION.get(report.level)
    if nxt is None:
        raise HelpdeskError(_("This report is already with the national helpdesk."))
    with transaction.atomic():
        before = report.level
        _touch(report, level=nxt, assigned_to=None)
        _post(report, Message.Kind.NOTE, _("Escalated: %(reason)s") % {"reason": reason},
              author=by.user_id, outgoing=False)  # fmt: skip
        _audit(Action.HELPDESK_ESCALATE, report, actor=by.user_id, reason=reason,
               before={"level": before}, after={"level": nxt})  # fmt: skip


def do_verify_person(report: Report, *, by, how: str) -> None:
    """The agent checked who the person is (a call back, the school's confirmation): the
    report's personal data is no longer masked for agents."""
    _desk_or_refuse(report, by)
    how = _clean(how, 300)
    if not how:
        raise HelpdeskError(_("Say how the person was verified."))
    if report.account_id is None:
        raise HelpdeskError(_("No account is linked to this report."))
    with transaction.atomic():
        _touch(report, verified="agent")
        _audit(Action.HELPDESK_VERIFY_PERSON, report, actor=by.user_id, reason=how)


def do_link_account(report: Report, user_id: str, *, by) -> Account:
    """Link the account the report is about (found by the agent); masked until verified."""
    _desk_or_refuse(report, by)
    account = Account.objects.filter(user_id=user_id.strip().lower()).first()
    if (
        account is None
        or account.sekolah_id is None
        or not (
            agents.desk_of(by).national
            or any(account.sekolah.kode_wilayah.startswith(p) for p in agents.desk_of(by).prefixes)
            or account.sekolah.npsn in agents.desk_of(by).npsns
        )
    ):
        raise HelpdeskError(_("No such account in your region."))
    with transaction.atomic():
        _touch(report, account=account, verified="")
        _audit(Action.HELPDESK_LINK_ACCOUNT, report, actor=by.user_id,
               after={"account": account.user_id})  # fmt: skip
    return account


def _report_account(report: Report) -> Account:
    if report.account_id is None:
        raise HelpdeskError(_("No account is linked to this report."))
    return Account.objects.get(pk=report.account_id)


def _need_verified(report: Report) -> None:
    if not report.verified:
        raise HelpdeskError(_("Verify the person first."))


def do_resend_activation(report: Report, *, by) -> None:
    """Tell the holder again how to activate (user ID, where the initial password is), on
    every contact on record (never the password itself)."""
    _desk_or_refuse(report, by)
    _need_verified(report)
    account = _report_account(report)
    if account.state != Account.State.ISSUED:
        raise HelpdeskError(_("Only an account that is not activated yet can be activated."))
    with override("id"):
        subject = _("Activate your learning account")
        body = _(
            "Your learning account is %(user_id)s. To activate it, sign in with the initial "
            "password on the slip from your school operator, accept the terms and choose your "
            "own password. Lost the slip? Your school operator can print it again."
        ) % {"user_id": account.user_id}
        sms = _("Learning account %(user_id)s: sign in with the initial password from your school "
                "operator to activate it.") % {"user_id": account.user_id}  # fmt: skip
    with transaction.atomic():
        _post(report, Message.Kind.SYSTEM, _("Activation instructions sent again."),
              author=by.user_id, outgoing=False)  # fmt: skip
        _touch(report)
        _audit(Action.HELPDESK_RESEND_ACTIVATION, report, actor=by.user_id,
               after={"account": account.user_id})  # fmt: skip
        transaction.on_commit(
            lambda: identity_api.send_account_notice(account, subject=subject, body=body, sms=sms)
        )


def do_reset_password(report: Report, *, by, reason: str) -> str:
    """A new initial password by the portal's policy (who may reset whom); shown once."""
    _desk_or_refuse(report, by)
    _need_verified(report)
    account = _report_account(report)
    reason = _clean(reason, 400) or report.display_number
    with transaction.atomic():
        try:
            password = portal_api.do_reset_password(
                account, by=by, reason=f"{report.display_number}: {reason}", via="helpdesk"
            )
        except portal_api.ResetRefused as e:
            raise HelpdeskError(str(e)) from None
        _post(report, Message.Kind.SYSTEM, _("Password reset to a new initial password."),
              author=by.user_id, outgoing=False)  # fmt: skip
        _touch(report)
        _audit(Action.HELPDESK_RESET_PASSWORD, report, actor=by.user_id, reason=reason,
               after={"account": account.user_id})  # fmt: skip
    return password


def retry_available() -> bool:
    return hasattr(provisioning_api, "do_retry_sync")


def do_retry_sync(report: Report, *, by) -> None:
    """Send the account to its targets again now (provisioning's own retry)."""
    _desk_or_refuse(report, by)
    account = _report_account(report)
    if not retry_available():
        raise HelpdeskError(_("Retrying a sync is not available on this installation yet."))
    with transaction.atomic():
        provisioning_api.do_retry_sync([account.pk], actor=by.user_id)
        _post(report, Message.Kind.SYSTEM, _("Sync retried."), author=by.user_id,
              outgoing=False)  # fmt: skip
        _touch(report)
        _audit(Action.HELPDESK_RETRY_SYNC, report, actor=by.user_id,
               after={"account": account.user_id})  # fmt: skip


def do_file_roster_correction(report: Report, *, by, field: str, proposed: str, note: str = ""):
    """Ask the school to correct its Dapodik data; the report waits for the school."""
    _desk_or_refuse(report, by)
    field, proposed, note = _clean(field, 60), _clean(proposed, 200), _clean(note, 1000)
    if not report.npsn:
        raise HelpdeskError(_("This report has no school."))
    if not field or not proposed:
        raise HelpdeskError(_("Say which field and what it should be."))
    with transaction.atomic():
        c = RosterCorrection.objects.create(
            report=report, npsn=report.npsn, field=field, proposed=proposed, note=note,
            filed_at=clock.now(), filed_by=by.user_id,
        )  # fmt: skip
        _touch(report, state=Report.State.WAITING_SCHOOL)
        _audit(Action.HELPDESK_ROSTER_CORRECTION, report, actor=by.user_id,
               after={"field": field, "proposed": proposed})  # fmt: skip
    return c


def do_complete_roster_correction(correction: RosterCorrection, *, by) -> None:
    """The school's operator has corrected Dapodik: back to the agents."""
    report = correction.report
    if not agents.desk_of(by).covers(report):
        raise HelpdeskError(_("This report is outside your region."))
    with transaction.atomic():
        correction.done_at, correction.done_by = clock.now(), by.user_id
        correction.save(update_fields=["done_at", "done_by"])
        _post(report, Message.Kind.SCHOOL,
              _("Corrected in Dapodik: %(field)s.") % {"field": correction.field},
              author=by.user_id, outgoing=False)  # fmt: skip
        if report.state == Report.State.WAITING_SCHOOL:
            _touch(report, state=Report.State.NEW)
        _audit(Action.HELPDESK_ROSTER_CORRECTION_DONE, report, actor=by.user_id,
               after={"field": correction.field})  # fmt: skip


def do_grant_agent(account, *, region: str, actor: str, granted_by=None) -> Agent:
    """The helpdesk role in a region, for an admin account; a granter only within theirs."""
    if account.role != Account.Role.DINAS:
        raise HelpdeskError("the helpdesk role is for regional/national staff accounts (dinas)")
    try:
        level, kode = portal_api.parse_region(region)
    except portal_api.AdminError as e:
        raise HelpdeskError(str(e)) from None
    if granted_by is not None and not agents.may_grant(agents.desk_of(granted_by), level, kode):
        raise HelpdeskError(f"{granted_by.user_id} may not delegate region {region}")
    with transaction.atomic():
        agent, _created = Agent.objects.get_or_create(
            account=account, level=level, kode_wilayah=kode,
            defaults={"granted_at": clock.now(), "granted_by": actor},
        )  # fmt: skip
        audit.record(
            Action.HELPDESK_GRANT_AGENT, actor=actor, object_type="account",
            object_id=account.user_id, kode_wilayah=kode,
            after={"level": level, "region": kode or "nasional"},
        )  # fmt: skip
    return agent


# --- Mail in -----------------------------------------------------------------------------------


def do_receive_mail(raw: bytes, *, actor: str = "mail") -> Report:
    """A reply by e-mail, added to its report if it proves it answers our mail (mail.py);
    raises mail.Refused (audited) otherwise."""
    try:
        inbound = mail.parse(raw)
        report = Report.objects.filter(number=inbound.number).first()
        if report is None:
            raise mail.Refused("unknown_report")
        if not report.contact_email or inbound.sender != report.contact_email:
            raise mail.Refused("wrong_sender")
        token_ok = bool(inbound.token) and mail.hmac.compare_digest(
            inbound.token, mail.reply_token(report.number, report.contact_email)
        )
        ours = set(
            report.messages.filter(message_id__in=inbound.references).values_list(
                "message_id", flat=True
            )
        )
        if not token_ok and not ours:
            raise mail.Refused("not_a_reply")
        if Message.objects.filter(message_id=inbound.message_id).exists():
            raise mail.Refused("replayed")
        if not inbound.body:
            raise mail.Refused("empty")
        with transaction.atomic():
            msg = Message(report=report, at=clock.now(), kind=Message.Kind.PERSON,
                          author=inbound.sender, body=inbound.body,
                          message_id=inbound.message_id)  # fmt: skip
            try:
                with transaction.atomic():
                    msg.save()
            except IntegrityError:  # the same message delivered twice at once
                raise mail.Refused("replayed") from None
            if report.state in (Report.State.WAITING_PERSON, Report.State.RESOLVED):
                _touch(report, state=Report.State.NEW)
            else:
                _touch(report)
            _audit(Action.HELPDESK_PERSON_MESSAGE, report, actor=actor, after={"via": "email"})
        return report
    except mail.Refused as refused:
        audit.record(
            Action.HELPDESK_MAIL_REFUSED, actor=actor, object_type="helpdesk_mail",
            object_id="", reason=refused.code,
        )  # fmt: skip
        raise


def do_school_message(report: Report, body: str, *, by) -> Message:
    """The school's operator adds to the report (seen by agents and the person)."""
    if not agents.desk_of(by).covers(report):
        raise HelpdeskError(_("This report is outside your region."))
    body = _clean(body)
    if not body:
        raise HelpdeskError(_("Write a message."))
    with transaction.atomic():
        msg = _post(report, Message.Kind.SCHOOL, body, author=by.user_id, outgoing=False)
        if report.state == Report.State.WAITING_SCHOOL:
            _touch(report, state=Report.State.NEW)
        else:
            _touch(report)
        _audit(Action.HELPDESK_SCHOOL_MESSAGE, report, actor=by.user_id)
    return msg
