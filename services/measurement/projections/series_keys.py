"""Integer keys of the value series, for the as-of lookups.

A series is one cell, one benchmark in one country and one sector (or
none): the rows of `observation_values` an as-of lookup walks for one cell.
An index that starts with one integer per series is found much faster than
one that starts with strings (each step down the B-tree compares integers
instead of collated texts); with a roll-up doing one lookup per cell (30
benchmarks x 50 countries = 1,500 without sectors), that halves its time in
the database.

    series key = benchmark part + country part

- the benchmark part is 48 bits of the BLAKE2b digest of the benchmark's
  code (of the code and the sector, for a cell with a sector), shifted left
  by 15 bits;
- the country part is exact for an ISO 3166 alpha-3 code (three letters
  A-Z, read as a base-26 number below 26**3 = 17,576 < 2**15).

Each cell's key is kept on its `value_cells` row, and a lookup probes it.
Keys depend on nothing but the codes: the live projection, a rebuild and
every process agree without sharing anything. Two cells could, very rarely
(about 1 in 2**48 per pair of codes), share a benchmark part: lookups
therefore also check the row's benchmark, country and sector (on
PostgreSQL in the walk, from the index, which holds them; on SQLite on the
row the walk ends on, which is read anyway, walking again with the check
when it is another cell's), and a shared key can slow a lookup but never
change its answer."""

from __future__ import annotations

import hashlib
from functools import lru_cache

COUNTRY_BITS = 15
_BENCHMARK_BYTES = 6  # 48 bits: with the 15 of a country, a key fits a signed 64-bit integer


@lru_cache(maxsize=4096)
def benchmark_part(code: str) -> int:
    digest = hashlib.blake2b(code.encode("utf-8"), digest_size=_BENCHMARK_BYTES).digest()
    return int.from_bytes(digest, "big") << COUNTRY_BITS


@lru_cache(maxsize=1024)
def country_part(iso3: str) -> int:
    if len(iso3) == 3 and all("A" <= letter <= "Z" for letter in iso3):
        return (ord(iso3[0]) - 65) * 676 + (ord(iso3[1]) - 65) * 26 + (ord(iso3[2]) - 65)
    # Not an alpha-3 code (the domain admits none): any number of 15 bits
    # will do, since lookups check the country itself too.
    digest = hashlib.blake2b(iso3.encode("utf-8"), digest_size=2).digest()
    return int.from_bytes(digest, "big") & ((1 << COUNTRY_BITS) - 1)


def series_key(benchmark: str, country: str, sector: str = "") -> int:
    """The key of a cell: a sector's cells of a benchmark share a benchmark
    part of their own (that of the benchmark's code and the sector's), so a
    cell without a sector keeps the key of its (benchmark, country) pair."""
    return benchmark_part(f"{benchmark}\x1f{sector}" if sector else benchmark) + country_part(country)
