"""Sending the case outbox (``casework_notification``) through pluggable channels.

Steps put messages in the outbox in their own transaction; :func:`send_pending` hands the
unsent ones to their channel and marks them sent. A channel is anything with ``send``:
the shipped one, :class:`LocalLog`, appends each message as a JSON line to a file (one per
channel: ``sms.jsonl``, ``in_app.jsonl``) — the platform sends nothing over a network, a
city plugs its SMS gateway in here. Delivery is at least once: a crash between sending and
marking sends the message again, with the same ``id`` for the receiver to drop.

A message names the case and the registry's person id, never a phone number or a name: the
gateway looks the number up on its side of the agreement.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Final, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from hukou.casework.model import CaseNotification, CaseRow

__all__ = ["TEMPLATES", "Channel", "LocalLog", "Message", "send_pending"]

TEMPLATES: Final[Mapping[str, tuple[str, str]]] = {
    "case.approved": ("您的办件 {case} 已办结：准予办理。", "Your case {case} is approved."),
    "case.rejected": (
        "您的办件 {case} 经审核不予办理，理由见办件详情，可申请复核。",
        "Your case {case} was refused; the reasons are in the case, and you may ask for review.",
    ),
    "case.material_needed": (
        "您的办件 {case} 需补充材料，清单已一次性告知，请在办件详情中上传。",
        "Your case {case} needs material (all of it listed at once); upload it in the case.",
    ),
    "case.delivered": (
        "您的办件 {case} 结果已送达，欢迎评价。",
        "The result of {case} is delivered; please rate it.",
    ),
    "supervisor.at_risk": (
        "办件 {case} 距法定时限仅剩1个工作日。",
        "Case {case} has one working day left.",
    ),
    "supervisor.breached": ("办件 {case} 已超过法定时限。", "Case {case} is past its deadline."),
}
"""Template → (zh, en) text; ``{case}`` is the case number."""


@dataclass(frozen=True, slots=True)
class Message:
    """One message as a channel receives it."""

    id: int
    case_id: str
    person_id: str | None
    department: str
    channel: str
    template: str
    zh: str
    en: str
    created_at: str


class Channel(Protocol):
    """Something that delivers messages (an SMS gateway, the in-app inbox)."""

    def send(self, message: Message) -> None: ...


@dataclass(frozen=True, slots=True)
class LocalLog:
    """A channel that appends each message to ``folder/<channel>.jsonl`` (no network)."""

    folder: Path

    def send(self, message: Message) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        line = json.dumps(asdict(message), ensure_ascii=False, sort_keys=True)
        with (self.folder / f"{message.channel}.jsonl").open("a", encoding="utf-8") as stream:
            stream.write(line + "\n")


def send_pending(
    db: Session, channels: Mapping[str, Channel], *, now: datetime.datetime, limit: int = 1000
) -> int:
    """Send up to ``limit`` unsent messages of the channels given; how many were sent.

    Messages of a channel not given stay in the outbox for whoever sends that channel.
    """
    rows = db.execute(
        select(CaseNotification, CaseRow.first_contact)
        .join(CaseRow, CaseRow.id == CaseNotification.case_id)
        .where(
            CaseNotification.sent_at.is_(None),
            CaseNotification.channel.in_(sorted(channels)),
        )
        .order_by(CaseNotification.id)
        .limit(limit)
    ).all()
    for notification, department in rows:
        zh, en = TEMPLATES.get(
            notification.template, ("办件 {case} 有更新。", "Case {case} changed.")
        )
        channels[notification.channel].send(
            Message(
                id=notification.id,
                case_id=notification.case_id,
                person_id=notification.person_id,
                department=department,
                channel=notification.channel,
                template=notification.template,
                zh=zh.format(case=notification.case_id),
                en=en.format(case=notification.case_id),
                created_at=notification.created_at.isoformat(),
            )
        )
        notification.sent_at = now
    db.flush()
    return len(rows)
