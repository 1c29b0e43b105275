"""Who may do what with report editions (the roles are the programme's,
services.common.access; a key's role is the one measurement knows it by)."""

from __future__ import annotations

from enum import StrEnum

from services.common.access import Principal, Role
from services.common.errors import ForbiddenError


class ReportPermission(StrEnum):
    READ_REPORTS = "read:reports"  # list and read editions, their renderings and diffs
    VERIFY_REPORTS = "verify:reports"  # regenerate an edition from its pins (needs every country's cells)
    MANAGE_REPORTS = "manage:reports"  # create, approve and delete (drafts) editions


REPORT_ROLES: dict[ReportPermission, tuple[Role, ...]] = {
    ReportPermission.READ_REPORTS: tuple(Role),
    ReportPermission.VERIFY_REPORTS: (Role.PROGRAMME_MANAGER, Role.AUDITOR, Role.REPORTING),
    ReportPermission.MANAGE_REPORTS: (Role.PROGRAMME_MANAGER,),
}


def check_may(principal: Principal, permission: ReportPermission) -> None:
    roles = REPORT_ROLES[permission]
    if principal.role not in roles:
        raise ForbiddenError(
            f"{principal.name} ({principal.role}) may not do this: it needs {permission}, which only "
            f"{', '.join(roles)} keys have. Ask the programme management team for a key with that role."
        )
