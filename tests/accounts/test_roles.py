"""Roles and permissions: least privilege, 三权分立, account kinds — pure, no database."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hukou.accounts.errors import RoleKindError, SelfGrantError, SeparationOfDutiesError
from hukou.accounts.model import ADMIN_ROLE_SQL
from hukou.accounts.roles import (
    ADMIN_ROLES,
    PERMISSION_DESCRIPTIONS,
    ROLE_PERMISSIONS,
    SECOND_FACTOR_ROLES,
    STAFF_ROLES,
    AccountKind,
    Department,
    Level,
    Permission,
    Role,
    check_grant,
    check_roles,
    permissions_of,
    requires_second_factor,
)

staff_roles = st.sets(st.sampled_from(sorted(STAFF_ROLES)))


@given(staff_roles, st.sets(st.sampled_from(sorted(ADMIN_ROLES)), min_size=2))
def test_any_role_set_with_two_admin_roles_is_refused(others: set[Role], admins: set[Role]) -> None:
    with pytest.raises(SeparationOfDutiesError) as caught:
        check_roles(AccountKind.STAFF, others | admins)
    assert set(caught.value.conflicting) == {str(r) for r in (others | admins) & ADMIN_ROLES}
    assert caught.value.code == "role.separation_of_duties"
    assert "三权分立" in caught.value.message.zh


@given(staff_roles)
def test_staff_role_sets_with_at_most_one_admin_role_are_accepted(roles: set[Role]) -> None:
    if len(roles & ADMIN_ROLES) > 1:
        with pytest.raises(SeparationOfDutiesError):
            check_roles(AccountKind.STAFF, roles)
    else:
        assert check_roles(AccountKind.STAFF, roles) == roles


@given(staff_roles.filter(bool))
def test_a_resident_account_holds_no_staff_role(roles: set[Role]) -> None:
    with pytest.raises((RoleKindError, SeparationOfDutiesError)):
        check_roles(AccountKind.RESIDENT, roles | {Role.RESIDENT})


def test_resident_role_only_on_resident_accounts() -> None:
    assert check_roles(AccountKind.RESIDENT, {Role.RESIDENT}) == {Role.RESIDENT}
    with pytest.raises(RoleKindError) as caught:
        check_roles(AccountKind.STAFF, {Role.RESIDENT})
    assert caught.value.role == "resident"
    assert caught.value.code == "role.wrong_account_kind"


@given(st.sampled_from(sorted(ADMIN_ROLES)), st.sampled_from(sorted(ADMIN_ROLES)))
def test_granting_a_second_admin_role_is_refused(held: Role, wanted: Role) -> None:
    if held == wanted:
        assert check_grant("staff", {held}, wanted, user_id="u", granted_by="a") == {held}
    else:
        with pytest.raises(SeparationOfDutiesError):
            check_grant("staff", {held}, wanted, user_id="u", granted_by="a")


def test_nobody_grants_themselves_a_role() -> None:
    with pytest.raises(SelfGrantError):
        check_grant("staff", set(), Role.ANALYST, user_id="u", granted_by="u")
    assert check_grant("staff", set(), Role.ANALYST, user_id="u", granted_by=None) == {Role.ANALYST}


def test_every_role_has_permissions_and_every_permission_a_role_and_a_description() -> None:
    assert set(ROLE_PERMISSIONS) == set(Role)
    granted = set().union(*ROLE_PERMISSIONS.values())
    assert granted == set(Permission)
    assert set(PERMISSION_DESCRIPTIONS) == set(Permission)
    for en, zh in PERMISSION_DESCRIPTIONS.values():
        assert en.endswith(".")
        assert zh.endswith("。")


def test_permission_codes_are_dotted_lower_case() -> None:
    for permission in Permission:
        assert re.fullmatch(r"[a-z]+\.[a-z_]+", permission.value)


def test_administrators_are_least_privileged_and_disjoint() -> None:
    personal = {p for p in Permission if p.value.startswith(("person.", "self."))}
    for admin in ADMIN_ROLES:
        assert not ROLE_PERMISSIONS[admin] & personal, admin
    system, security, audit = (
        ROLE_PERMISSIONS[Role.SYSTEM_ADMIN],
        ROLE_PERMISSIONS[Role.SECURITY_ADMIN],
        ROLE_PERMISSIONS[Role.AUDIT_ADMIN],
    )
    assert not system & security
    assert not system & audit
    assert not security & audit
    # who creates accounts cannot give them rights; who gives rights cannot create accounts
    assert Permission.USER_MANAGE in system
    assert Permission.ROLE_GRANT not in system
    assert Permission.ROLE_GRANT in security
    assert Permission.USER_MANAGE not in security
    # only the auditor verifies the ledger
    holders = {
        role for role, perms in ROLE_PERMISSIONS.items() if Permission.LEDGER_VERIFY in perms
    }
    assert holders == {Role.AUDIT_ADMIN}


def test_unmasking_and_analytics_are_narrow() -> None:
    unmaskers = {r for r, perms in ROLE_PERMISSIONS.items() if Permission.PERSON_UNMASK in perms}
    assert unmaskers == {Role.DEPARTMENT_REVIEWER, Role.DATA_OFFICER}
    assert not permissions_of({Role.ANALYST}) & {Permission.PERSON_READ, Permission.PERSON_UNMASK}
    assert permissions_of({Role.RESIDENT}) == {
        Permission.SELF_READ,
        Permission.SELF_EXPORT,
        Permission.CONSENT_MANAGE,
        Permission.CASE_APPLY,
    }


def test_second_factor_roles() -> None:
    assert {
        Role.SYSTEM_ADMIN,
        Role.SECURITY_ADMIN,
        Role.AUDIT_ADMIN,
        Role.DATA_OFFICER,
    } == SECOND_FACTOR_ROLES
    for role in Role:
        assert requires_second_factor({role}) is (role in SECOND_FACTOR_ROLES)
    assert requires_second_factor(["window_clerk", "data_officer"]) is True
    assert requires_second_factor([]) is False


def test_permissions_are_the_union_of_the_roles() -> None:
    both = permissions_of({Role.WINDOW_CLERK, Role.DEPARTMENT_REVIEWER})
    assert both == ROLE_PERMISSIONS[Role.WINDOW_CLERK] | ROLE_PERMISSIONS[Role.DEPARTMENT_REVIEWER]
    with pytest.raises(ValueError, match="root"):
        permissions_of({"root"})


def test_the_database_index_names_the_same_admin_roles() -> None:
    assert set(re.findall(r"'([a-z_]+)'", ADMIN_ROLE_SQL)) == {r.value for r in ADMIN_ROLES}


def test_departments_validate_code_and_level() -> None:
    department = Department("public_security", "市公安局", "city")  # type: ignore[arg-type]
    assert department.level is Level.CITY
    for code in ("", "has space", "中文", "x" * 65, "-leading"):
        with pytest.raises(ValueError, match="department code"):
            Department(code, "name", Level.CITY)
    with pytest.raises(ValueError, match="name"):
        Department("ok", "  ", Level.CITY)
    with pytest.raises(ValueError, match="county"):
        Department("ok", "name", "county")  # type: ignore[arg-type]
