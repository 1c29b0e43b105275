"""The offline verifier (`stocktake-verify`) on exports made here, without a
database or a server: what it accepts, and each alteration it refuses."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from services.common.transparency.leaf import leaf_bytes
from services.common.transparency.merkle import MemoryNodes, hash_leaf, inclusion_proof
from services.common.transparency.note import Checkpoint, Signer, sign_checkpoint
from services.common.transparency.offline import EXPORT_FORMAT, main

ORIGIN = "stocktake.example/test-log"


def events(count: int) -> list[dict[str, Any]]:
    return [
        {
            "position": position,
            "stream_id": f"00000000-0000-4000-8000-{position:012d}",
            "version": 1,
            "topic": "Observation.Recorded",
            "recorded_at": f"2021-03-31T12:00:{position % 60:02d}.000001+00:00",
            "payload": json.dumps({"value": 17.5, "note": "é\n\u2028"}),
        }
        for position in range(1, count + 1)
    ]


def root_of(logged: list[dict[str, Any]]) -> tuple[bytes, MemoryNodes]:
    nodes = MemoryNodes.from_leaf_hashes(hash_leaf(leaf_bytes(**event)) for event in logged)
    from services.common.transparency.merkle import root

    return root(len(logged), nodes), nodes


def write_export(path: Path, signer: Signer, logged: list[dict[str, Any]], note: str | None = None) -> Path:
    root_hash, _ = root_of(logged)
    note = note or sign_checkpoint(Checkpoint(ORIGIN, len(logged), root_hash), signer)
    header = {"format": EXPORT_FORMAT, "origin": ORIGIN, "size": len(logged), "checkpoint": note}
    lines = [json.dumps(header), *(json.dumps(event, ensure_ascii=False) for event in logged)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def signer() -> Signer:
    return Signer.generate(ORIGIN)


@pytest.fixture
def key_file(tmp_path: Path, signer: Signer) -> Path:
    path = tmp_path / "verifier.key"
    path.write_text(signer.verifier_text() + "\n")
    return path


def verify(export: Path, key_file: Path, *extra: str) -> int:
    return main([str(export), "--verifier-key", str(key_file), *extra])


def test_an_untouched_export_verifies_and_proves_every_position(
    tmp_path: Path, signer: Signer, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = write_export(tmp_path / "log.jsonl", signer, events(13))
    assert verify(export, key_file) == 0
    assert "OK  export: 13 events" in capsys.readouterr().out
    for position in range(1, 14):
        assert verify(export, key_file, "--position", str(position)) == 0
        out = capsys.readouterr().out
        assert f"position {position} is in the log at the checkpoint of size 13" in out


def test_a_report_checkpoint_of_an_earlier_size_is_checked_and_proved_against(
    tmp_path: Path, signer: Signer, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logged = events(20)
    earlier_root, nodes = root_of(logged[:11])
    pinned = tmp_path / "report-checkpoint.txt"
    pinned.write_text(sign_checkpoint(Checkpoint(ORIGIN, 11, earlier_root), signer))
    export = write_export(tmp_path / "log.jsonl", signer, logged)
    assert verify(export, key_file, "--checkpoint", str(pinned), "--position", "7") == 0
    assert "position 7 is in the log at the checkpoint of size 11" in capsys.readouterr().out

    proof: dict[str, Any] = {
        "position": 7,
        "proof": [base64.b64encode(node).decode() for node in inclusion_proof(6, 11, nodes)],
        "checkpoint": {"note": pinned.read_text()},
    }
    proof_file = tmp_path / "proof.json"
    proof_file.write_text(json.dumps(proof))
    assert verify(export, key_file, "--proof", str(proof_file)) == 0
    proof["proof"] = proof["proof"][:-1]
    proof_file.write_text(json.dumps(proof))
    assert verify(export, key_file, "--proof", str(proof_file)) == 1


def test_history_rewritten_before_a_kept_checkpoint_is_refused(
    tmp_path: Path, signer: Signer, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logged = events(9)
    kept_root, _ = root_of(logged[:5])
    kept = tmp_path / "kept.txt"
    kept.write_text(sign_checkpoint(Checkpoint(ORIGIN, 5, kept_root), signer))
    rewritten = [dict(event) for event in logged]
    rewritten[2]["payload"] = rewritten[2]["payload"].replace("17.5", "97.5")
    # The operator re-signs the rewritten log: the export itself is consistent, the kept checkpoint is not.
    export = write_export(tmp_path / "log.jsonl", signer, rewritten)
    assert verify(export, key_file) == 0
    assert verify(export, key_file, "--checkpoint", str(kept)) == 1
    assert "history differs" in capsys.readouterr().err
    shortened = write_export(tmp_path / "short.jsonl", signer, logged[:4])
    assert verify(shortened, key_file, "--checkpoint", str(kept)) == 1
    assert "covers 5 events, the export only 4" in capsys.readouterr().err


def _change_line(path: Path, number: int, change: Any) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[number] = change(lines[number])
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize(
    ("alteration", "says"),
    [
        (lambda p: _change_line(p, 3, lambda line: line.replace("17.5", "97.5")), "not the signed checkpoint's"),
        (lambda p: _change_line(p, 5, lambda line: ""), "line 5 of the export is not JSON"),
        (lambda p: _change_line(p, 8, lambda line: line[:-1] + ', "extra": 1}'), "other fields than a leaf's"),
        (lambda p: _change_line(p, 2, lambda line: line.replace('"version": 1', '"version": "1"')), "no int"),
        (
            lambda p: p.write_text("\n".join(p.read_text().splitlines()[:-1]) + "\n"),
            "holds 7 events but its checkpoint covers 8",
        ),
        (
            lambda p: _change_line(p, 0, lambda line: line.replace("\\n8\\n", "\\n9\\n")),
            "the export's checkpoint is refused",
        ),
    ],
)
def test_each_alteration_of_an_export_is_refused(
    tmp_path: Path,
    signer: Signer,
    key_file: Path,
    capsys: pytest.CaptureFixture[str],
    alteration: Any,
    says: str,
) -> None:
    export = write_export(tmp_path / "log.jsonl", signer, events(8))
    alteration(export)
    assert verify(export, key_file) == 1
    assert says in capsys.readouterr().err


def test_a_checkpoint_signed_by_another_key_or_changed_by_one_byte_is_refused(
    tmp_path: Path, signer: Signer, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logged = events(6)
    root_hash, _ = root_of(logged)
    impostor = sign_checkpoint(Checkpoint(ORIGIN, 6, root_hash), Signer.generate(ORIGIN))
    assert verify(write_export(tmp_path / "a.jsonl", signer, logged, impostor), key_file) == 1
    assert "the export's checkpoint is refused" in capsys.readouterr().err
    genuine = sign_checkpoint(Checkpoint(ORIGIN, 6, root_hash), signer)
    refused = 0
    for offset in range(len(genuine)):
        changed = genuine[:offset] + chr(ord(genuine[offset]) ^ 1) + genuine[offset + 1 :]
        export = write_export(tmp_path / "b.jsonl", signer, logged, changed)
        refused += verify(export, key_file) != 0
    assert refused == len(genuine)


def test_input_that_is_not_an_export_or_a_key_cannot_be_verified(
    tmp_path: Path, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    not_export = tmp_path / "x.jsonl"
    not_export.write_text('{"hello": 1}\n')
    assert verify(not_export, key_file) == 2
    assert verify(tmp_path / "missing.jsonl", key_file) == 2
    bad_key = tmp_path / "bad.key"
    bad_key.write_text("nonsense")
    assert verify(not_export, bad_key) == 2
