"""A request body read as JSON: UTF-8, well formed and nested no deeper than a bound, or refused
with ``MalformedInput`` before any model (or Temporal) sees it. The messages say where the body
went wrong, never what it holds."""

from __future__ import annotations

import json
from typing import Any

from models.commands import MAX_DEPTH, nesting_depth
from models.errors import MalformedInput

# A body is a command's envelope around its data or content, which may nest MAX_DEPTH levels.
MAX_BODY_DEPTH = MAX_DEPTH + 1


def parse_json_body(raw: bytes) -> Any:
    """The JSON value in ``raw``."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise _malformed(f"the body is not UTF-8 (byte {err.start} cannot be read)") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise _malformed(f"the body is not JSON ({err.msg} at character {err.pos})") from None
    except RecursionError:  # far past the bound: the parser itself gave up
        raise _malformed(f"the body nests deeper than {MAX_BODY_DEPTH} levels") from None
    if nesting_depth(value) > MAX_BODY_DEPTH:
        raise _malformed(f"the body nests deeper than {MAX_BODY_DEPTH} levels")
    return value


def _malformed(message: str) -> MalformedInput:
    return MalformedInput(message, errors=[{"field": "(body)", "message": message}])
