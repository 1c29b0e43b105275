"""ISO 3166-1 country codes, from pycountry's copy of the standard."""

from __future__ import annotations

import difflib
from functools import cache, lru_cache

import pycountry


@lru_cache(maxsize=1024)  # asked for every row of a batch; pycountry's lookup is not cheap
def country_name(iso3: str) -> str | None:
    """The short English name of an alpha-3 code, or None if it is not one."""
    if len(iso3) != 3 or not iso3.isalpha() or not iso3.isupper():
        return None
    country = pycountry.countries.get(alpha_3=iso3)
    return None if country is None else str(country.name)


@lru_cache(maxsize=4096)
def iso3_of(text: str) -> str | None:
    """The alpha-3 code of a country written as people do: its alpha-3 or
    alpha-2 code in any case, or its English name ("bgd", "BD",
    "Bangladesh"); None if it names no country. Numeric codes are not taken:
    no one types them, and a stray number must not become a country."""
    cleaned = text.strip()
    if not cleaned or cleaned.isdigit():
        return None
    try:
        return str(pycountry.countries.lookup(cleaned).alpha_3)
    except LookupError:
        return None


@cache
def _names() -> dict[str, str]:
    """Every name and code of every country, lower-cased, with its alpha-3."""
    names: dict[str, str] = {}
    for country in pycountry.countries:
        for attribute in ("name", "common_name", "official_name", "alpha_2", "alpha_3"):
            value = getattr(country, attribute, None)
            if value:
                names[str(value).lower()] = str(country.alpha_3)
    return names


def closest_countries(text: str, n: int = 3) -> list[str]:
    """The countries whose names or codes are closest to `text`, as "Name (ISO3)"."""
    found: list[str] = []
    for match in difflib.get_close_matches(text.strip().lower(), list(_names()), n=n * 3, cutoff=0.6):
        iso3 = _names()[match]
        label = f"{country_name(iso3)} ({iso3})"
        if label not in found:
            found.append(label)
    return found[:n]
