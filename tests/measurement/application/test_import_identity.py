"""A batch row's observation id (`row_identity`) is uuid5 of its principal, key and generation, made
without uuid5's calls: the same UUID, and the same refusal of text UTF-8 cannot hold."""

from __future__ import annotations

import copy
import pickle
import random
from uuid import UUID, uuid5

from services.measurement.application.imports import IMPORTED_OBSERVATIONS, row_identity


def _made(principal: str, key: tuple[str, ...], generation: int, by_uuid5: bool) -> UUID | type[Exception]:
    try:
        if by_uuid5:
            return uuid5(IMPORTED_OBSERVATIONS, "\n".join((principal, *key, str(generation))))
        return row_identity(principal, key, generation)
    except Exception as error:
        return type(error)


def test_row_identity_is_uuid5_of_the_row() -> None:
    rng = random.Random(17)
    refused = 0
    for _ in range(5000):
        principal = "".join(chr(rng.randrange(1, 0x2FFF)) for _ in range(rng.randrange(0, 12)))
        key = tuple("".join(chr(rng.randrange(32, 0x10FFF)) for _ in range(rng.randrange(0, 8))) for _ in range(4))
        generation = rng.randrange(0, 5)
        made, expected = (_made(principal, key, generation, by_uuid5) for by_uuid5 in (False, True))
        if not isinstance(expected, UUID):
            assert made is expected  # a lone surrogate: UnicodeEncodeError both ways
            refused += 1
            continue
        assert isinstance(made, UUID)
        assert (made, made.int, str(made), hash(made), made.version, made.variant, made.is_safe) == (
            expected,
            expected.int,
            str(expected),
            hash(expected),
            expected.version,
            expected.variant,
            expected.is_safe,
        )
    assert refused > 100
    made = row_identity("co-dhaka@ilo.org", ("CA2-INSPECTION", "BGD", "", "2019-Q2"), 0)
    assert pickle.loads(pickle.dumps(made)) == made == copy.deepcopy(made)
