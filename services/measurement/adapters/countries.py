"""ISO 3166-1 country codes, from pycountry's copy of the standard."""

from __future__ import annotations

import pycountry


def country_name(iso3: str) -> str | None:
    """The short English name of an alpha-3 code, or None if it is not one."""
    if len(iso3) != 3 or not iso3.isalpha() or not iso3.isupper():
        return None
    country = pycountry.countries.get(alpha_3=iso3)
    return None if country is None else str(country.name)
