"""Who may do what with report editions: reporting's permissions in the one
table of roles (services/common/access.py), and verification's own rule,
that it needs a key reading every country. No I/O."""

from __future__ import annotations

import pytest

from services.common.access import Permission, Principal, Role, roles_with
from services.common.errors import ForbiddenError
from services.reporting.domain.access import check_may_verify


def test_every_role_reads_reports_only_programme_managers_manage_them() -> None:
    assert roles_with(Permission.READ_REPORTS) == list(Role)
    assert roles_with(Permission.MANAGE_REPORTS) == [Role.PROGRAMME_MANAGER]
    assert roles_with(Permission.VERIFY_REPORTS) == [Role.PROGRAMME_MANAGER, Role.AUDITOR, Role.REPORTING]


@pytest.mark.parametrize("role", [Role.PROGRAMME_MANAGER, Role.AUDITOR, Role.REPORTING])
def test_a_key_reading_every_country_may_verify(role: Role) -> None:
    check_may_verify(Principal("someone", role))


def test_a_country_office_may_not_verify_and_is_told_why() -> None:
    office = Principal.office("office-bgd", ["VNM", "BGD"])
    with pytest.raises(ForbiddenError) as refused:
        check_may_verify(office)
    detail = refused.value.detail
    assert "needs a key that reads every country" in detail and "office-bgd's key reads BGD, VNM only" in detail
    assert "programme-manager, auditor, reporting" in detail and "/renderings/" in detail
