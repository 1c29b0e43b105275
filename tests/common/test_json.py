"""What `jsonable` makes of event data and framework documents: the JSON the
read models and the framework's stored document have always held."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from uuid import UUID

from services.common.json import jsonable

AN_ID = UUID("6f1c2b1e-8d4a-4c3e-9b7a-2a5d0e1f3c4b")


def test_dates_become_iso_strings() -> None:
    assert jsonable(date(2019, 12, 31)) == "2019-12-31"
    assert jsonable({"as_of": date(2020, 3, 31)}) == {"as_of": "2020-03-31"}


def test_tuples_become_lists_at_any_depth() -> None:
    assert jsonable(("a", ("b", 1))) == ["a", ["b", 1]]
    assert jsonable({"path": ("disaggregations", 0, "value")}) == {"path": ["disaggregations", 0, "value"]}


def test_uuids_become_strings_as_values_and_as_keys() -> None:
    assert jsonable(AN_ID) == "6f1c2b1e-8d4a-4c3e-9b7a-2a5d0e1f3c4b"
    assert jsonable({AN_ID: 1, 2: "two"}) == {"6f1c2b1e-8d4a-4c3e-9b7a-2a5d0e1f3c4b": 1, "2": "two"}


def test_decimals_keep_every_digit_as_a_string() -> None:
    # pydantic's choice (the hand-written version made a float of it): exact, and no event or
    # framework document holds a Decimal today.
    assert jsonable(Decimal("18.50")) == "18.50"


def test_json_primitives_pass_through_unchanged() -> None:
    value = {"value": 17.5, "count": 3, "label": "BGD", "retired": False, "comment": None, "values": [1, 2.5]}
    assert jsonable(value) == value


def test_the_result_is_plain_json() -> None:
    document = {"period": ("2019-Q4", date(2019, 12, 31)), "id": AN_ID, "levels": {1: "low"}}
    assert json.loads(json.dumps(jsonable(document))) == {
        "period": ["2019-Q4", "2019-12-31"],
        "id": str(AN_ID),
        "levels": {"1": "low"},
    }
