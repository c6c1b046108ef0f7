"""The example organisation's files (examples/fenmoor), as tests read them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "fenmoor"


def load_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def artefact(name: str) -> dict[str, Any]:
    """An example artefact file's fields, without its 'kind' line."""
    data = load_yaml(EXAMPLES / "artefacts" / name)
    data.pop("kind", None)
    return data
