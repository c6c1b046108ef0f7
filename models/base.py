"""The base of the models people and systems write: unknown fields are refused and the
surrounding whitespace of text is dropped."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
