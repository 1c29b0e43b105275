"""Who may do what with report editions. Reporting's permissions
(read:reports, verify:reports, manage:reports) are in the one table of roles,
services.common.access, beside measurement's; a key's role is the one
measurement knows it by. What is reporting's own is the rule below."""

from __future__ import annotations

from services.common.access import Permission, Principal, roles_with
from services.common.errors import ForbiddenError


def check_may_verify(principal: Principal) -> None:
    """Verification makes the whole edition again, every country's cells,
    and compares it with the digests of the renderings as made. A key that
    reads some countries only would make a filtered edition, which never
    matches; and a match of its own view against a filtered stored one would
    vouch for cells it cannot see no more than for the digests that were
    stored. So it is refused, saying why, whatever its role."""
    if not principal.reads_every_country:
        allowed = ", ".join(roles_with(Permission.VERIFY_REPORTS))
        raise ForbiddenError(
            f"Verification makes the whole edition again, every country's cells, so it needs a key that reads "
            f"every country ({allowed}); {principal.name}'s key reads "
            f"{', '.join(sorted(principal.countries)) or 'no country'} only. Its own countries' view of the "
            "edition is at /reports/{id}/renderings/{format}."
        )
    principal.check_may(Permission.VERIFY_REPORTS)
