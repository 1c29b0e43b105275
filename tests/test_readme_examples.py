"""The README's curl examples for the measurement service, run against the
app with the illustrative sample loaded, so that they cannot rot: each must
answer 2xx. Placeholders are filled as a reader would: `<id>` with the
observation the example before recorded, `<recorded_at>` from /log/head."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from fastapi.testclient import TestClient

from services.common.access import Role
from services.measurement.application.commands import Measurement
from services.measurement.sample import load_sample

README = Path(__file__).resolve().parent.parent / "README.md"
MEASUREMENT = "localhost:8000"
KEYS = {"$AUDITOR": Role.AUDITOR, "$OFFICE": Role.COUNTRY_OFFICE, "$MANAGER": Role.PROGRAMME_MANAGER}


@dataclass
class Example:
    method: str = "GET"
    url: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    key: str = ""
    data: str | None = None


def _code_blocks(text: str) -> list[str]:
    return re.findall(r"^```\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def _examples(text: str) -> list[Example]:
    """Every curl of the README's code blocks that calls the measurement service."""
    csv = next(block for block in _code_blocks(text) if block.startswith("benchmark,country,"))
    examples = []
    for block in (block for block in _code_blocks(text) if "curl -s -H" in block):
        tokens = shlex.split(block.replace("\\\n", " "), comments=True)
        while "curl" in tokens:
            start = tokens.index("curl") + 1
            end = tokens.index("curl", start) if "curl" in tokens[start:] else len(tokens)
            example = _example(tokens[start:end], csv)
            if example.url.startswith(MEASUREMENT):
                examples.append(example)
            tokens = tokens[end:]
    return examples


def _example(arguments: list[str], csv: str) -> Example:
    example = Example()
    words = iter(arguments)
    for word in words:
        if word == "-H":
            name, _, value = next(words).partition(":")
            if name in KEYS:
                example.key = name
            else:
                example.headers[name.strip()] = value.strip()
        elif word == "-X":
            example.method = next(words)
        elif word in ("-d", "--data-binary"):
            data = next(words)
            example.data = csv if data == "@sheet.csv" else data
            example.method = "POST"  # as curl does with a body (an -X after it says so again)
        elif not word.startswith("-"):
            example.url = word
    return example


def test_the_readme_examples_answer_2xx(client: TestClient, measurement: Measurement, tokens: dict[Role, str]) -> None:
    load_sample(measurement)
    examples = _examples(README.read_text(encoding="utf-8"))
    assert len(examples) >= 15, "the README's examples were not found"
    recorded: dict[str, str] = {}
    for example in examples:
        path = example.url.removeprefix(MEASUREMENT)
        if "<recorded_at>" in path:
            path = path.replace("<recorded_at>", client.get("/log/head").json()["recorded_at"].replace("+", "%2B"))
        path = path.replace("<id>", recorded.get("id", "<id>"))
        headers = {**example.headers, "Authorization": f"Bearer {tokens[KEYS[example.key]]}"}
        answer = client.request(example.method, path, headers=headers, content=example.data)
        assert 200 <= answer.status_code < 300, f"{example.method} {path}: {answer.text}"
        if example.method == "POST" and path == "/observations":
            recorded["id"] = answer.json()["id"]
