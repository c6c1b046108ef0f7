"""Bearer tokens of the HTTP API, each mapped to one person of the directory.

The operator issues tokens with ``osom api-token --person P-001``: the token is printed once and
only its SHA-256 is kept, in a YAML file (``OSOM_API_TOKENS``). Whoever holds a token acts as
that person; nothing in a request can say otherwise.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime
from pathlib import Path

import yaml
from pydantic import BaseModel, Field

from activities.files import write_atomically
from models.people import PersonId


class IssuedToken(BaseModel):
    person: PersonId
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    label: str = ""
    issued_at: datetime


class TokenBook(BaseModel):
    tokens: list[IssuedToken] = Field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> TokenBook:
        if not path.is_file():
            return cls()
        return cls.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})

    def save(self, path: Path) -> None:
        write_atomically(path, yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False))

    def person_for(self, token: str) -> str | None:
        """The person a presented token stands for (compared in constant time)."""
        digest = _digest(token)
        found = None
        for issued in self.tokens:
            if hmac.compare_digest(issued.sha256, digest):
                found = issued.person
        return found

    def revoke(self, person: str) -> int:
        """Drop every token of ``person``; how many there were."""
        before = len(self.tokens)
        self.tokens = [t for t in self.tokens if t.person != person]
        return before - len(self.tokens)

    def issue(self, person: str, label: str = "") -> str:
        """A new token for ``person``; only its hash is kept."""
        token = "osom_" + secrets.token_urlsafe(32)
        self.tokens.append(
            IssuedToken(
                person=person, sha256=_digest(token), label=label, issued_at=datetime.now(UTC)
            )
        )
        return token


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
