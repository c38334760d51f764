"""The console's pages over HTTP on a set-up demo: login (login-CSRF token, safe
``next``, second factor), the window's refusals (no identity number echoed), who may
see which page, the KPI page's JSON twin, logout."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from hukou.accounts.totp import secret_from_base32, totp_code
from hukou.app import create_app
from hukou.audit import ledger
from hukou.casework.model import CaseMaterial, CaseRow
from hukou.db import create_engine_for, session_scope
from hukou.demo.seats import DEMO_PASSWORD
from hukou.demo.state import Sample
from hukou.registry.model import ReviewPair
from hukou.security.sm import sm3
from tests.demo.conftest import Prepared


@pytest.fixture
def client(prepared: Prepared) -> Iterator[TestClient]:
    with TestClient(create_app(prepared.settings), follow_redirects=False) as client:
        yield client


def _token(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found is not None, name
    return found.group(1)


def _log_in(client: TestClient, username: str, *, next_path: str = "") -> Any:
    form = client.get("/login")
    assert form.status_code == 200
    return client.post(
        "/login",
        data={
            "login_token": _token(form.text, "login_token"),
            "username": username,
            "password": DEMO_PASSWORD,
            "next": next_path,
        },
    )


def _file(client: TestClient, sample: Sample) -> Any:
    """The window's filing of a demo sample, as the logged-in clerk."""
    page = client.get("/console/window")
    return client.post(
        "/console/window",
        data={
            "csrf_token": _token(page.text, "csrf_token"),
            "service": sample.service,
            "applicant_identity_number": sample.applicant,
            "subject_identity_number": sample.subject or "",
        },
    )


def _with_second_factor(client: TestClient, prepared: Prepared, username: str) -> None:
    officer = next(a for a in prepared.state.accounts if a.username == username)
    assert officer.totp_secret is not None
    asked = _log_in(client, username)
    code = totp_code(secret_from_base32(officer.totp_secret), datetime.datetime.now(datetime.UTC))
    client.post("/login/code", data={"challenge": _token(asked.text, "challenge"), "code": code})


def test_a_page_sends_the_anonymous_to_the_login_and_back(client: TestClient) -> None:
    answer = client.get("/console/window")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/console/window"
    signed = _log_in(client, "clerk", next_path="/console/window")
    assert signed.status_code == 303
    assert signed.headers["location"] == "/console/window"
    assert client.get("/console/window").status_code == 200


def test_the_login_form_needs_its_own_token_and_ignores_foreign_next(client: TestClient) -> None:
    client.get("/login")
    forged = client.post(
        "/login", data={"login_token": "forged", "username": "clerk", "password": DEMO_PASSWORD}
    )
    assert forged.status_code == 403
    answer = _log_in(client, "clerk", next_path="//evil.example/steal")
    assert answer.headers["location"] == "/console"


def test_an_officer_needs_the_code_and_a_wrong_one_is_refused(
    client: TestClient, prepared: Prepared
) -> None:
    officer = next(a for a in prepared.state.accounts if a.username == "officer-public_security")
    assert officer.totp_secret is not None
    asked = _log_in(client, officer.username)
    assert asked.status_code == 200
    challenge = _token(asked.text, "challenge")
    wrong = client.post("/login/code", data={"challenge": challenge, "code": "000000"})
    assert wrong.status_code == 401
    code = totp_code(secret_from_base32(officer.totp_secret), datetime.datetime.now(datetime.UTC))
    right = client.post("/login/code", data={"challenge": challenge, "code": code})
    assert right.status_code == 303
    assert right.headers["location"] == "/console"


def test_the_window_refuses_an_unknown_number_without_echoing_it(client: TestClient) -> None:
    _log_in(client, "clerk")
    page = client.get("/console/window")
    csrf = _token(page.text, "csrf_token")
    unknown = "11010519491231002X"
    answer = client.post(
        "/console/window",
        data={
            "csrf_token": csrf,
            "service": "register_certificate",
            "applicant_identity_number": unknown,
        },
    )
    assert answer.status_code == 422
    assert "未找到" in answer.text
    assert unknown not in answer.text
    without_token = client.post(
        "/console/window",
        data={"service": "register_certificate", "applicant_identity_number": unknown},
    )
    assert without_token.status_code == 403


def test_the_window_files_the_sample_and_shows_the_decided_case(
    client: TestClient, prepared: Prepared
) -> None:
    sample = next(s for s in prepared.state.samples if s.service == "birth_registration")
    _log_in(client, "clerk")
    assert sample.applicant in client.get("/console/window").text  # offered (a demo)
    answer = _file(client, sample)
    assert answer.status_code == 303
    case = client.get(answer.headers["location"])
    assert case.status_code == 200
    assert "秒批" in case.text
    assert sample.applicant not in case.text  # the case page shows no identity number


def test_who_sees_which_page(client: TestClient) -> None:
    _log_in(client, "resident2")
    assert client.get("/console").headers["location"] == "/me"
    assert client.get("/api/v1/kpis").status_code == 403
    assert client.get("/me").status_code == 200
    client.cookies.clear()
    _log_in(client, "clerk")
    assert client.get("/me").status_code == 403
    kpis = client.get("/api/v1/kpis")
    assert kpis.status_code == 200
    keys = {k["key"] for k in kpis.json()["kpis"]}
    assert {"instant_share", "zero_visit_share", "median_workdays", "error_rate"} <= keys


def test_logout_ends_the_session(client: TestClient) -> None:
    _log_in(client, "clerk")
    page = client.get("/console")
    assert page.status_code == 200
    out = client.post("/logout", data={"csrf_token": _token(page.text, "csrf_token")})
    assert out.status_code == 303
    assert client.get("/console").status_code == 303


def test_a_stale_decision_loses_with_a_reload_notice(
    client: TestClient, prepared: Prepared
) -> None:
    sample = next(s for s in prepared.state.samples if "并联" in s.label_zh)
    _log_in(client, "clerk")
    filed = _file(client, sample)
    case_id = filed.headers["location"].rsplit("/", 1)[1]
    client.cookies.clear()
    _log_in(client, "reviewer-hr_social_security")
    inbox = client.get("/console/inbox")
    assert case_id in inbox.text
    found = re.search(
        rf'{case_id}.*?action="/console/tasks/(\d+)".*?name="version" value="(\d+)"',
        inbox.text,
        re.S,
    )
    assert found is not None
    task, version = found.groups()
    csrf = _token(inbox.text, "csrf_token")
    first = client.post(
        f"/console/tasks/{task}",
        data={"csrf_token": csrf, "version": version, "action": "approved"},
    )
    assert first.status_code == 303
    again = client.post(
        f"/console/tasks/{task}",
        data={"csrf_token": csrf, "version": version, "action": "rejected"},
    )
    assert again.status_code == 409
    assert "已被他人处理" in again.text
    asked = client.post(
        f"/console/tasks/{task}",
        data={"csrf_token": csrf, "version": version, "action": "material_requested"},
    )
    assert asked.status_code in (409, 422)  # stale, and no material named


def test_the_points_simulation_twin_answers_the_analyst_only(client: TestClient) -> None:
    _log_in(client, "analyst")
    query = {"change": "education.master=28", "starting": "2027-01-01"}
    answer = client.get("/api/v1/points/simulate", params=query)
    assert answer.status_code == 200
    body = answer.json()
    assert body["pool"] == "made_up"  # a 600-person city's pool is too small for 6,006 places
    assert body["quota"] == 6006  # the latest list's places (2022) for a year without its own
    assert body["after"]["cutoff"] >= body["before"]["cutoff"]
    assert body["newly_admitted"] == body["no_longer_admitted"] + (
        body["after"]["admitted"] - body["before"]["admitted"]
    )
    refused = client.get("/api/v1/points/simulate", params={"change": "education.nothing=1"})
    assert refused.status_code == 422
    page = client.get("/console/points", params={"change": "x", "starting": "not-a-date"})
    assert page.status_code == 422
    assert "YYYY-MM-DD" in page.text
    client.cookies.clear()
    _log_in(client, "clerk")
    assert client.get("/api/v1/points/simulate", params=query).status_code == 403


def test_the_audit_pages_are_the_auditors(client: TestClient, prepared: Prepared) -> None:
    _log_in(client, "clerk")
    assert client.get("/console/audit").status_code == 403
    client.cookies.clear()
    _with_second_factor(client, prepared, "auditor")
    page = client.get("/console/audit")
    assert page.status_code == 200
    entry = client.get("/console/audit/entries/0")
    assert "包含证明已核验" in entry.text
    assert client.get("/console/audit/entries/999999999").status_code == 404
    verified = client.post(
        "/console/audit/verify", data={"csrf_token": _token(page.text, "csrf_token")}
    )
    assert verified.status_code == 200
    assert "校验通过" in verified.text
    for sample in prepared.state.samples:  # entries name persons by registry id only
        assert sample.applicant not in page.text


def test_a_profile_is_masked_and_unmasking_needs_the_permission_and_a_reason(
    client: TestClient, prepared: Prepared
) -> None:
    sample = next(s for s in prepared.state.samples if s.service == "birth_registration")
    number = sample.applicant
    _log_in(client, "clerk")
    page = client.get("/console/persons")
    csrf = _token(page.text, "csrf_token")
    found = client.post(
        "/console/persons",
        data={"csrf_token": csrf, "purpose": "household_registration", "identity_number": number},
    )
    person = re.search(
        r'href="/console/persons/([^"?]+)\?purpose=household_registration"', found.text
    )
    assert person is not None
    profile = client.get(f"/console/persons/{person.group(1)}")
    assert profile.status_code == 200
    assert number not in profile.text  # masked
    assert number[:6] in profile.text
    assert "无共享协议" in profile.text or "协议未约定此用途" in profile.text  # withheld, with why
    unmask = {"purpose": "household_registration", "item": "identity_number", "reason": "核实身份"}
    refused = client.post(
        f"/console/persons/{person.group(1)}/unmask",
        data={"csrf_token": csrf, **unmask},
    )
    assert "明文查看被拒绝" in refused.text  # a window clerk may not unmask
    assert number not in refused.text
    client.cookies.clear()
    _log_in(client, "reviewer-public_security")
    csrf = _token(client.get("/console/persons").text, "csrf_token")
    shown = client.post(
        f"/console/persons/{person.group(1)}/unmask",
        data={"csrf_token": csrf, **unmask},
    )
    assert number in shown.text
    without_reason = client.post(
        f"/console/persons/{person.group(1)}/unmask",
        data={"csrf_token": csrf, "purpose": "household_registration", "item": "identity_number"},
    )
    assert number not in without_reason.text
    client.cookies.clear()
    _log_in(client, "resident1")  # the resident sees the unmasking in their history
    assert "公民身份号码（明文）" in client.get("/me").text


def test_the_portal_refuses_what_cannot_be_done_and_says_why(client: TestClient) -> None:
    _log_in(client, "resident3")
    page = client.get("/me")
    csrf = _token(page.text, "csrf_token")
    wrong = client.post("/me/apply", data={"csrf_token": csrf, "service": "no_such_service"})
    assert wrong.status_code == 422
    assert 'id="portal-notice"' in wrong.text
    applied = client.post("/me/apply", data={"csrf_token": csrf, "service": "register_certificate"})
    assert applied.status_code == 303
    mine = client.get("/me")
    case_id = re.search(r"<code>(C\d{8}[0-9A-F]{10})</code>", mine.text)
    assert case_id is not None
    early = client.post(
        f"/me/cases/{case_id.group(1)}/rating", data={"csrf_token": csrf, "score": "5"}
    )
    assert early.status_code == 422  # not delivered yet: nothing to rate
    forged = client.post("/me/apply", data={"service": "register_certificate"})
    assert forged.status_code == 403  # no CSRF token


def test_a_data_officer_decides_a_review_pair_side_by_side(
    client: TestClient, prepared: Prepared
) -> None:
    engine = create_engine_for(prepared.settings.database_url)
    with session_scope(engine) as db:  # the demo's late leases put pairs in the queue
        pair = db.scalars(
            select(ReviewPair).where(ReviewPair.status == "pending").order_by(ReviewPair.id)
        ).first()
        assert pair is not None
        pair_id, probability = pair.id, pair.probability
    _with_second_factor(client, prepared, "officer-registry")  # a code is good once a step
    page = client.get("/console/data")
    assert page.status_code == 200
    assert f'id="pair-{pair_id}"' in page.text
    assert f"{probability:.3f}" in page.text
    assert re.search(r"\d+ = \d+ \+ \d+", page.text)  # rows in = accepted + quarantined
    queued = client.get("/api/v1/registry/reviews").json()["pairs"]
    assert pair_id in [p["id"] for p in queued]  # the JSON twin lists the same pair
    decided = client.post(
        f"/console/data/review/{pair_id}",
        data={"csrf_token": _token(page.text, "csrf_token"), "decision": "different"},
    )
    assert decided.status_code == 303
    with session_scope(engine) as db:
        stored = db.get(ReviewPair, pair_id)
        assert stored is not None
        assert stored.status == "different"
        size = ledger.ledger_size(db)
        assert ledger.read_entry(db, size - 1).action == "review.different"
    engine.dispose()
    after = client.get("/api/v1/registry/reviews").json()["pairs"]
    assert pair_id not in [p["id"] for p in after]
    client.cookies.clear()
    _log_in(client, "clerk")
    assert client.get("/console/data").status_code == 403
    assert client.get("/api/v1/registry/reviews").status_code == 403


def test_the_data_page_lists_the_registrys_issues_and_its_twins_agree(
    client: TestClient, prepared: Prepared
) -> None:
    _with_second_factor(client, prepared, "officer-housing")
    issues = client.get("/api/v1/registry/issues", params={"limit": 1000}).json()
    assert issues["persons_with_issues"] > 0  # the synthetic city's defects show
    assert issues["persons_with_issues"] == len(issues["persons"])
    counted = sum(len(p["conflicts"]) for p in issues["persons"])
    assert counted == sum(issues["conflicts_by_field"].values())
    flagged = sum(len(p["flags"]) for p in issues["persons"])
    assert flagged == sum(issues["flags_by_code"].values())
    page = client.get("/console/data").text
    assert f"({issues['persons_with_issues']})" in page
    first = issues["persons"][0]
    assert f'href="/console/persons/{first["person_id"]}"' in page
    code = next(iter(issues["flags_by_code"] or issues["conflicts_by_field"]))
    only = client.get("/api/v1/registry/issues", params={"code": code}).json()
    assert 0 < only["persons_with_issues"] <= issues["persons_with_issues"]
    assert all(
        code in {c["field"] for c in p["conflicts"]} | {f["code"] for f in p["flags"]}
        for p in only["persons"]
    )
    batches = client.get("/api/v1/registry/batches").json()["batches"]
    assert batches
    assert all(b["rows_in"] == b["accepted"] + b["quarantined"] for b in batches)
    assert f"<code>{batches[0]['file']}</code>" in page
    lines = client.get("/api/v1/registry/quarantine", params={"limit": 5}).json()["lines"]
    assert lines
    assert all(line["reasons"] for line in lines)
    assert client.get("/api/v1/registry/issues", params={"code": "DROP TABLE"}).status_code == 422


def test_a_profile_shows_residence_evidence_household_and_cases(
    client: TestClient, prepared: Prepared
) -> None:
    sample = next(s for s in prepared.state.samples if s.service == "birth_registration")
    _log_in(client, "clerk")
    csrf = _token(client.get("/console/persons").text, "csrf_token")
    found = client.post(
        "/console/persons",
        data={
            "csrf_token": csrf,
            "purpose": "household_registration",
            "identity_number": sample.applicant,
        },
    )
    person = re.search(r'href="/console/persons/([^"?]+)\?purpose=', found.text)
    assert person is not None
    filed = _file(client, sample)  # the parent's birth 一件事, filed by this clerk
    case_id = filed.headers["location"].rsplit("/", 1)[1]
    engine = create_engine_for(prepared.settings.database_url)
    with session_scope(engine) as db:
        before = ledger.ledger_size(db)
    profile = client.get(f"/console/persons/{person.group(1)}")
    assert profile.status_code == 200
    assert 'id="evidence"' in profile.text  # the hukou at least
    assert "户籍地" in profile.text
    assert f'href="/console/cases/{case_id}"' in profile.text
    members = re.findall(
        r'<a href="/console/persons/(\w+)\?purpose=household_registration">', profile.text
    )
    with session_scope(engine) as db:
        after = ledger.ledger_size(db)
        read = [ledger.read_entry(db, seq) for seq in range(before, after)]
    engine.dispose()
    # one entry for the person, one per household member shown: each read is a fact
    assert after - before == 1 + len(members)
    assert {e.person_id for e in read} == {person.group(1), *members}


def test_an_applicants_explanation_matches_the_ranking(client: TestClient) -> None:
    _log_in(client, "analyst")
    page = client.get("/console/points", params={"starting": "2027-01-01"})
    found = re.search(
        r"applicant=(SIM\d+)&starting=2027-01-01.*?<td>([\d.]+)</td>", page.text, re.S
    )
    assert found is not None
    applicant, score = found.groups()
    explained = client.get(
        "/console/points/explain", params={"applicant": applicant, "starting": "2027-01-01"}
    )
    assert explained.status_code == 200
    assert f"<strong>{score}</strong>" in explained.text
    missing = client.get("/console/points/explain", params={"applicant": "SIM9999999x"})
    assert missing.status_code == 404


def test_a_resident_sees_their_data_and_where_each_item_came_from(
    client: TestClient, prepared: Prepared
) -> None:
    parent = next(s for s in prepared.state.samples if s.service == "birth_registration")
    _log_in(client, "resident1")  # the parent of the birth story
    page = client.get("/me/data")
    assert page.status_code == 200
    assert parent.applicant in page.text  # one's own data, in clear
    for item in ("registered_address", "identity_number"):
        row = re.search(rf'<tr id="item-{item}">(.*?)</tr>', page.text, re.S)
        assert row is not None
        assert re.search(r"<code>[^<]+\.csv:\d+</code>", row.group(1))  # file and line
        assert "公安" in row.group(1)  # the household register
    seq = re.search(r'id="read-seq">#(\d+)<', page.text)
    assert seq is not None
    history = client.get("/api/v1/me/accesses").json()["accesses"]
    own = next(a for a in history if a["seq"] == int(seq.group(1)))
    assert own["purpose"] == "self_access"
    client.cookies.clear()
    _log_in(client, "clerk")
    assert client.get("/me/data").status_code == 403


_PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64  # the signature is what is checked


def test_the_window_scans_material_and_opening_it_is_a_ledger_entry(
    client: TestClient, prepared: Prepared
) -> None:
    engine = create_engine_for(prepared.settings.database_url)
    with session_scope(engine) as db:  # a sample case waiting for the resident's papers
        case_id = db.scalar(
            select(CaseRow.id)
            .where(
                CaseRow.state == "awaiting_material",
                CaseRow.first_contact == "public_security",
                CaseRow.channel == "window",
            )
            .order_by(CaseRow.id)
        )
    assert case_id is not None
    _log_in(client, "clerk")
    page = client.get(f"/console/cases/{case_id}")
    assert 'id="scan-form"' in page.text
    code = re.search(r'name="file:(\w+)"', page.text)
    version = re.search(r'name="version" value="(\d+)"', page.text)
    assert code is not None
    assert version is not None
    form = {"csrf_token": _token(page.text, "csrf_token"), "version": version.group(1)}
    refused = client.post(
        f"/console/cases/{case_id}/material",
        data=form,
        files={f"file:{code.group(1)}": ("note.txt", b"just text", "application/pdf")},
    )
    assert refused.status_code == 422
    assert "only PDF, JPEG or PNG" in refused.text
    assert client.get(f"/api/v1/cases/{case_id}/materials").json()["materials"] == []
    scanned = client.post(
        f"/console/cases/{case_id}/material",
        data=form,
        files={f"file:{code.group(1)}": ("../户口本 扫描.png", _PNG, "image/png")},
    )
    assert scanned.status_code == 303
    (stored,) = client.get(f"/api/v1/cases/{case_id}/materials").json()["materials"]
    assert stored["file_name"] == "户口本 扫描.png"
    assert stored["sm3"] == sm3(_PNG).hex()
    assert stored["material"] == code.group(1)
    with session_scope(engine) as db:
        row = db.get(CaseMaterial, stored["id"])
        assert row is not None
        assert _PNG not in row.content_token.encode()  # encrypted at rest
        before = ledger.ledger_size(db)
    opened = client.get(f"/console/cases/{case_id}/materials/{stored['id']}")
    assert opened.status_code == 200
    assert opened.content == _PNG
    assert opened.headers["content-type"] == "image/png"
    with session_scope(engine) as db:
        entry = ledger.read_entry(db, before)
    engine.dispose()
    assert entry.case_id == case_id
    assert entry.fields == ("material",)
    client.cookies.clear()
    _log_in(client, "reviewer-tax")  # no part in this case: it does not exist for them
    assert client.get(f"/console/cases/{case_id}/materials/{stored['id']}").status_code == 404


def test_a_resident_uploads_the_material_a_case_waits_for(
    client: TestClient, prepared: Prepared
) -> None:
    _log_in(client, "resident1")
    csrf = _token(client.get("/me").text, "csrf_token")
    applied = client.post("/me/apply", data={"csrf_token": csrf, "service": "household_move"})
    assert applied.status_code == 303
    mine = client.get("/api/v1/me/cases").json()["cases"]
    case = next(c for c in mine if c["service"] == "household_move")
    assert case["state"] == "awaiting_material"  # the move needs papers the registry lacks
    page = client.get("/me")
    assert f'id="material-{case["id"]}"' in page.text
    code = re.search(rf'id="file-{case["id"]}-(\w+)"', page.text)
    assert code is not None
    empty = client.post(
        f"/me/cases/{case['id']}/material",
        data={"csrf_token": csrf, "version": str(case["version"])},
        files={f"file:{code.group(1)}": ("", b"", "application/octet-stream")},
    )
    assert empty.status_code == 422  # no file chosen: said so, nothing changes
    sent = client.post(
        f"/me/cases/{case['id']}/material",
        data={"csrf_token": csrf, "version": str(case["version"])},
        files={f"file:{code.group(1)}": ("合同.pdf", b"%PDF-1.7\n%synthetic\n", "application/pdf")},
    )
    assert sent.status_code == 303
    after = client.get(f"/api/v1/me/cases/{case['id']}").json()
    assert after["version"] > case["version"]  # judged again with the material counted
    engine = create_engine_for(prepared.settings.database_url)
    with session_scope(engine) as db:
        stored = db.scalars(select(CaseMaterial).where(CaseMaterial.case_id == case["id"])).all()
    engine.dispose()
    assert [(m.material, m.media_type, m.file_name) for m in stored] == [
        (code.group(1), "application/pdf", "合同.pdf")
    ]


def test_a_parent_applies_online_for_a_member_of_the_household(
    client: TestClient, prepared: Prepared
) -> None:
    _log_in(client, "resident1")  # a parent of a recent baby
    page = client.get("/me")
    options = re.findall(r'<option value="(R\w+)">([^<]+)</option>', page.text)
    assert options  # the household's other members, by relationship and year of birth
    member = options[-1][0]
    csrf = _token(page.text, "csrf_token")
    applied = client.post(
        "/me/apply",
        data={"csrf_token": csrf, "service": "register_certificate", "subject": member},
    )
    assert applied.status_code == 303
    engine = create_engine_for(prepared.settings.database_url)
    with session_scope(engine) as db:
        filed = db.scalars(
            select(CaseRow).where(CaseRow.subject_id == member, CaseRow.channel == "online")
        ).all()
    engine.dispose()
    assert filed
    assert all(c.applicant_id != member for c in filed)  # the parent applied for them
    stranger = client.post(
        "/me/apply",
        data={
            "csrf_token": csrf,
            "service": "register_certificate",
            "subject": "R0000000000000000000",
        },
    )
    assert stranger.status_code == 422
    assert "member of your household" in stranger.text


def test_a_points_application_is_scored_from_the_registry_line_by_line(
    client: TestClient, prepared: Prepared
) -> None:
    _log_in(client, "resident1")  # applies online (a local hukou: refused, still scored)
    csrf = _token(client.get("/me").text, "csrf_token")
    applied = client.post("/me/apply", data={"csrf_token": csrf, "service": "points_settlement"})
    assert applied.status_code == 303
    case_id = next(
        c["id"]
        for c in client.get("/api/v1/me/cases").json()["cases"]
        if c["service"] == "points_settlement"
    )
    client.cookies.clear()
    engine = create_engine_for(prepared.settings.database_url)
    with session_scope(engine) as db:
        before = ledger.ledger_size(db)
    _log_in(client, "reviewer-hr_social_security")  # the points office scores it (积分核定)
    assert f'href="/console/cases/{case_id}/points"' in client.get(f"/console/cases/{case_id}").text
    page = client.get(f"/console/cases/{case_id}/points")
    assert page.status_code == 200
    assert re.search(r'id="explain-total">\s*积分 <strong>[\d.]+</strong>', page.text)
    assert "登记数据" in page.text  # the inputs the registry proved, with their department
    with session_scope(engine) as db:
        read = [ledger.read_entry(db, seq) for seq in range(before, ledger.ledger_size(db))]
    engine.dispose()
    assert [(e.actor, e.purpose) for e in read if e.case_id == case_id] == [
        ("system:points", "points_settlement")  # one read, by the points office's check
    ]
    twin = client.get(f"/api/v1/cases/{case_id}/points").json()
    shown = re.search(r'id="explain-total">\s*积分 <strong>([\d.]+)</strong>', page.text)
    assert shown is not None
    assert twin["score"] == shown.group(1)
    table = page.text.split('id="explain-lines"')[1].split("<tbody>")[1].split("</tbody>")[0]
    assert len(twin["lines"]) == table.count("<tr>")  # the same lines
    client.cookies.clear()
    _log_in(client, "reviewer-tax")  # no part in it
    assert client.get(f"/console/cases/{case_id}/points").status_code == 404
    assert client.get(f"/api/v1/cases/{case_id}/points").status_code == 404


def test_the_upload_api_reads_the_body_only_for_a_known_caller(
    client: TestClient, prepared: Prepared
) -> None:
    engine = create_engine_for(prepared.settings.database_url)
    with session_scope(engine) as db:  # the last window case still waiting for papers
        case = db.scalars(
            select(CaseRow)
            .where(
                CaseRow.state == "awaiting_material",
                CaseRow.first_contact == "public_security",
                CaseRow.channel == "window",
            )
            .order_by(CaseRow.id.desc())
        ).first()
        assert case is not None
        case_id, version = case.id, case.version
    engine.dispose()
    path = f"/api/v1/cases/{case_id}/material/files"
    anonymous = client.post(
        path, content=b"--x\r\nnot multipart", headers={"content-type": "multipart/form-data"}
    )
    assert anonymous.status_code == 401  # refused before the body is parsed
    _log_in(client, "clerk")
    asked = client.get(f"/api/v1/cases/{case_id}").json()["materials_asked"]
    headers = {"X-CSRF-Token": client.get("/api/v1/auth/me").json()["csrf_token"]}
    unpaired = client.post(
        path,
        data={"version": str(version), "material": asked[:1] * 2},
        files=[("file", ("a.png", _PNG, "image/png"))],
        headers=headers,
    )
    assert unpaired.status_code == 422
    sent = client.post(
        path,
        data={"version": str(version), "material": asked[:1]},
        files=[("file", ("a.png", _PNG, "image/png"))],
        headers=headers,
    )
    assert sent.status_code == 200, sent.text
    assert sent.json()["version"] > version
    listed = client.get(f"/api/v1/cases/{case_id}/materials").json()["materials"]
    assert [m["material"] for m in listed] == asked[:1]


def test_the_window_checks_what_the_registry_proves_before_filing(
    client: TestClient, prepared: Prepared
) -> None:
    sample = next(s for s in prepared.state.samples if s.service == "birth_registration")
    _log_in(client, "clerk")
    csrf = _token(client.get("/console/window").text, "csrf_token")
    form = {
        "csrf_token": csrf,
        "service": sample.service,
        "applicant_identity_number": sample.applicant,
        "subject_identity_number": sample.subject or "",
    }
    engine = create_engine_for(prepared.settings.database_url)
    with session_scope(engine) as db:
        cases_before = db.scalar(select(func.count()).select_from(CaseRow))
    checked = client.post("/console/window/check", data=form)
    assert checked.status_code == 200
    assert checked.text.count('class="check-true"') == 2  # both facts proven: no paper
    assert sample.applicant not in checked.text
    with session_scope(engine) as db:
        assert db.scalar(select(func.count()).select_from(CaseRow)) == cases_before  # nothing filed
        last = ledger.read_entry(db, ledger.ledger_size(db) - 1)
    engine.dispose()
    assert (last.actor, last.case_id) == ("system:casework", None)  # the check is a read
    unknown = client.post(
        "/console/window/check", data={**form, "applicant_identity_number": "11010519491231002X"}
    )
    assert unknown.status_code == 422
    assert "11010519491231002X" not in unknown.text
    forged = client.post(
        "/console/window/check", data={k: v for k, v in form.items() if k != "csrf_token"}
    )
    assert forged.status_code == 403


def test_elderly_mode_keeps_the_session_alive_during_a_step(client: TestClient) -> None:
    _log_in(client, "resident1")
    standard = client.get("/me", params={"mode": "standard"}).text
    assert 'id="keep-alive"' not in standard  # the idle limit applies as usual
    elder = client.get("/me", params={"mode": "elder", "step": "apply"}).text
    keep = re.search(
        r'<div id="keep-alive"[^>]*hx-get="([^"]+)"[^>]*hx-trigger="every (\d+)s"', elder
    )
    assert keep is not None
    assert int(keep.group(2)) * 2 < 30 * 60  # well inside the 30-minute idle limit
    assert client.get(keep.group(1)).status_code == 200  # a request the session counts
