"""C2SP signed notes and checkpoints with Ed25519, in the key format of Go's sumdb/note. Refusals first."""

from __future__ import annotations

import base64
import os
import re
import stat
import threading
from pathlib import Path

import pytest

from services.common.transparency.merkle import EMPTY_ROOT
from services.common.transparency.note import (
    BadSignatureError,
    Checkpoint,
    MalformedKeyError,
    MalformedNoteError,
    NoteError,
    Signer,
    UnknownKeyError,
    Verifier,
    generate_signer,
    load_or_create_signer,
    open_checkpoint,
    open_note,
    sign_checkpoint,
    sign_note,
)

# The example key and note of golang.org/x/mod/sumdb/note's documentation: notes made here must match Go's.
GO_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_SIGNATURE = "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
GO_NOTE = f"{GO_TEXT}\n\u2014 PeterNeumann {GO_SIGNATURE}\n"

SIGNER = Signer.from_text(GO_SIGNER)
VERIFIER = Verifier.from_text(GO_VERIFIER)
OTHER = Signer.generate("other.example/log")
ROOT = bytes(range(32))


# --- refusals: notes ---------------------------------------------------------------------------------------------


def test_a_signature_by_another_key_is_refused() -> None:
    with pytest.raises(UnknownKeyError, match="no signature by PeterNeumann\\+c74f20a3"):
        open_note(sign_note(GO_TEXT, OTHER), VERIFIER)


def test_another_key_of_the_same_name_is_an_unknown_key() -> None:
    impostor = Signer.generate("PeterNeumann")
    with pytest.raises(UnknownKeyError):
        open_note(sign_note(GO_TEXT, impostor), VERIFIER)


def test_a_signature_with_the_right_name_and_key_id_but_another_key_is_a_bad_signature() -> None:
    impostor = Signer.generate("PeterNeumann")
    forged = base64.b64encode(VERIFIER.key_id + impostor.sign(GO_TEXT.encode())).decode()
    with pytest.raises(BadSignatureError, match="the signature by PeterNeumann\\+c74f20a3 does not verify"):
        open_note(f"{GO_TEXT}\n\u2014 PeterNeumann {forged}\n", VERIFIER)


@pytest.mark.parametrize("position", range(len(GO_TEXT)))
def test_one_changed_character_of_the_text_is_refused(position: int) -> None:
    changed = "X" if GO_TEXT[position] != "X" else "Y"
    if GO_TEXT[position] == "\n":
        changed = " "
    tampered = GO_NOTE[:position] + changed + GO_NOTE[position + 1 :]
    with pytest.raises(NoteError):
        open_note(tampered, VERIFIER)


@pytest.mark.parametrize("position", range(len(GO_NOTE.encode())))
def test_one_changed_byte_anywhere_is_refused(position: int) -> None:
    raw = bytearray(GO_NOTE.encode())
    raw[position] ^= 0x01
    try:
        tampered = raw.decode("utf-8")
    except UnicodeDecodeError:
        return  # not text any more: it never reaches open_note
    with pytest.raises(NoteError):
        open_note(tampered, VERIFIER)


SIGNATURE_LINE = f"\u2014 PeterNeumann {GO_SIGNATURE}\n"


@pytest.mark.parametrize(
    ("note", "message"),
    [
        (GO_TEXT, "no blank line separates"),
        (GO_TEXT + "\n", "has no signature lines"),
        (GO_NOTE[:-1], "does not end with a newline"),
        (GO_TEXT + "\n" + SIGNATURE_LINE + "\n", "has no signature lines"),
        (GO_TEXT + "\n" + SIGNATURE_LINE + "garbage\n", "'garbage' does not start with an em dash"),
        (GO_TEXT + "\n" + SIGNATURE_LINE.replace("\u2014", "-"), "does not start with an em dash"),
        (GO_TEXT + "\n" + SIGNATURE_LINE.replace("\u2014 ", "\u2014"), "does not start with an em dash"),
        (GO_TEXT + "\n" + SIGNATURE_LINE.replace("PeterNeumann", "Peter+Neumann"), "contains a space, a plus"),
        (GO_TEXT + "\n" + SIGNATURE_LINE.replace("PeterNeumann", "Peter Neumann"), "the signature is not base64"),
        (GO_TEXT + "\n" + SIGNATURE_LINE.replace("PeterNeumann", "Peter\u00a0Neumann"), "contains a space, a plus"),
        (GO_TEXT + "\n" + SIGNATURE_LINE.replace("PeterNeumann ", ""), "4-byte key id and at least one byte"),
        (GO_TEXT + "\n" + SIGNATURE_LINE.replace("PeterNeumann", ""), "a non-empty string"),
        (GO_TEXT + "\n" + SIGNATURE_LINE.replace(GO_SIGNATURE, "!!!!"), "the signature is not base64"),
        (GO_TEXT + "\n" + SIGNATURE_LINE.replace(GO_SIGNATURE, GO_SIGNATURE[:-1]), "the signature is not base64"),
        (GO_TEXT + "\n" + SIGNATURE_LINE.replace(GO_SIGNATURE, "AAAAAA=="), "4-byte key id and at least one byte"),
        (GO_TEXT + "\n" + SIGNATURE_LINE.replace(GO_SIGNATURE, ""), "4-byte key id and at least one byte"),
        ("tab\there\n\n" + SIGNATURE_LINE, "control character"),
        ("carriage\r\n\n" + SIGNATURE_LINE, "control character"),
        ("lone \ud800\n\n" + SIGNATURE_LINE, "lone surrogate"),
        (GO_TEXT + "\n" + SIGNATURE_LINE * 101, "101 signature lines"),
    ],
)
def test_malformed_notes_are_refused(note: str, message: str) -> None:
    with pytest.raises(MalformedNoteError, match=message):
        open_note(note, VERIFIER)


@pytest.mark.parametrize(
    ("body", "message"),
    [("no final newline", "must end with a newline"), ("bell\x07\n", "control character")],
)
def test_text_that_cannot_be_a_note_is_not_signed(body: str, message: str) -> None:
    with pytest.raises(MalformedNoteError, match=message):
        sign_note(body, SIGNER)


# --- refusals: keys ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("PeterNeumann+c74f20a3", "3 fields"),
        ("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "does not match its key"),
        ("PeterNeumann+c74f20+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "not 8 hex digits"),
        ("PeterNeumann+c74f20ag+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "not 8 hex digits"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T", "not base64"),
        ("PeterNeumann+c74f20a3+Apc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "not base64"),
        (GO_VERIFIER.replace("+ARpc", "+Ahpc"), "not an Ed25519 key"),  # algorithm 0x02
        ("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==", "not an Ed25519 key"),
        ("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "not an Ed25519 key"),
        ("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "contains a space"),
        ("+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "non-empty"),
    ],
)
def test_malformed_verifier_keys_are_refused(text: str, message: str) -> None:
    with pytest.raises(MalformedKeyError, match=message):
        Verifier.from_text(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GO_VERIFIER, "5 fields"),
        (GO_SIGNER.replace("PRIVATE+KEY", "SECRET+KEY"), "starts with 'PRIVATE\\+KEY\\+'"),
        (GO_SIGNER.replace("c74f20a3", "c74f20a4"), "does not match its key"),
        (GO_SIGNER[:-2], "not base64"),
        (GO_SIGNER.replace("+AYEK", "+AoEK"), "not an Ed25519 key"),
    ],
)
def test_malformed_signer_keys_are_refused(text: str, message: str) -> None:
    with pytest.raises(MalformedKeyError, match=message):
        Signer.from_text(text)


@pytest.mark.parametrize("name", ["", "with space", "with+plus", "tab\tname", "nbsp\u00a0name", "line\nbreak"])
def test_keys_are_not_made_for_names_that_cannot_be(name: str) -> None:
    with pytest.raises(MalformedKeyError):
        generate_signer(name)


def test_a_signer_does_not_show_its_key() -> None:
    seed = GO_SIGNER.rsplit("+", 1)[1]
    assert seed not in repr(SIGNER) and repr(SIGNER) == "Signer(name='PeterNeumann', key_id='c74f20a3')"


# --- notes -------------------------------------------------------------------------------------------------------


def test_the_go_example_is_reproduced_byte_for_byte() -> None:
    assert SIGNER.key_id.hex() == "c74f20a3"
    assert SIGNER.to_text() == GO_SIGNER
    assert SIGNER.verifier_text() == GO_VERIFIER
    assert sign_note(GO_TEXT, SIGNER) == GO_NOTE
    assert open_note(GO_NOTE, VERIFIER) == GO_TEXT


def test_verifier_text_parses_to_name_key_id_and_key() -> None:
    assert VERIFIER.name == "PeterNeumann"
    assert VERIFIER.key_id == bytes.fromhex("c74f20a3")
    assert VERIFIER.public_key == base64.b64decode("ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")[1:]
    assert VERIFIER.to_text() == GO_VERIFIER
    assert Verifier.from_text(GO_VERIFIER + "\n") == VERIFIER


def test_generated_keys_round_trip() -> None:
    signer_text, verifier_text = generate_signer("stocktake.example/log")
    assert signer_text.startswith("PRIVATE+KEY+stocktake.example/log+")
    signer, verifier = Signer.from_text(signer_text), Verifier.from_text(verifier_text)
    assert signer.to_text() == signer_text and signer.verifier() == verifier
    body = "stocktake.example/log\n3\nAAAA\n\nan empty line above is part of the text\n"
    note = sign_note(body, signer)
    assert note.endswith("\n") and "\n\n\u2014 stocktake.example/log " in note
    assert open_note(note, verifier) == body


def test_signatures_by_unknown_keys_are_ignored() -> None:
    cosigned = sign_note(GO_TEXT, OTHER) + SIGNATURE_LINE
    assert open_note(cosigned, VERIFIER) == GO_TEXT
    assert open_note(cosigned, OTHER.verifier()) == GO_TEXT


def test_a_body_ending_in_a_blank_line_survives() -> None:
    body = "text\n\n"
    assert open_note(sign_note(body, SIGNER), VERIFIER) == body


# --- checkpoints -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("log\n1\n" + base64.b64encode(ROOT).decode(), "must end with a newline"),
        ("log\n1\n", "at least 3 lines, not 2"),
        ("\n1\n" + base64.b64encode(ROOT).decode() + "\n", "origin must be one non-empty line"),
        ("log\n01\n" + base64.b64encode(ROOT).decode() + "\n", "'01' is not a decimal number"),
        ("log\n-1\n" + base64.b64encode(ROOT).decode() + "\n", "'-1' is not a decimal number"),
        ("log\n+1\n" + base64.b64encode(ROOT).decode() + "\n", "'\\+1' is not a decimal number"),
        ("log\n\u0661\n" + base64.b64encode(ROOT).decode() + "\n", "is not a decimal number"),
        ("log\n1\n" + base64.b64encode(ROOT[:31]).decode() + "\n", "root hash must be 32 bytes"),
        ("log\n1\nnot base64!\n", "is not base64"),
        ("log\n1\n" + base64.b64encode(ROOT).decode().replace("=", "") + "\n", "is not base64"),
        ("log\n1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=\n", "not in canonical base64"),
        ("log\n1\n" + base64.b64encode(ROOT).decode() + "\n\n", "extension line must be one non-empty line"),
    ],
)
def test_malformed_checkpoints_are_refused(text: str, message: str) -> None:
    with pytest.raises(MalformedNoteError, match=message):
        Checkpoint.parse(text)


def test_checkpoints_that_cannot_be_are_not_made() -> None:
    with pytest.raises(MalformedNoteError, match="tree size"):
        Checkpoint("log", -1, ROOT)
    with pytest.raises(MalformedNoteError, match="root hash"):
        Checkpoint("log", 1, ROOT[:16])
    with pytest.raises(MalformedNoteError, match="origin"):
        Checkpoint("two\nlines", 1, ROOT)


def test_a_checkpoint_body_is_origin_size_and_root() -> None:
    checkpoint = Checkpoint("stocktake.example/log", 20852163, ROOT)
    assert checkpoint.body() == "stocktake.example/log\n20852163\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
    assert Checkpoint.parse(checkpoint.body()) == checkpoint
    empty = Checkpoint("stocktake.example/log", 0, EMPTY_ROOT)
    assert empty.body().split("\n")[1] == "0" and Checkpoint.parse(empty.body()) == empty


def test_extension_lines_are_kept() -> None:
    checkpoint = Checkpoint("log", 5, ROOT, ("extension one", "two"))
    assert checkpoint.body().endswith("\nextension one\ntwo\n")
    assert Checkpoint.parse(checkpoint.body()) == checkpoint


def test_a_signed_checkpoint_round_trips_and_is_refused_by_another_key() -> None:
    signer = Signer.generate("stocktake.example/log")
    checkpoint = Checkpoint("stocktake.example/log", 42, ROOT)
    note = sign_checkpoint(checkpoint, signer)
    assert note.startswith(checkpoint.body() + "\n\u2014 stocktake.example/log ")
    assert open_checkpoint(note, signer.verifier()) == checkpoint
    with pytest.raises(UnknownKeyError):
        open_checkpoint(note, OTHER.verifier())
    with pytest.raises(BadSignatureError):
        open_checkpoint(note.replace("\n42\n", "\n43\n"), signer.verifier())


# --- the key file ------------------------------------------------------------------------------------------------


def test_a_key_file_is_created_private_in_new_directories_then_reused(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "deep" / "log.key"
    signer = load_or_create_signer(path, "stocktake.example/log")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == signer.to_text() + "\n"
    again = load_or_create_signer(str(path), "stocktake.example/log")
    assert again.to_text() == signer.to_text() and again.verifier_text() == signer.verifier_text()
    assert [p.name for p in path.parent.iterdir()] == ["log.key"]  # no temporary file left behind


def test_an_existing_key_file_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "log.key"
    path.write_text(GO_SIGNER + "\n")
    assert load_or_create_signer(path, "PeterNeumann").to_text() == GO_SIGNER
    with pytest.raises(MalformedKeyError, match=re.escape("is for 'PeterNeumann', not 'stocktake.example/log'")):
        load_or_create_signer(path, "stocktake.example/log")
    assert path.read_text() == GO_SIGNER + "\n"


def test_a_malformed_key_file_is_refused_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / "log.key"
    path.write_text("not a key\n")
    with pytest.raises(MalformedKeyError):
        load_or_create_signer(path, "stocktake.example/log")
    assert path.read_text() == "not a key\n"


def test_processes_racing_to_create_the_key_agree_on_one(tmp_path: Path) -> None:
    path = tmp_path / "race" / "log.key"
    keys: list[str] = []
    threads = [
        threading.Thread(target=lambda: keys.append(load_or_create_signer(path, "log").to_text())) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(keys) == 8 and len(set(keys)) == 1
    assert os.listdir(path.parent) == ["log.key"]
