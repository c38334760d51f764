"""Console language: simplified Chinese by default, English on request.

The choice comes from ``?lang=`` (remembered in a cookie), then the cookie, then the
configured default. Browser Accept-Language is deliberately not followed: a window
clerk's machine may be set to anything, and the console's working language is a
decision of the office, not of the browser.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

__all__ = ["LANGUAGES", "MESSAGES", "Translator", "negotiate_language"]

LANGUAGES: Final = ("zh-CN", "en")

MESSAGES: Final[Mapping[str, Mapping[str, str]]] = {
    "app.name": {"zh-CN": "户籍支援服务平台", "en": "Hukou household-registration support"},
    "nav.status": {"zh-CN": "运行状态", "en": "System status"},
    "nav.api": {"zh-CN": "接口文档", "en": "API docs"},
    "mode.elder": {"zh-CN": "长辈模式", "en": "Elderly-friendly mode"},
    "mode.standard": {"zh-CN": "标准模式", "en": "Standard mode"},
    "lang.switch": {"zh-CN": "English", "en": "简体中文"},
    "status.title": {"zh-CN": "系统运行状态", "en": "System status"},
    "status.ok": {"zh-CN": "正常", "en": "OK"},
    "status.degraded": {"zh-CN": "异常", "en": "Degraded"},
    "status.database": {"zh-CN": "数据库", "en": "Database"},
    "status.engine": {"zh-CN": "数据库类型", "en": "Engine"},
    "status.revision": {"zh-CN": "数据结构版本", "en": "Schema revision"},
    "status.calendar": {"zh-CN": "法定工作日历已知年份", "en": "Working-day calendar years"},
    "status.divisions": {"zh-CN": "行政区划代码数据", "en": "Division code data"},
    "status.version": {"zh-CN": "软件版本", "en": "Version"},
    "error.title": {"zh-CN": "抱歉，出了点问题", "en": "Sorry, something went wrong"},
    "error.body": {
        "zh-CN": "您的操作没有完成。请稍后再试；如需帮助，请把下面的编号告诉工作人员。",
        "en": "Your request was not completed. Please try again later; if you need help, "
        "give the reference below to staff.",
    },
    "error.reference": {"zh-CN": "问题编号", "en": "Reference"},
    "error.not_found": {"zh-CN": "页面不存在", "en": "Page not found"},
    "skip.main": {"zh-CN": "跳到正文", "en": "Skip to main content"},
    "nav.label": {"zh-CN": "主导航", "en": "Main"},
    "nav.home": {"zh-CN": "首页", "en": "Home"},
    "nav.window": {"zh-CN": "一窗受理", "en": "Window"},
    "nav.me": {"zh-CN": "我的", "en": "My page"},
    "nav.login": {"zh-CN": "登录", "en": "Log in"},
    "nav.logout": {"zh-CN": "退出", "en": "Log out"},
    "login.title": {"zh-CN": "登录", "en": "Log in"},
    "login.username": {"zh-CN": "用户名", "en": "User name"},
    "login.password": {"zh-CN": "密码", "en": "Password"},
    "login.submit": {"zh-CN": "登录", "en": "Log in"},
    "login.hint": {
        "zh-CN": "工作人员和居民使用同一入口。演示账号由 hukou demo 打印。",
        "en": "Staff and residents log in here. `hukou demo` prints the demo accounts.",
    },
    "login.code_title": {"zh-CN": "动态验证码", "en": "Authenticator code"},
    "login.code": {"zh-CN": "6 位验证码", "en": "6-digit code"},
    "login.enrol": {
        "zh-CN": "请在身份验证器应用中添加此密钥，然后输入显示的验证码：",
        "en": "Add this key to your authenticator app, then enter the code it shows:",
    },
    "home.title": {"zh-CN": "工作台：关键指标", "en": "Console: key indicators"},
    "home.hint": {
        "zh-CN": "指标按方案的基线与目标对照，由案件与人口库数据实时计算。",
        "en": "The plan's indicators beside its baseline and target, "
        "computed from cases and the registry.",
    },
    "home.target": {"zh-CN": "目标", "en": "target"},
    "home.baseline": {"zh-CN": "基线", "en": "baseline"},
    "home.cases_by_service": {"zh-CN": "各项服务受理量", "en": "Cases by service"},
    "home.cases": {"zh-CN": "案件数", "en": "Cases"},
    "home.decided": {"zh-CN": "已办结", "en": "Decided"},
    "home.service": {"zh-CN": "服务事项", "en": "Service"},
    "window.title": {"zh-CN": "一窗受理", "en": "One-window filing"},
    "window.hint": {
        "zh-CN": "选择事项并输入身份号码：人口库已能证明的事实无需提交证明材料（免证明）。",
        "en": "Choose the service and give the identity numbers: "
        "what the registry proves needs no paper.",
    },
    "window.service": {"zh-CN": "办理事项", "en": "Service"},
    "window.choose": {"zh-CN": "请选择", "en": "Choose"},
    "window.applicant": {"zh-CN": "申请人身份号码", "en": "Applicant's identity number"},
    "window.subject": {"zh-CN": "办理对象身份号码", "en": "Subject's identity number"},
    "window.subject_hint": {
        "zh-CN": "为他人办理时填写（如出生一件事的新生儿）；为本人办理可不填。",
        "en": "When the case is about someone else (the newborn of a birth); blank for oneself.",
    },
    "window.materials": {"zh-CN": "已收取的材料", "en": "Materials handed over"},
    "window.helper": {"zh-CN": "帮办代办（可选）", "en": "Assisted filing (optional)"},
    "window.helper_number": {"zh-CN": "代办人身份号码", "en": "Helper's identity number"},
    "window.helper_relation": {"zh-CN": "与申请人关系", "en": "Relation to the applicant"},
    "window.samples": {"zh-CN": "演示样例", "en": "Demo samples"},
    "window.samples_hint": {
        "zh-CN": "仅演示环境：点击即按合成城市居民的证件填好表单。",
        "en": "Demo only: fills the form from a synthetic resident's ID card.",
    },
    "window.submit": {"zh-CN": "受理并提交", "en": "File"},
    "relation.parent": {"zh-CN": "父母", "en": "Parent"},
    "relation.child": {"zh-CN": "子女", "en": "Child"},
    "relation.spouse": {"zh-CN": "配偶", "en": "Spouse"},
    "relation.relative": {"zh-CN": "其他亲属", "en": "Other relative"},
    "relation.social_worker": {"zh-CN": "社区工作者", "en": "Community worker"},
    "relation.other": {"zh-CN": "其他", "en": "Other"},
    "nav.inbox": {"zh-CN": "审核", "en": "Review"},
    "inbox.title": {"zh-CN": "审核任务", "en": "Review inbox"},
    "inbox.hint": {
        "zh-CN": "本部门待审核任务，按办结时限排序；剩余工作日已扣除补正材料的等待。",
        "en": "Your department's open tasks, nearest deadline first; "
        "waits for material do not count.",
    },
    "inbox.empty": {"zh-CN": "暂无待审核任务。", "en": "No open tasks."},
    "inbox.workdays_left": {"zh-CN": "个工作日剩余", "en": "working days left"},
    "inbox.escalated": {"zh-CN": "已上报督办", "en": "escalated"},
    "inbox.note": {"zh-CN": "审核意见（可选）", "en": "Note (optional)"},
    "inbox.materials": {"zh-CN": "要求补正的材料", "en": "Material to request"},
    "inbox.approve": {"zh-CN": "同意", "en": "Approve"},
    "inbox.reject": {"zh-CN": "不同意", "en": "Reject"},
    "inbox.request_material": {"zh-CN": "要求补正", "en": "Request material"},
    "nav.points": {"zh-CN": "积分落户", "en": "Points"},
    "points.title": {
        "zh-CN": "积分落户：政策与改革测算",
        "en": "Settlement points: policy and reform",
    },
    "points.policy": {"zh-CN": "积分政策", "en": "Policy"},
    "points.change": {"zh-CN": "调整（指标.参数=值）", "en": "Change (INDICATOR.PARAMETER=VALUE)"},
    "points.change_hint": {
        "zh-CN": "例如 education.master=28：硕士由 26 分调为 28 分。",
        "en": "e.g. education.master=28: a master's degree from 26 to 28 points.",
    },
    "points.from": {"zh-CN": "施行日期", "en": "In force from"},
    "points.quota": {"zh-CN": "落户指标", "en": "Places"},
    "points.simulate": {"zh-CN": "测算", "en": "Simulate"},
    "points.result": {"zh-CN": "测算结果", "en": "Outcome"},
    "points.pool_city": {
        "zh-CN": "申请人：合成城市积分申请池",
        "en": "Applicants: the city's pool",
    },
    "points.pool_made_up": {
        "zh-CN": "申请人：模拟申请池（10 万人）",
        "en": "Applicants: a made-up pool of 100,000",
    },
    "points.before": {"zh-CN": "调整前", "en": "Before"},
    "points.after": {"zh-CN": "调整后", "en": "After"},
    "points.cutoff": {"zh-CN": "落户分数线", "en": "Cutoff"},
    "points.admitted": {"zh-CN": "落户人数", "en": "Admitted"},
    "points.tied": {"zh-CN": "分数线同分", "en": "Tied at the cutoff"},
    "points.qualified": {"zh-CN": "符合申报条件", "en": "Qualified"},
    "points.newly": {"zh-CN": "新增落户", "en": "Newly admitted"},
    "points.no_longer": {"zh-CN": "不再落户", "en": "No longer admitted"},
    "points.categories": {
        "zh-CN": "落户人员各类积分均值",
        "en": "Average points of the admitted by category",
    },
    "points.distribution": {"zh-CN": "符合条件者的分数分布", "en": "Scores of the qualified"},
    "points.category": {"zh-CN": "类别", "en": "Category"},
    "points.ranking": {"zh-CN": "按指标排名", "en": "Ranking against the quota"},
    "points.rank": {"zh-CN": "名次", "en": "Rank"},
    "points.applicant": {"zh-CN": "申请人", "en": "Applicant"},
    "points.score": {"zh-CN": "积分", "en": "Score"},
    "points.explain": {"zh-CN": "积分明细", "en": "Score explained"},
    "points.age": {"zh-CN": "计分年龄", "en": "age counted"},
    "points.qualified_yes": {"zh-CN": "具备申报资格", "en": "qualified"},
    "points.qualified_no": {"zh-CN": "不具备申报资格", "en": "not qualified"},
    "points.inputs": {"zh-CN": "输入", "en": "Inputs"},
    "points.points": {"zh-CN": "分值", "en": "Points"},
    "points.back": {"zh-CN": "返回积分政策", "en": "Back to the policy"},
    "points.indicator": {"zh-CN": "指标", "en": "Indicator"},
    "points.parameters": {"zh-CN": "现行参数", "en": "Parameters in force"},
    "points.since": {"zh-CN": "自", "en": "since"},
    "nav.audit": {"zh-CN": "审计", "en": "Audit"},
    "audit.title": {"zh-CN": "审计日志", "en": "Audit ledger"},
    "audit.size": {"zh-CN": "日志条目", "en": "Entries"},
    "audit.checkpoint": {"zh-CN": "最新签名检查点", "en": "Latest signed checkpoint"},
    "audit.root": {"zh-CN": "根哈希", "en": "Root hash"},
    "audit.note": {"zh-CN": "签名文本", "en": "Signed note"},
    "audit.hint": {
        "zh-CN": "检查点用平台公钥（hukou audit key）验证签名后，任何条目的包含证明都可独立核验。",
        "en": "Check the checkpoint's signature with the platform's public key (hukou audit key);"
        " then any entry's inclusion proof can be checked independently.",
    },
    "audit.verify": {"zh-CN": "全量校验", "en": "Verify everything"},
    "audit.verified_ok": {"zh-CN": "校验通过", "en": "Verified"},
    "audit.verified_bad": {"zh-CN": "发现问题", "en": "Problems found"},
    "audit.entries": {"zh-CN": "条目", "en": "entries"},
    "audit.checkpoints": {"zh-CN": "个检查点", "en": "checkpoints"},
    "audit.recent": {"zh-CN": "最近条目", "en": "Latest entries"},
    "audit.person_history": {"zh-CN": "该人员的访问历史", "en": "This person's history"},
    "audit.person": {"zh-CN": "人员编号", "en": "Person id"},
    "audit.show": {"zh-CN": "查看", "en": "Show"},
    "audit.actor": {"zh-CN": "操作者", "en": "Actor"},
    "audit.what": {"zh-CN": "内容", "en": "What"},
    "audit.outcome": {"zh-CN": "结果", "en": "Outcome"},
    "audit.entry": {"zh-CN": "日志条目", "en": "Ledger entry"},
    "audit.text": {"zh-CN": "规范文本（叶子数据）", "en": "Canonical text (the leaf data)"},
    "audit.proof": {"zh-CN": "包含证明（自下而上）", "en": "Inclusion proof (bottom up)"},
    "audit.proof_ok": {
        "zh-CN": "包含证明已核验：该条目在签名检查点之内，大小",
        "en": "Inclusion proof checked: the entry is in the signed checkpoint of size",
    },
    "audit.back": {"zh-CN": "返回审计日志", "en": "Back to the ledger"},
    "nav.persons": {"zh-CN": "人员查询", "en": "Residents"},
    "persons.title": {"zh-CN": "人员查询", "en": "Find a resident"},
    "persons.hint": {
        "zh-CN": "每次查询都按所选用途记入审计日志，当事人可在“我的”中看到。",
        "en": "Every search is logged for the chosen purpose; "
        "the resident sees it in their portal.",
    },
    "persons.purpose": {"zh-CN": "用途", "en": "Purpose"},
    "persons.or": {"zh-CN": "或按姓名与出生日期：", "en": "or by name and birth date:"},
    "persons.name": {"zh-CN": "姓名", "en": "Name"},
    "persons.birth_date": {"zh-CN": "出生日期", "en": "Birth date"},
    "persons.search": {"zh-CN": "查询", "en": "Search"},
    "persons.found": {"zh-CN": "查询结果", "en": "Found"},
    "persons.none": {"zh-CN": "人口库中没有符合的人员。", "en": "No one in the registry matches."},
    "person.title": {"zh-CN": "人员", "en": "Person"},
    "person.ledger": {"zh-CN": "本次查阅的审计日志", "en": "this read's ledger entry"},
    "person.value": {"zh-CN": "值", "en": "Value"},
    "person.source": {
        "zh-CN": "来源（部门 · 日期 · 文件:行）",
        "en": "Source (department · date · file:row)",
    },
    "person.in_clear": {"zh-CN": "（明文）", "en": "(in clear)"},
    "person.unmask": {"zh-CN": "查看明文", "en": "Show in clear"},
    "person.unmask_items": {"zh-CN": "要查看明文的数据项", "en": "Items to show in clear"},
    "person.reason": {"zh-CN": "理由（记入审计）", "en": "Reason (kept with the ledger entry)"},
    "person.unmask_submit": {"zh-CN": "说明理由并查看", "en": "Show with this reason"},
    "person.no_permission": {"zh-CN": "本账号无明文查看权限", "en": "This account may not unmask"},
    "person.unmask_refused": {
        "zh-CN": "明文查看被拒绝（无权限或未说明理由），数据仍为脱敏显示；此次尝试已记入审计。",
        "en": "Unmasking refused (no permission or no reason): the items stay masked; "
        "the attempt is in the ledger.",
    },
    "denial.not_permitted": {"zh-CN": "无权查阅", "en": "Not permitted"},
    "denial.unknown_purpose": {"zh-CN": "用途不在目录中", "en": "Unknown purpose"},
    "denial.unknown_field": {"zh-CN": "不在共享目录中", "en": "Not in the sharing catalogue"},
    "denial.never_shared": {"zh-CN": "不予共享", "en": "Never shared"},
    "denial.no_agreement": {"zh-CN": "无共享协议", "en": "No sharing agreement"},
    "denial.not_in_force": {"zh-CN": "协议未生效", "en": "Agreement not in force"},
    "denial.purpose_not_agreed": {"zh-CN": "协议未约定此用途", "en": "Not agreed for this purpose"},
    "denial.no_consent": {"zh-CN": "未取得本人同意", "en": "No consent"},
    "denial.None": {"zh-CN": "无此数据", "en": "No data"},
    "case.deliver": {"zh-CN": "送达办结", "en": "Deliver the result"},
    "portal.apply": {"zh-CN": "网上办理", "en": "Apply online"},
    "portal.steps": {"zh-CN": "请选择要办的事", "en": "Choose what to do"},
    "portal.back": {"zh-CN": "← 返回", "en": "← Back"},
    "portal.apply_hint": {
        "zh-CN": "为本人申请；人口库已掌握的信息无需提交证明，能秒批的当场出结果。",
        "en": "For yourself; what the registry knows needs no paper, "
        "and simple cases are decided at once.",
    },
    "portal.apply_submit": {"zh-CN": "提交申请", "en": "Apply"},
    "portal.rate": {"zh-CN": "服务评价（好差评）", "en": "Rate the service"},
    "portal.reasons": {"zh-CN": "理由（可多选）", "en": "Reasons"},
    "portal.rate_submit": {"zh-CN": "提交评价", "en": "Rate"},
    "portal.rated": {"zh-CN": "已评价：", "en": "Rated"},
    "score.5": {"zh-CN": "非常满意", "en": "Very satisfied"},
    "score.4": {"zh-CN": "满意", "en": "Satisfied"},
    "score.3": {"zh-CN": "基本满意", "en": "Fairly satisfied"},
    "score.2": {"zh-CN": "不满意", "en": "Dissatisfied"},
    "score.1": {"zh-CN": "非常不满意", "en": "Very dissatisfied"},
    "nav.data": {"zh-CN": "数据管理", "en": "Data"},
    "data.title": {"zh-CN": "数据管理", "en": "Data"},
    "data.review": {"zh-CN": "人工复核", "en": "Clerical review"},
    "data.review_hint": {
        "zh-CN": "比对引擎不能确定的两条记录：判定后记入审计，以后的关联运行都遵从该判定。",
        "en": "Two records linkage was unsure about: the decision is logged and every later "
        "link run honours it.",
    },
    "data.review_empty": {"zh-CN": "没有待复核的记录对。", "en": "No pair waits for review."},
    "data.left": {"zh-CN": "记录甲", "en": "Record A"},
    "data.right": {"zh-CN": "记录乙", "en": "Record B"},
    "data.probability": {"zh-CN": "同一人概率", "en": "Probability of one person"},
    "data.status": {"zh-CN": "状态", "en": "status"},
    "data.same": {"zh-CN": "同一人（合并）", "en": "Same person (merge)"},
    "data.different": {"zh-CN": "不同的人（分开）", "en": "Different people (keep apart)"},
    "data.batches": {"zh-CN": "数据批次", "en": "Feed batches"},
    "data.file": {"zh-CN": "文件", "en": "File"},
    "data.rows": {"zh-CN": "行数 = 接收 + 隔离", "en": "Rows = accepted + quarantined"},
    "data.top_reasons": {"zh-CN": "主要隔离原因", "en": "Top reasons"},
    "data.quarantine": {"zh-CN": "隔离区（最近）", "en": "Quarantine (latest)"},
    "data.line": {"zh-CN": "行号", "en": "Line"},
    "data.reasons": {"zh-CN": "原因（值已脱敏）", "en": "Reasons (values masked)"},
    "case.title": {"zh-CN": "案件", "en": "Case"},
    "case.instant": {"zh-CN": "秒批", "en": "instant decision"},
    "case.channel": {"zh-CN": "受理渠道", "en": "Channel"},
    "case.filed_at": {"zh-CN": "受理时间", "en": "Filed"},
    "case.deadline": {"zh-CN": "办结时限", "en": "Deadline"},
    "case.workdays": {"zh-CN": "个工作日", "en": "working days"},
    "case.legal": {"zh-CN": "法律依据", "en": "Legal basis"},
    "case.facts": {"zh-CN": "核验的事实", "en": "Facts checked"},
    "case.fact": {"zh-CN": "事实", "en": "Fact"},
    "case.holds": {"zh-CN": "结果", "en": "Holds"},
    "case.source": {"zh-CN": "来源", "en": "Source"},
    "case.ledger": {"zh-CN": "审计日志", "en": "Ledger entry"},
    "case.tasks": {"zh-CN": "部门审核", "en": "Department tasks"},
    "case.department": {"zh-CN": "部门", "en": "Department"},
    "case.stage": {"zh-CN": "阶段", "en": "Stage"},
    "case.task_state": {"zh-CN": "状态", "en": "State"},
    "case.next": {"zh-CN": "受理下一件", "en": "File the next one"},
    "state.submitted": {"zh-CN": "已受理", "en": "Submitted"},
    "state.awaiting_material": {"zh-CN": "待补正材料", "en": "Awaiting material"},
    "state.in_review": {"zh-CN": "部门审核中", "en": "In review"},
    "state.approved": {"zh-CN": "已批准", "en": "Approved"},
    "state.rejected": {"zh-CN": "不予批准", "en": "Rejected"},
    "state.delivered": {"zh-CN": "已送达", "en": "Delivered"},
    "state.withdrawn": {"zh-CN": "已撤回", "en": "Withdrawn"},
    "task.waiting": {"zh-CN": "待上一阶段", "en": "Waiting"},
    "task.open": {"zh-CN": "待审核", "en": "Open"},
    "task.approved": {"zh-CN": "已同意", "en": "Approved"},
    "task.rejected": {"zh-CN": "不同意", "en": "Rejected"},
    "task.material_requested": {"zh-CN": "要求补正", "en": "Material requested"},
    "task.cancelled": {"zh-CN": "已取消", "en": "Cancelled"},
    "channel.window": {"zh-CN": "窗口", "en": "Window"},
    "channel.online": {"zh-CN": "网上", "en": "Online"},
    "channel.assisted": {"zh-CN": "帮办代办", "en": "Assisted"},
    "channel.enterprise_station": {"zh-CN": "企业服务站", "en": "Enterprise station"},
    "sla.on_track": {"zh-CN": "正常", "en": "on track"},
    "sla.at_risk": {"zh-CN": "临期", "en": "at risk"},
    "sla.breached": {"zh-CN": "超期", "en": "breached"},
    "source.registry": {"zh-CN": "人口库（免证明）", "en": "Registry (no paper)"},
    "source.material": {"zh-CN": "材料", "en": "Material"},
    "source.missing": {"zh-CN": "缺失", "en": "Missing"},
    "holds.true": {"zh-CN": "符合", "en": "Yes"},
    "holds.false": {"zh-CN": "不符合", "en": "No"},
    "holds.none": {"zh-CN": "待核验", "en": "Unknown"},
    "portal.title": {"zh-CN": "我的户籍服务", "en": "My services"},
    "portal.cases": {"zh-CN": "我的办件", "en": "My cases"},
    "portal.no_cases": {"zh-CN": "暂无办件。", "en": "No cases yet."},
    "portal.accesses": {"zh-CN": "谁查看了我的数据", "en": "Who read my data"},
    "portal.accesses_hint": {
        "zh-CN": "每一次查询都记入不可篡改的审计日志，并附有可独立验证的证明。",
        "en": "Every read is in the tamper-evident ledger, with a proof you can check yourself.",
    },
    "portal.when": {"zh-CN": "时间", "en": "When"},
    "portal.purpose": {"zh-CN": "用途", "en": "Purpose"},
    "portal.items": {"zh-CN": "数据项", "en": "Items"},
    "portal.proof": {"zh-CN": "证明", "en": "Proof"},
    "portal.proof_yes": {"zh-CN": "已纳入签名检查点", "en": "in a signed checkpoint"},
    "portal.proof_pending": {"zh-CN": "待下一检查点", "en": "awaiting the next checkpoint"},
}


def negotiate_language(query: str | None, cookie: str | None, default: str = "zh-CN") -> str:
    """The language to render: query, then cookie, then the default.

    >>> negotiate_language("en", None), negotiate_language(None, "en")
    ('en', 'en')
    >>> negotiate_language("xx", None)
    'zh-CN'
    """
    for candidate in (query, cookie):
        if candidate in LANGUAGES:
            return candidate
    return default if default in LANGUAGES else LANGUAGES[0]


@dataclass(frozen=True, slots=True)
class Translator:
    """Looks up console strings in one language; a missing key is a bug, so it raises."""

    language: str

    def __call__(self, key: str) -> str:
        return MESSAGES[key][self.language]
