"""Reading the YAML or JSON files people hand to the CLI, with errors a person can act on."""

from __future__ import annotations

from pathlib import Path

import yaml

from models.commands import MAX_DEPTH, nesting_depth
from models.errors import MalformedInput, PayloadTooLarge

# Far above any artefact the policy allows, far below Temporal's 2 MB payload limit.
MAX_FILE_BYTES = 1024 * 1024


def load_document(path: Path) -> dict[str, object]:
    """A YAML (or JSON, which is YAML) mapping from ``path``; refuse anything else clearly."""
    if not path.is_file():
        raise MalformedInput(
            f"{path}: no such file", errors=[{"field": "file", "message": "missing"}]
        )
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise PayloadTooLarge(
            f"{path} is {size} bytes; files up to {MAX_FILE_BYTES} bytes are read",
            errors=[{"field": "(file)", "message": f"{size} bytes"}],
        )
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        where = ""
        mark = getattr(err, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        problem = getattr(err, "problem", None) or str(err)
        raise MalformedInput(
            f"{path} is not valid YAML/JSON{where}: {problem}",
            errors=[{"field": "(file)", "message": f"{problem}{where}"}],
        ) from err
    except RecursionError:  # the parser is recursive: nesting past its stack
        document = None
        too_deep = True
    else:
        too_deep = nesting_depth(document) > MAX_DEPTH
    if too_deep:
        raise MalformedInput(
            f"{path} nests deeper than {MAX_DEPTH} levels",
            errors=[{"field": "(file)", "message": f"deeper than {MAX_DEPTH} levels"}],
        )
    if not isinstance(document, dict):
        raise MalformedInput(
            f"{path} must hold a mapping of fields, not {type(document).__name__}",
            errors=[{"field": "(root)", "message": "expected a mapping"}],
        )
    return document
