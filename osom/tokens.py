"""Bearer tokens of the HTTP API, each mapped to one person of the directory.

The operator issues tokens with ``osom api-token --person P-001``: the token is printed once and
only its SHA-256 is kept, in a YAML file (``OSOM_API_TOKENS``). Whoever holds a token acts as
that person; nothing in a request can say otherwise.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import yaml
from pydantic import BaseModel, Field, ValidationError

from activities.files import write_atomically
from models.errors import OsomError
from models.people import PersonId


class TokensUnavailable(OsomError):
    """The token file cannot be read or is not a valid token file (an operator's problem)."""


class IssuedToken(BaseModel):
    person: PersonId
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    label: str = ""
    issued_at: datetime


class TokenBook(BaseModel):
    tokens: list[IssuedToken] = Field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> TokenBook:
        """The book kept at ``path`` (none there: no token is valid). The messages name the
        problem but never quote the file."""
        if not path.is_file():
            return cls()
        try:
            return cls.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
        except OSError as err:
            raise TokensUnavailable(f"the token file cannot be read: {err.strerror}") from err
        except UnicodeDecodeError as err:
            raise TokensUnavailable("the token file is not UTF-8 text") from err
        except yaml.MarkedYAMLError as err:
            at = err.problem_mark
            where = f" at line {at.line + 1}, column {at.column + 1}" if at else ""
            raise TokensUnavailable(f"the token file is not valid YAML{where}") from err
        except yaml.YAMLError as err:
            raise TokensUnavailable("the token file is not valid YAML") from err
        except ValidationError as err:
            fields = sorted({".".join(map(str, e["loc"])) or "(root)" for e in err.errors()})
            raise TokensUnavailable(
                f"the token file is not a list of issued tokens: {', '.join(fields)}"
            ) from err

    @classmethod
    @contextmanager
    def editing(cls, path: Path) -> Iterator[TokenBook]:
        """The book at ``path``, saved when the block ends without an error. Other writers
        wait on a lock file beside it meanwhile, so that concurrent ``osom api-token`` runs
        never drop each other's tokens (readers need no lock: the save is atomic)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.with_name(f"{path.name}.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the lock file is closed
            book = cls.load(path)
            yield book
            book.save(path)

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
