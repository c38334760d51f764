"""The case outbox goes out through local channels, once per message, without personal data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from hukou.casework.model import CaseNotification
from hukou.casework.notify import TEMPLATES, LocalLog, send_pending
from hukou.db import session_scope
from tests.casework.cases import HERE, NEWBORN, NOW, file_on_facts

pytestmark = pytest.mark.storage


def test_pending_messages_are_sent_once_per_channel(engine: Engine, tmp_path: Path) -> None:
    case_id = file_on_facts(engine, HERE | NEWBORN)  # approved at once: in_app and sms
    log = LocalLog(tmp_path / "outbox")
    with session_scope(engine) as db:
        assert send_pending(db, {"in_app": log}, now=NOW) == 1
    with session_scope(engine) as db:
        assert send_pending(db, {"in_app": log}, now=NOW) == 0  # sent already
        unsent = db.scalar(
            select(func.count())
            .select_from(CaseNotification)
            .where(CaseNotification.sent_at.is_(None))
        )
        assert unsent == 1  # the SMS waits for its own channel
        assert send_pending(db, {"sms": log, "in_app": log}, now=NOW) == 1
    (line,) = (tmp_path / "outbox" / "in_app.jsonl").read_text(encoding="utf-8").splitlines()
    message = json.loads(line)
    assert (message["case_id"], message["person_id"]) == (case_id, "Rparent")
    assert message["zh"] == TEMPLATES["case.approved"][0].format(case=case_id)
    assert message["department"] == "public_security"
    assert set(message) == {
        "id",
        "case_id",
        "person_id",
        "department",
        "channel",
        "template",
        "zh",
        "en",
        "created_at",
    }  # no phone, no name: the gateway looks them up
