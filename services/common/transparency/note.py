"""C2SP signed notes (https://c2sp.org/signed-note) with Ed25519, and checkpoints (https://c2sp.org/tlog-checkpoint).

A signed note is a text ending in a newline, a blank line, then one or more
signature lines "— <key name> <base64(key id || signature)>" (the dash is
U+2014). The key id is the first four bytes of SHA-256(key name || 0x0A ||
0x01 || Ed25519 public key); the Ed25519 signature is over the note text.
Keys are written in the format of Go's golang.org/x/mod/sumdb/note:

    signer    PRIVATE+KEY+<name>+<key id, 8 hex digits>+<base64(0x01 || 32-byte seed)>
    verifier  <name>+<key id, 8 hex digits>+<base64(0x01 || 32-byte public key)>

so notes made here open with Go's note.Open and the other way round. A
checkpoint is a note whose text is "<origin>\\n<tree size>\\n<base64 root hash>\\n",
possibly followed by extension lines.

Everything refused raises a NoteError (a ValueError) saying why: MalformedNoteError
for text that is not a well-formed note or checkpoint, MalformedKeyError for a
key text or key name that cannot be, UnknownKeyError when no signature is by the
verifier's key, BadSignatureError when a signature by that key does not verify.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

ALGORITHM_ED25519 = 0x01
SIGNATURE_PREFIX = "\u2014 "  # em dash, space
MAX_SIGNATURES = 100
"""Notes with more signature lines are refused (the spec asks verifiers to accept at least 16)."""
HASH_SIZE = 32

_KEY_ID = re.compile(r"[0-9a-fA-F]{8}")
_TREE_SIZE = re.compile(r"0|[1-9][0-9]*")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")  # ASCII control characters other than newline


class NoteError(ValueError):
    """A signed note, checkpoint or note key is refused."""


class MalformedNoteError(NoteError):
    """The text is not a well-formed signed note or checkpoint."""


class MalformedKeyError(NoteError):
    """A key text or key name is not well formed, or its key id does not match its key."""


class UnknownKeyError(NoteError):
    """No signature on the note is by the verifier's key."""


class BadSignatureError(NoteError):
    """A signature by the verifier's key does not verify: the note was changed, or forged."""


# --- keys --------------------------------------------------------------------------------------------------------


def check_key_name(name: str) -> None:
    """Key names are non-empty and contain no Unicode space and no plus (and, in a note, no control character)."""
    if not isinstance(name, str) or not name:
        raise MalformedKeyError("a key name must be a non-empty string")
    if any(c.isspace() for c in name) or "+" in name or _CONTROL.search(name):
        raise MalformedKeyError(f"key name {name!r} contains a space, a plus sign or a control character")


def key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte key id: SHA-256(name || 0x0A || 0x01 || public key)[:4]."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([ALGORITHM_ED25519]) + public_key).digest()[:4]


def _public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _decode_key_material(text: str, what: str) -> bytes:
    """base64(0x01 || 32 bytes) -> the 32 bytes."""
    try:
        material = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise MalformedKeyError(f"the {what} is not base64") from None
    if len(material) != 33 or material[0] != ALGORITHM_ED25519:
        raise MalformedKeyError(f"the {what} is not an Ed25519 key (0x01 followed by 32 bytes)")
    return material[1:]


def _split_key_text(text: str, parts: int, what: str) -> list[str]:
    fields = text.split("+", parts - 1)  # the base64 at the end may itself contain '+'
    if len(fields) != parts:
        raise MalformedKeyError(f"a {what} key has {parts} fields separated by '+'")
    return fields


def _check_key_id(name: str, given: str, public_key: bytes, what: str) -> bytes:
    if not _KEY_ID.fullmatch(given):
        raise MalformedKeyError(f"the {what} key id {given!r} is not 8 hex digits")
    expected = key_id(name, public_key)
    if bytes.fromhex(given) != expected:
        raise MalformedKeyError(f"the {what} key id {given} does not match its key (expected {expected.hex()})")
    return expected


@dataclass(frozen=True)
class Verifier:
    """An Ed25519 note verifier: a key name, its key id and public key."""

    name: str
    key_id: bytes
    public_key: bytes

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if len(self.key_id) != 4 or len(self.public_key) != 32:
            raise MalformedKeyError("a verifier has a 4-byte key id and a 32-byte Ed25519 public key")

    @classmethod
    def from_text(cls, text: str) -> Verifier:
        """Parse "<name>+<hex8 key id>+<base64(0x01 || public key)>"."""
        name, given_id, material = _split_key_text(text.strip(), 3, "verifier")
        check_key_name(name)
        public_key = _decode_key_material(material, "verifier key")
        return cls(name, _check_key_id(name, given_id, public_key, "verifier"), public_key)

    def to_text(self) -> str:
        material = base64.b64encode(bytes([ALGORITHM_ED25519]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_id.hex()}+{material}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


class Signer:
    """An Ed25519 note signer. Its repr shows the key name and id, never the key."""

    __slots__ = ("_key", "key_id", "name")

    def __init__(self, name: str, key: Ed25519PrivateKey) -> None:
        check_key_name(name)
        self.name = name
        self._key = key
        self.key_id = key_id(name, _public_bytes(key.public_key()))

    def __repr__(self) -> str:
        return f"Signer(name={self.name!r}, key_id={self.key_id.hex()!r})"

    @classmethod
    def generate(cls, name: str) -> Signer:
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def from_text(cls, text: str) -> Signer:
        """Parse "PRIVATE+KEY+<name>+<hex8 key id>+<base64(0x01 || seed)>"."""
        private, key_word, name, given_id, material = _split_key_text(text.strip(), 5, "signer")
        if (private, key_word) != ("PRIVATE", "KEY"):
            raise MalformedKeyError("a signer key starts with 'PRIVATE+KEY+'")
        check_key_name(name)
        key = Ed25519PrivateKey.from_private_bytes(_decode_key_material(material, "signer key"))
        _check_key_id(name, given_id, _public_bytes(key.public_key()), "signer")
        return cls(name, key)

    def to_text(self) -> str:
        """The private key text. Keep it secret."""
        seed = self._key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        material = base64.b64encode(bytes([ALGORITHM_ED25519]) + seed).decode("ascii")
        return f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+{material}"

    def verifier(self) -> Verifier:
        return Verifier(self.name, self.key_id, _public_bytes(self._key.public_key()))

    def verifier_text(self) -> str:
        return self.verifier().to_text()

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)


def generate_signer(name: str) -> tuple[str, str]:
    """A new Ed25519 key for `name`: (signer key text, verifier key text)."""
    signer = Signer.generate(name)
    return signer.to_text(), signer.verifier_text()


def load_or_create_signer(path: Path | str, name: str) -> Signer:
    """The signer whose key text is in the file at `path`; if there is no such file, a new key for `name`
    written there first (mode 0600, parent directories created; safe against a concurrent creator, which
    wins). Refuses a file holding the key of another name."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        _create_exclusively(path, Signer.generate(name).to_text() + "\n")
    signer = Signer.from_text(path.read_text(encoding="utf-8"))
    if signer.name != name:
        raise MalformedKeyError(f"the key in {path} is for {signer.name!r}, not {name!r}")
    return signer


def _create_exclusively(path: Path, text: str) -> None:
    """Write `text` to a new file at `path`, mode 0600, whole or not at all; leave an existing file alone."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)  # atomic, and fails if the path exists: never overwrites a key
        except FileExistsError:
            pass  # another process made it first: use theirs
        except OSError:  # a file system without hard links: exclusive create, then write
            _write_new_file(path, text)
    finally:
        os.unlink(temporary)


def _write_new_file(path: Path, text: str) -> None:
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())


# --- notes -------------------------------------------------------------------------------------------------------


def _check_note_characters(text: str, what: str) -> None:
    if _CONTROL.search(text):
        raise MalformedNoteError(f"{what} contains an ASCII control character other than newline")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedNoteError(f"{what} is not valid Unicode text (it has a lone surrogate)") from None


def sign_note(body: str, signer: Signer) -> str:
    """The signed note: `body` (which must end in a newline), a blank line, and the signature line."""
    if not body.endswith("\n"):
        raise MalformedNoteError("a note text must end with a newline")
    _check_note_characters(body, "the note text")
    signature = base64.b64encode(signer.key_id + signer.sign(body.encode("utf-8"))).decode("ascii")
    return f"{body}\n{SIGNATURE_PREFIX}{signer.name} {signature}\n"


@dataclass(frozen=True)
class _SignatureLine:
    name: str
    key_id: bytes
    signature: bytes


def _parse_signature_line(line: str) -> _SignatureLine:
    if not line.startswith(SIGNATURE_PREFIX):
        raise MalformedNoteError(f"signature line {line!r} does not start with an em dash and a space")
    name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
    try:
        check_key_name(name)
    except MalformedKeyError as error:
        raise MalformedNoteError(f"signature line {line!r}: {error}") from None
    try:
        blob = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise MalformedNoteError(f"signature line {line!r}: the signature is not base64") from None
    # Only the canonical encoding: unused low bits of the last character would otherwise let one signature be
    # written several ways, so that a note changed by a byte still opened.
    if base64.b64encode(blob).decode("ascii") != encoded:
        raise MalformedNoteError(f"signature line {line!r}: the signature is not in canonical base64")
    if len(blob) < 5:
        raise MalformedNoteError(f"signature line {line!r}: a signature is a 4-byte key id and at least one byte")
    return _SignatureLine(name, blob[:4], blob[4:])


def _split_note(text: str) -> tuple[str, list[str]]:
    """(the note text, its signature lines)."""
    _check_note_characters(text, "the note")
    split = text.rfind("\n\n")
    if split < 0:
        raise MalformedNoteError("no blank line separates the note text from its signatures")
    body, signatures = text[: split + 1], text[split + 2 :]
    if not signatures.endswith("\n"):
        raise MalformedNoteError("the note has no signature lines, or does not end with a newline")
    lines = signatures[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedNoteError(f"the note has {len(lines)} signature lines; at most {MAX_SIGNATURES} are read")
    return body, lines


def open_note(text: str, verifier: Verifier) -> str:
    """The text of the signed note `text`, once a signature by `verifier`'s key (same name and key id) has been
    verified. Signatures by other keys are ignored, as the spec requires; a bad one by this key is refused."""
    body, lines = _split_note(text)
    verified = False
    for line in lines:
        signature = _parse_signature_line(line)
        if (signature.name, signature.key_id) != (verifier.name, verifier.key_id):
            continue
        if not verifier.verify(body.encode("utf-8"), signature.signature):
            raise BadSignatureError(f"the signature by {verifier.name}+{verifier.key_id.hex()} does not verify")
        verified = True
    if not verified:
        raise UnknownKeyError(f"the note has no signature by {verifier.name}+{verifier.key_id.hex()}")
    return body


# --- checkpoints -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """A transparency log checkpoint: the log's origin line, tree size and root hash (plus any extension lines)."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for what, line in (("origin", self.origin), *(("extension line", e) for e in self.extensions)):
            if not isinstance(line, str) or not line or "\n" in line:
                raise MalformedNoteError(f"a checkpoint's {what} must be one non-empty line, not {line!r}")
            _check_note_characters(line, f"the checkpoint's {what}")
        if type(self.size) is not int or self.size < 0:
            raise MalformedNoteError(f"a checkpoint's tree size must be a non-negative integer, not {self.size!r}")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != HASH_SIZE:
            raise MalformedNoteError(f"a checkpoint's root hash must be {HASH_SIZE} bytes")

    def body(self) -> str:
        """The note text: origin, size, base64 root hash and any extension lines, each ending in a newline."""
        root = base64.b64encode(self.root_hash).decode("ascii")
        return "".join(f"{line}\n" for line in (self.origin, str(self.size), root, *self.extensions))

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """The checkpoint whose note text is `text` (as `open_note` returns it)."""
        if not text.endswith("\n"):
            raise MalformedNoteError("a checkpoint must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise MalformedNoteError(f"a checkpoint has at least 3 lines, not {len(lines)}")
        origin, size, root, *extensions = lines
        if not _TREE_SIZE.fullmatch(size):
            raise MalformedNoteError(f"tree size {size!r} is not a decimal number without leading zeros")
        try:
            root_hash = base64.b64decode(root, validate=True)
        except binascii.Error:
            raise MalformedNoteError(f"root hash {root!r} is not base64") from None
        if base64.b64encode(root_hash).decode("ascii") != root:
            raise MalformedNoteError(f"root hash {root!r} is not in canonical base64")
        return cls(origin, int(size), root_hash, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, signer: Signer) -> str:
    """The checkpoint as a note signed by `signer`."""
    return sign_note(checkpoint.body(), signer)


def open_checkpoint(text: str, verifier: Verifier) -> Checkpoint:
    """The checkpoint in the signed note `text`, once its signature by `verifier` is verified."""
    return Checkpoint.parse(open_note(text, verifier))
