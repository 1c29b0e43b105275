"""Reads a framework document from its versioned data file."""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from services.common.json import jsonable

# Version 2 corrects version 1's transcription of the roadmap (each fix notes
# its paragraph); version 1 stays for the stores and answers that used it.
DEFAULT_FRAMEWORK_FILE = "gb329-ins-3-2.v2.yaml"
REQUIRED_SECTIONS = (
    "framework",
    "areas_of_action",
    "critical_assumptions",
    "expected_changes",
    "deliverables",
    "pb_alignment",
    "sdgs",
    "milestones",
)


class FrameworkFileError(ValueError):
    pass


def default_framework_path() -> Path:
    return framework_path(DEFAULT_FRAMEWORK_FILE)


def framework_path(name: str) -> Path:
    """A framework file shipped with the service, e.g. gb329-ins-3-2.v1.yaml."""
    return Path(str(resources.files("services.measurement") / "framework_data" / name))


def read_framework_file(path: Path | None = None) -> tuple[dict[str, Any], str]:
    """The document as plain JSON data, and its SHA-256 digest (of the
    canonical JSON, so re-saving the YAML with other spacing changes nothing)."""
    path = path or default_framework_path()
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise FrameworkFileError(f"Cannot read framework file {path}: {error}") from error
    if not isinstance(content, dict):
        raise FrameworkFileError(f"{path} does not hold a framework document (a mapping at the top).")
    missing = [section for section in REQUIRED_SECTIONS if section not in content]
    if missing:
        raise FrameworkFileError(f"{path} lacks the sections: {', '.join(missing)}.")
    document = jsonable(content)
    canonical = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return document, hashlib.sha256(canonical.encode("utf-8")).hexdigest()
