"""Languages: Chinese (zh-CN, the default) and English labels, chosen by `Accept-Language`.

Only display fields change with the language: labels and problem titles. Machine fields
(state and action identifiers, outcome values, error codes) are the same in every language.
The language of the current request lives in a context variable that a middleware sets, so
response models can label themselves without every route passing it along.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Literal

from ..workflow import MACHINES

Lang = Literal["zh-CN", "en"]
DEFAULT: Lang = "zh-CN"
SUPPORTED: tuple[Lang, ...] = ("zh-CN", "en")

lang_var: ContextVar[Lang] = ContextVar("lang", default=DEFAULT)


def negotiate(header: str | None) -> Lang:
    """The best supported language for an `Accept-Language` header (RFC 9110 §12.5.4).

    `zh`, `zh-CN`, `zh-Hans…` choose Chinese; `en`, `en-US`… English; `*` the default.
    Ties keep the header's order; anything unparseable or unsupported gives the default.
    """
    best: tuple[float, int, Lang] | None = None
    for pos, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        q = 1.0
        for p in params.split(";"):
            key, _, value = p.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if not tag or not 0 < q <= 1:
            continue
        primary = tag.split("-")[0]
        lang: Lang | None = ("zh-CN" if primary == "zh" else "en" if primary == "en"
                             else DEFAULT if tag == "*" else None)
        if lang is not None and (best is None or (q, -pos) > (best[0], -best[1])):
            best = (q, pos, lang)
    return best[2] if best else DEFAULT


def current() -> Lang:
    """The language of the request being served (the default outside a request)."""
    return lang_var.get()


def pick(zh: str, en: str, lang: Lang | None = None) -> str:
    """One of two labels, for the given language or the current request's."""
    return en if (lang or current()) == "en" else zh


# ---------------------------------------------------------------- labels of the workflow
_STATES = {(m.name, s.name): (s.label_zh, s.label_en) for m in MACHINES for s in m.states}
_ACTIONS = {(m.name, t.action): (t.label_zh, t.label_en) for m in MACHINES
            for t in m.transitions}


def state_label(machine: str, state: str | None, lang: Lang | None = None) -> str | None:
    """A state's label; the identifier itself when the table does not know it."""
    if state is None:
        return None
    zh, en = _STATES.get((machine, state), (state, state))
    return pick(zh, en, lang)


# Events of the record that are not transitions of a machine (work done on a subject).
RECORD_ACTIONS: dict[str, tuple[str, str]] = {
    "create": ("创建", "Created"),
    "edit": ("修改", "Edited"),
    "nominate": ("推荐", "Nominated by a body"),
    "apply": ("个人报名", "Applied"),
    "check_eligibility": ("资格条件核对", "Eligibility checked"),
    "record_communication": ("推荐沟通记录", "Talk with the nominee recorded"),
    "request_claim": ("申请认领推荐记录（验证码已发至本人邮箱）",
                      "Claim of the nomination asked (code sent to the nominee's email)"),
    "link_account": ("推荐记录关联本人账号", "Record linked to the nominee's own account"),
    "appoint_panel": ("组建评委会", "Panel of judges appointed"),
    "prepare_interview": ("面议准备", "Interview prepared"),
    "declare_conflict": ("评委回避声明", "Judge declared a conflict"),
    "declare_no_conflict": ("评委无利害关系声明", "Judge declared no conflict"),
    "submit_score_sheet": ("提交评分表", "Score sheet submitted"),
    "hold_judges_briefing": ("评委沟通会", "Judges briefed"),
    "confirm_materials_received": ("评委确认收到面议资料", "Judge confirmed receiving the"
                                   " materials"),
    "draw_appearance_order": ("抽签确定出场顺序", "Order of appearance drawn by lot"),
    "open_interview_session": ("面议开始", "Interview session opened"),
    "begin_interview_segment": ("面议环节开始", "Interview segment began"),
    "end_interview_segment": ("面议环节结束", "Interview segment ended"),
    "record_interview_question": ("评委提问与回答记录", "Judge's question and answer recorded"),
    "request_sheet_correction": ("评委申请更正评分表", "Judge asked to correct a score sheet"),
    "approve_sheet_correction": ("评分表更正经管理员核准", "Score sheet correction approved"),
    "reject_sheet_correction": ("评分表更正未获核准", "Score sheet correction refused"),
    "appoint_inspection_team": ("组建考察组", "Inspection team appointed"),
    "record_inspection_work": ("考察工作记录", "Inspection work recorded"),
    "record_committee_meeting": ("党委会记录", "Committee meeting recorded"),
    "committee_postpone": ("党委会缓议", "Postponed by the committee"),
    "record_backfill_meeting": ("递补党委会记录", "Backfill committee meeting recorded"),
    "queue_notification": ("结果通知待发送", "Outcome email queued"),
    "notification_sent": ("结果通知已发送", "Outcome email sent"),
    "notification_failed": ("结果通知发送失败", "Outcome email failed"),
    "resend_notification": ("重新发送结果通知", "Outcome email resent"),
    "receive_objection": ("收到异议", "Objection received"),
    "handle_objection": ("异议处理", "Objection handled"),
    "conclude_objection": ("异议调查结论", "Objection concluded"),
    "acknowledge_objection": ("异议受理回执", "Objection acknowledged to the objector"),
    "reserve_expired": ("储备人选期满", "Reserve period ended"),
    "reserve_used": ("储备人选被后续选拔推荐", "Reserve nominated in a later selection"),
    "assign_mentor": ("指定导师", "Mentor assigned"),
    "record_mentor_meeting": ("导师谈心记录", "Mentor meeting recorded"),
    "record_party_lesson": ("党课学习记录", "Party lesson recorded"),
    "record_branch_life": ("支部生活锻炼记录", "Branch life recorded"),
    "create_user": ("创建用户", "User created"),
    "update_user": ("修改用户", "User changed"),
    "set_override": ("设置工作日调整", "Calendar day set"),
    "remove_override": ("取消工作日调整", "Calendar day reset"),
    "set_clock": ("设置模拟时钟", "Simulated clock set"),
    "advance_clock": ("推进模拟时钟", "Simulated clock advanced"),
    "clear_clock": ("恢复真实时钟", "Real clock restored"),
    "edit_template": ("修改通知模板", "Email template edited"),
    "create_webhook": ("登记推送订阅", "Webhook registered"),
    "update_webhook": ("修改推送订阅", "Webhook changed"),
    "delete_webhook": ("删除推送订阅", "Webhook deleted"),
    "rotate_webhook_secret": ("更换推送密钥", "Webhook secret rotated"),
    "redeliver_webhook": ("重新推送", "Webhook message redelivered"),
    "disable_webhook": ("停用推送订阅", "Webhook disabled"),
}


def action_label(machine: str, action: str, lang: Lang | None = None) -> str:
    """An action's label: the machine's transition, else the record's own work; an unknown
    identifier is its own label."""
    zh, en = _ACTIONS.get((machine, action)) or RECORD_ACTIONS.get(action, (action, action))
    return pick(zh, en, lang)


OUTCOMES: dict[str, tuple[str, str]] = {
    "appointed": ("上岗使用", "Appointed"),
    "reserve": ("储备人选", "Reserve"),
    "not_qualified": ("不符合", "Not qualified"),
    "postponed": ("缓议", "Postponed"),
    "lapsed": ("未确认参选", "Did not confirm in time"),
    "declined": ("本人不同意参选", "Declined to stand"),
    "withdrawn": ("本人退出", "Withdrew"),
    "confirmed": ("试用胜任，正式任职", "Confirmed in the post"),
    "dismissed": ("试用不胜任", "Found unfit on trial"),
    "revoked": ("取消任用", "Appointment revoked"),
    "appointment_withdrawn": ("本人辞去拟任职务", "Withdrew from the appointment"),
    "reserve_expired": ("储备期满", "Reserve period ended"),
    "reserve_used": ("储备人选被推荐", "Nominated from the reserve pool"),
    "backfilled": ("递补上岗使用", "Appointed to fill a vacated post"),
    "not_elected": ("选举未当选", "Not elected by the branch"),
    "not_approved": ("上级党委未批准", "Not approved by the higher committee"),
    "objection_ack": ("异议受理回执", "Objection acknowledged"),
}


def outcome_label(outcome: str | None, lang: Lang | None = None) -> str | None:
    """An outcome's label (上岗使用 / 储备人选 / 不符合 / 缓议)."""
    if outcome is None:
        return None
    zh, en = OUTCOMES.get(outcome, (outcome, outcome))
    return pick(zh, en, lang)


# ---------------------------------------------------------------- problem titles
# Every problem title the service uses, by its English text. A test checks that every
# title the code can produce is here.
TITLES_ZH: dict[str, str] = {
    "Bad request": "请求有误",
    "Not found": "未找到",
    "Conflict": "冲突",
    "Forbidden": "无权操作",
    "Not authenticated": "未登录或登录已失效",
    "Precondition failed": "前提条件不符（数据已被修改）",
    "Invalid input": "输入有误",
    "Method not allowed": "不支持该请求方法",
    "Not acceptable": "无法提供所要求的格式",
    "Payload too large": "请求内容过大",
    "Unsupported media type": "不支持的内容类型",
    "HTTP error": "HTTP 错误",
    "Too many attempts": "尝试次数过多",
    "Not ready": "服务尚未就绪",
    "Database busy": "数据库繁忙",
    "Logins busy": "登录人数过多，请稍后再试",
    "Internal error": "服务内部错误",
    "Action refused": "操作被拒绝",
    "Unknown action": "未知操作",
    "Action not allowed in this state": "当前状态下不能进行该操作",
    "Role not permitted": "角色无权进行该操作",
    "A reason is required": "须填写理由",
    "Action refused by a rule": "不符合规则，操作被拒绝",
}


def title(english: str, lang: Lang | None = None) -> str:
    """A problem title in the current language (English titles are the source text)."""
    return pick(TITLES_ZH.get(english, english), english, lang)


class LanguageMiddleware:
    """Chooses the language from `Accept-Language`; answers with `Content-Language` and
    `Vary: Accept-Language`."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        header = dict(scope.get("headers") or []).get(b"accept-language", b"")
        lang = negotiate(header.decode("latin-1"))
        token = lang_var.set(lang)

        async def send_with_language(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() != b"content-language"]
                message["headers"] = [*headers, (b"content-language", lang.encode()),
                                      (b"vary", b"Accept-Language")]
            await send(message)

        try:
            await self.app(scope, receive, send_with_language)
        finally:
            lang_var.reset(token)
