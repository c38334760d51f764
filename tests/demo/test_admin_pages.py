"""The console's admin pages over HTTP on a set-up demo: departments and accounts (the
system administrator), roles and lockouts (the security administrator, 三权分立 refusals
as a notice), the key ring's state, the sharing agreements — each beside its JSON twin.

A TOTP code is good once per 30-second step and account, so every administrator and
officer logs in once per module (per database); the accounts used here are used by no
other module of this folder.
"""

from __future__ import annotations

import datetime
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from hukou.accounts import Role
from hukou.accounts.totp import secret_from_base32, totp_code
from hukou.app import create_app
from hukou.config import Settings
from hukou.db import upgrade
from hukou.demo.seats import DEMO_PASSWORD
from hukou.security import KeyRing
from tests.accounts.http import create_staff, install_store, log_in
from tests.demo.conftest import Prepared

NEW_PASSWORD = "Fresh-Start-2026!"
PROVIDER, CONSUMER = "hr_social_security", "education"  # an agreement of the demo's


@dataclass
class Admins:
    app: FastAPI
    clients: dict[str, TestClient]
    landings: dict[str, str]

    def __getitem__(self, username: str) -> TestClient:
        return self.clients[username]


def _token(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found is not None, name
    return found.group(1)


def _password(client: TestClient, username: str) -> Any:
    form = client.get("/login")
    return client.post(
        "/login",
        data={
            "login_token": _token(form.text, "login_token"),
            "username": username,
            "password": DEMO_PASSWORD,
        },
    )


def _code(client: TestClient, asked: Any, secret: str) -> Any:
    code = totp_code(secret_from_base32(secret), datetime.datetime.now(datetime.UTC))
    return client.post(
        "/login/code", data={"challenge": _token(asked.text, "challenge"), "code": code}
    )


def _log_in(app: FastAPI, prepared: Prepared, username: str) -> tuple[TestClient, str]:
    """A client logged in as ``username`` (with its code when it has a second factor),
    and where the login sent it. A code is good once per step: if this step's was used
    (the module fixture set up again for the same database), the next step's is taken."""
    client = TestClient(app, follow_redirects=False)
    answer = _password(client, username)
    seat = next(a for a in prepared.state.accounts if a.username == username)
    if seat.totp_secret is not None:
        answered = _code(client, answer, seat.totp_secret)
        if answered.status_code == 401:
            time.sleep(30 - time.time() % 30 + 0.5)
            answered = _code(client, answer, seat.totp_secret)
        answer = answered
    assert answer.status_code == 303, answer.text[:300]
    return client, answer.headers["location"]


@pytest.fixture(scope="module")
def admins(prepared: Prepared) -> Iterator[Admins]:
    app = create_app(prepared.settings)
    clients, landings = {}, {}
    for username in ("sysadmin", "secadmin", f"officer-{PROVIDER}", f"officer-{CONSUMER}"):
        clients[username], landings[username] = _log_in(app, prepared, username)
    yield Admins(app, clients, landings)
    app.state.engine.dispose()


def _csrf(client: TestClient) -> dict[str, str]:
    """The header a cookie session's JSON changes carry."""
    return {"X-CSRF-Token": client.get("/api/v1/auth/me").json()["csrf_token"]}


def _post(client: TestClient, path: str, page: str, **fields: str) -> Any:
    """Post a console form with the CSRF token of ``page``."""
    token = _token(client.get(page).text, "csrf_token")
    return client.post(path, data={"csrf_token": token, **fields})


def _accounts(client: TestClient, path: str = "/api/v1/admin/users", **query: str) -> Any:
    answer = client.get(path, params=query)
    assert answer.status_code == 200, answer.text
    return {a["username"]: a for a in answer.json()["accounts"]}


def _staff(admins: Admins, username: str, department: str = "platform") -> dict[str, Any]:
    """A fresh staff account made through the JSON API (no role), as the system admin."""
    sysadmin = admins["sysadmin"]
    answer = sysadmin.post(
        "/api/v1/admin/users",
        json={
            "username": username,
            "display_name": f"{username}（测试）",
            "department": department,
            "password": NEW_PASSWORD,
        },
        headers=_csrf(sysadmin),
    )
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_administrators_land_on_the_page_of_their_duty(admins: Admins) -> None:
    assert admins.landings["sysadmin"] == "/console/admin"
    assert admins.landings["secadmin"] == "/console/admin"
    assert admins.landings[f"officer-{CONSUMER}"] == "/console"
    # The KPI home sends an administrator (no insight.read) on, not to a 403.
    home = admins["secadmin"].get("/console")
    assert home.status_code == 303
    assert home.headers["location"] == "/console/admin"


def test_a_clerk_is_refused_every_admin_page(admins: Admins, prepared: Prepared) -> None:
    clerk, _landing = _log_in(admins.app, prepared, "clerk")
    for path in ("/console/admin", "/console/admin/agreements", "/console/admin/keys"):
        assert clerk.get(path).status_code == 403, path
    for path in ("/api/v1/admin/users", "/api/v1/admin/grants", "/api/v1/admin/keys"):
        assert clerk.get(path).status_code == 403, path
    assert "/console/admin" not in clerk.get("/console").text  # no link in the nav


def test_a_new_department_and_account_show_on_the_page_and_in_json(admins: Admins) -> None:
    sysadmin = admins["sysadmin"]
    made = _post(
        sysadmin,
        "/console/admin/departments",
        "/console/admin",
        code="grid_office",
        name="网格化服务中心",
        level="district",
    )
    assert made.status_code == 303
    page = sysadmin.get(made.headers["location"])
    assert 'id="admin-done"' in page.text
    assert 'id="department-grid_office"' in page.text
    assert "网格化服务中心" in page.text
    listed = sysadmin.get("/api/v1/admin/departments").json()["departments"]
    assert {"code": "grid_office", "name": "网格化服务中心", "level": "district"} in listed

    again = _post(
        sysadmin,
        "/console/admin/departments",
        "/console/admin",
        code="grid_office",
        name="x",
        level="city",
    )
    assert again.status_code == 409
    assert "已存在" in again.text

    made = _post(
        sysadmin,
        "/console/admin/users",
        "/console/admin",
        username="grid.worker",
        display_name="网格员（测试）",
        department="grid_office",
        password=NEW_PASSWORD,
    )
    assert made.status_code == 303
    page = sysadmin.get("/console/admin?department=grid_office").text
    assert 'id="user-grid.worker"' in page
    account = _accounts(sysadmin, department="grid_office")["grid.worker"]
    assert account["roles"] == []  # rights come from the security administrator
    assert account["must_change_password"] is True
    assert account["display_name"] == "网格员（测试）"

    weak = _post(
        sysadmin,
        "/console/admin/users",
        "/console/admin",
        username="grid.weak",
        display_name="弱口令",
        department="grid_office",
        password="short",
    )
    assert weak.status_code == 422
    assert "密码不符合策略要求" in weak.text
    assert "short" not in weak.text.split('id="admin-notice"')[1][:400]


def test_the_page_and_its_json_twin_list_the_same_accounts(admins: Admins) -> None:
    for username, path in (
        ("sysadmin", "/api/v1/admin/users"),
        ("secadmin", "/api/v1/admin/grants"),
    ):
        client = admins[username]
        page = client.get("/console/admin").text
        shown = set(re.findall(r'<tr id="user-([^"]+)"', page))
        assert shown == set(_accounts(client, path))
        assert {"clerk", "sysadmin", "secadmin", "auditor"} <= shown


def test_a_form_without_its_csrf_token_is_refused(admins: Admins) -> None:
    sysadmin = admins["sysadmin"]
    forged = sysadmin.post(
        "/console/admin/departments", data={"code": "forged", "name": "伪造", "level": "city"}
    )
    assert forged.status_code == 403
    codes = {d["code"] for d in sysadmin.get("/api/v1/admin/departments").json()["departments"]}
    assert "forged" not in codes
    forged = admins["secadmin"].post(
        "/console/admin/unlock", data={"username": "clerk", "csrf_token": "not-the-token"}
    )
    assert forged.status_code == 403


def test_a_grant_against_separation_of_duties_is_refused_and_changes_nothing(
    admins: Admins,
) -> None:
    secadmin = admins["secadmin"]
    auditor = _accounts(secadmin, "/api/v1/admin/grants")["auditor"]
    refused = _post(
        secadmin,
        f"/console/admin/users/{auditor['id']}/roles",
        "/console/admin",
        action="grant",
        role="system_admin",
    )
    assert refused.status_code == 409
    notice = re.search(r'id="admin-notice">([^<]+)<', refused.text)
    assert notice is not None
    assert "三权分立" in notice.group(1)
    assert "Traceback" not in refused.text
    twin = secadmin.post(
        f"/api/v1/admin/users/{auditor['id']}/roles",
        json={"role": "system_admin"},
        headers=_csrf(secadmin),
    )
    assert twin.status_code == 409
    assert "Separation of duties" in twin.json()["detail"]
    assert _accounts(secadmin, "/api/v1/admin/grants")["auditor"]["roles"] == ["audit_admin"]

    me = _accounts(secadmin, "/api/v1/admin/grants")["secadmin"]
    self_grant = _post(
        secadmin,
        f"/console/admin/users/{me['id']}/roles",
        "/console/admin",
        action="grant",
        role="analyst",
    )
    assert self_grant.status_code == 422
    assert "不得为本人账号授予角色" in self_grant.text


def test_the_security_admin_grants_and_revokes_and_the_system_admin_may_not(
    admins: Admins,
) -> None:
    account = _staff(admins, "grant.me")
    secadmin = admins["secadmin"]
    granted = _post(
        secadmin,
        f"/console/admin/users/{account['id']}/roles",
        "/console/admin",
        action="grant",
        role="analyst",
    )
    assert granted.status_code == 303
    row = secadmin.get("/console/admin").text.split('id="user-grant.me"')[1].split("</tr>")[0]
    assert 'data-role="analyst"' in row
    assert _accounts(secadmin, "/api/v1/admin/grants")["grant.me"]["roles"] == ["analyst"]
    revoked = secadmin.delete(
        f"/api/v1/admin/users/{account['id']}/roles/analyst", headers=_csrf(secadmin)
    )
    assert revoked.status_code == 200
    assert revoked.json()["roles"] == []

    sysadmin = admins["sysadmin"]
    refused = _post(
        sysadmin,
        f"/console/admin/users/{account['id']}/roles",
        "/console/admin",
        action="grant",
        role="analyst",
    )
    assert refused.status_code == 403
    assert 'class="inline-form grant"' not in sysadmin.get("/console/admin").text


def test_disable_enable_reset_and_unlock(admins: Admins) -> None:
    account = _staff(admins, "lock.me")
    sysadmin, secadmin = admins["sysadmin"], admins["secadmin"]
    path = f"/console/admin/users/{account['id']}"
    assert _post(sysadmin, f"{path}/disable", "/console/admin").status_code == 303
    assert _accounts(sysadmin)["lock.me"]["disabled"] is True
    assert _post(sysadmin, f"{path}/enable", "/console/admin").status_code == 303
    assert _accounts(sysadmin)["lock.me"]["disabled"] is False
    me = _accounts(sysadmin)["sysadmin"]
    own = _post(sysadmin, f"/console/admin/users/{me['id']}/disable", "/console/admin")
    assert own.status_code == 409
    reset = _post(sysadmin, f"{path}/password", "/console/admin", password=NEW_PASSWORD + "x")
    assert reset.status_code == 303
    assert _accounts(sysadmin)["lock.me"]["must_change_password"] is True

    stranger = TestClient(admins.app, follow_redirects=False)
    for _attempt in range(5):  # the lockout's threshold
        form = stranger.get("/login")
        stranger.post(
            "/login",
            data={
                "login_token": _token(form.text, "login_token"),
                "username": "lock.me",
                "password": "Wrong-Password-1",
            },
        )
    locked = _accounts(secadmin, "/api/v1/admin/grants")["lock.me"]["locked_until"]
    assert locked is not None
    row = secadmin.get("/console/admin").text.split('id="user-lock.me"')[1].split("</tr>")[0]
    assert 'class="secondary unlock"' in row
    assert (
        _post(secadmin, "/console/admin/unlock", "/console/admin", username="lock.me").status_code
        == 303
    )
    assert _accounts(secadmin, "/api/v1/admin/grants")["lock.me"]["locked_until"] is None


def test_a_resident_is_found_by_user_name_without_their_name(
    admins: Admins, prepared: Prepared
) -> None:
    sysadmin = admins["sysadmin"]
    resident = next(a for a in prepared.state.accounts if a.username == "resident1")
    assert "resident1" not in _accounts(sysadmin)  # residents are never listed
    found = _post(sysadmin, "/console/admin/find", "/console/admin", username="resident1")
    assert found.status_code == 200
    assert 'id="found-account"' in found.text
    assert resident.display_name not in found.text
    twin = sysadmin.post(
        "/api/v1/admin/users/find", json={"username": "resident1"}, headers=_csrf(sysadmin)
    )
    assert twin.status_code == 200
    assert twin.json()["kind"] == "resident"
    assert twin.json()["display_name"] is None
    missing = _post(sysadmin, "/console/admin/find", "/console/admin", username="nobody.here")
    assert missing.status_code == 404


def test_the_keys_page_shows_the_active_key_and_counts_tokens_on_request(
    admins: Admins, prepared: Prepared
) -> None:
    active = KeyRing.from_file(prepared.settings.resolved_key_file).active_key_id
    secadmin = admins["secadmin"]
    page = secadmin.get("/console/admin/keys")
    assert page.status_code == 200
    assert f'<code id="active-key">{active}</code>' in page.text
    assert 'id="token-census"' not in page.text  # not on a page view
    twin = secadmin.get("/api/v1/admin/keys").json()
    assert twin["active_key_id"] == active
    assert twin["columns"] is None
    row = next(k for k in twin["master_keys"] if k["key_id"] == active)
    assert row["state"] == "active"
    assert row["data_keys"] > 0
    assert f'id="key-{active}" data-state="active"' in page.text

    counted = _post(secadmin, "/console/admin/keys/census", "/console/admin/keys")
    assert counted.status_code == 200
    assert 'id="token-census"' in counted.text
    census = secadmin.post("/api/v1/admin/keys/census", headers=_csrf(secadmin)).json()
    assert census["columns"]
    assert sum(c["data_key_tokens"] for c in census["columns"]) > 0
    assert admins["sysadmin"].get("/console/admin/keys").status_code == 403


def test_the_agreements_page_lists_what_its_twin_lists(admins: Admins) -> None:
    officer = admins[f"officer-{CONSUMER}"]
    twin = officer.get("/api/v1/agreements").json()["agreements"]
    assert twin
    assert {(a["provider"], a["status"]) for a in twin} >= {(PROVIDER, "approved")}
    page = officer.get("/console/admin/agreements")
    assert page.status_code == 200
    shown = dict(re.findall(r'<tr id="agreement-([^"]+)" data-status="([^"]+)"', page.text))
    assert shown == {a["id"]: a["status"] for a in twin}


def test_a_step_the_service_refuses_is_a_notice_and_changes_nothing(admins: Admins) -> None:
    """On the shared demo only refusals: its agreements must stay as the set-up made them."""
    consumer = admins[f"officer-{CONSUMER}"]
    page = "/console/admin/agreements"
    approved = next(
        a
        for a in consumer.get("/api/v1/agreements").json()["agreements"]
        if a["provider"] == PROVIDER
    )
    row = consumer.get(page).text.split(f'id="agreement-{approved["id"]}"')[1].split("</tr>")[0]
    assert 'class="approve"' not in row  # decided already
    assert 'class="secondary revoke"' in row  # either side may end it
    refused = _post(consumer, f"{page}/{approved['id']}/approve", page)
    assert refused.status_code == 409
    assert "not awaiting a decision" in refused.text
    after = {a["id"]: a["status"] for a in consumer.get("/api/v1/agreements").json()["agreements"]}
    assert after[approved["id"]] == "approved"
    assert admins["sysadmin"].get(page).status_code == 403  # no agreement.read


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[TestClient]:
    """The app on an empty database of its own: agreements can be proposed and decided
    there without changing the shared demo's."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=f"sqlite:///{tmp_path / 'hukou.db'}",
        data_dir=tmp_path,
        keys=SecretStr(KeyRing.generate().to_json()),
    )
    app = create_app(settings)
    upgrade(app.state.engine)
    install_store(app)
    with TestClient(app, follow_redirects=False) as client:
        yield client


def _officer(client: TestClient, department: str) -> TestClient:
    """A second client on the same app, logged in (cookie kept) as a data officer."""
    other = TestClient(client.app, follow_redirects=False)
    account = create_staff(client.app, [Role.DATA_OFFICER], department=department)  # type: ignore[arg-type]
    log_in(other, account.username, keep_cookie=True)
    return other


def test_the_provider_decides_a_proposal_and_the_consumer_may_not(fresh: TestClient) -> None:
    consumer, provider = _officer(fresh, CONSUMER), _officer(fresh, PROVIDER)
    proposed = consumer.post(
        "/api/v1/agreements",
        json={
            "provider": PROVIDER,
            "fields": ["contribution_months"],
            "purposes": ["school_enrolment"],
            "valid_from": "2026-01-01",
        },
        headers=_csrf(consumer),
    )
    assert proposed.status_code == 201, proposed.text
    agreement = proposed.json()["id"]
    page = "/console/admin/agreements"
    refused = _post(consumer, f"{page}/{agreement}/approve", page)
    assert refused.status_code == 409
    assert "data officer decides an agreement" in refused.text
    row = provider.get(page).text.split(f'id="agreement-{agreement}"')[1].split("</tr>")[0]
    assert 'class="approve"' in row
    approved = _post(provider, f"{page}/{agreement}/approve", page)
    assert approved.status_code == 303
    assert 'id="agreements-done"' in provider.get(approved.headers["location"]).text
    twin = {a["id"]: a["status"] for a in provider.get("/api/v1/agreements").json()["agreements"]}
    assert twin[agreement] == "approved"
    revoked = _post(consumer, f"{page}/{agreement}/revoke", page)
    assert revoked.status_code == 303
    twin = {a["id"]: a["status"] for a in consumer.get("/api/v1/agreements").json()["agreements"]}
    assert twin[agreement] == "revoked"


def test_the_security_admin_logs_an_account_out_everywhere(admins: Admins) -> None:
    account = _staff(admins, "logout.me")
    elsewhere = TestClient(admins.app, follow_redirects=False)
    form = elsewhere.get("/login")
    signed = elsewhere.post(
        "/login",
        data={
            "login_token": _token(form.text, "login_token"),
            "username": "logout.me",
            "password": NEW_PASSWORD,
        },
    )
    assert signed.status_code == 303
    assert elsewhere.get("/api/v1/auth/me").status_code == 200  # a live session
    secadmin, sysadmin = admins["secadmin"], admins["sysadmin"]
    path = f"/console/admin/users/{account['id']}/logout"
    refused = _post(sysadmin, path, "/console/admin")
    assert refused.status_code == 403  # not the system administrator's duty
    assert elsewhere.get("/api/v1/auth/me").status_code == 200
    ended = _post(secadmin, path, "/console/admin")
    assert ended.status_code == 303
    assert elsewhere.get("/api/v1/auth/me").status_code == 401  # logged out everywhere
    nobody = "00000000-0000-4000-8000-000000000000"
    unknown = secadmin.post(f"/api/v1/admin/users/{nobody}/logout", headers=_csrf(secadmin))
    assert unknown.status_code == 404
