"""Bearer tokens of the HTTP API, each mapped to one person of the directory.

The operator issues tokens with ``osom api-token --person P-001``: the token is printed once and
only its SHA-256 is kept, in the record (``RecordStore``), so every API instance sharing the
record knows the same tokens. A token may expire, and an operator revokes all of a person's
tokens at once. Whoever holds a live token acts as that person; nothing in a request can say
otherwise, and an unknown, expired or revoked token is refused alike.

Every function here is synchronous (one short transaction each): the API calls them in a
thread, never on its event loop.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.exc import IntegrityError

from activities.record import RecordStore
from activities.record.database import aware
from models.errors import OsomError
from models.people import PersonId
from models.record import TokenRecord

PREFIX = "osom_"


class TokensUnavailable(OsomError):
    """The old token file cannot be read or is not a valid token file (an operator's problem,
    met when moving its tokens into the record)."""


class InvalidExpiry(OsomError):
    """A token was asked to expire in the past, or by two different measures at once."""


def digest(token: str) -> str:
    """What the record keeps of a token: its SHA-256, in hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue(
    record: RecordStore,
    person: str,
    label: str = "",
    *,
    expires_in: timedelta | None = None,
    expires_at: datetime | None = None,
    now: datetime | None = None,
) -> str:
    """A new token for ``person``, valid until ``expires_at`` (or for ``expires_in``) if given,
    else until revoked; only its hash is kept."""
    issued_at = now or datetime.now(UTC)
    until = _expiry(issued_at, expires_in, expires_at)
    token = PREFIX + secrets.token_urlsafe(32)
    record.add_token(
        TokenRecord(
            sha256=digest(token),
            person=person,
            label=label,
            issued_at=issued_at,
            expires_at=until,
        )
    )
    return token


def _expiry(
    issued_at: datetime, expires_in: timedelta | None, expires_at: datetime | None
) -> datetime | None:
    if expires_in is not None and expires_at is not None:
        raise InvalidExpiry("give the token an expiry time or a lifetime, not both")
    if expires_in is not None:
        if expires_in <= timedelta(0):
            raise InvalidExpiry(f"a token's lifetime must be positive, not {expires_in}")
        return issued_at + expires_in
    if expires_at is not None:
        if expires_at.tzinfo is None:
            raise InvalidExpiry("give the token's expiry time with its time zone")
        if expires_at <= issued_at:
            raise InvalidExpiry(f"the expiry time {expires_at.isoformat()} has already passed")
    return expires_at


def person_for(record: RecordStore, token: str, now: datetime | None = None) -> str | None:
    """The person a presented token stands for; None if the record does not hold it, or holds
    it expired or revoked (the caller cannot tell which)."""
    if not token:
        return None
    presented = digest(token)
    found = record.token(presented)  # looked up by its hash (the primary key)
    if found is None or not hmac.compare_digest(found.sha256, presented):
        return None
    if not live(found, now or datetime.now(UTC)):
        return None
    return found.person


def live(token: TokenRecord, now: datetime) -> bool:
    """Whether the token is accepted at ``now``: never revoked and not past its expiry."""
    if token.revoked_at is not None:
        return False
    return token.expires_at is None or now < token.expires_at


def revoke(record: RecordStore, person: str, now: datetime | None = None) -> int:
    """Revoke every token of ``person`` not revoked already (expired ones too); how many."""
    at = now or datetime.now(UTC)
    return sum(
        record.revoke_token(token.sha256, at)
        for token in record.tokens(person)
        if token.revoked_at is None
    )


# -- the token file the API kept before the record (read once, by ``osom migrate-store``) ----------


class _IssuedToken(BaseModel):
    person: PersonId
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    label: str = ""
    issued_at: datetime


class _TokenFile(BaseModel):
    tokens: list[_IssuedToken] = Field(default_factory=list)


def read_token_file(path: Path) -> list[TokenRecord]:
    """The tokens the old YAML file at ``path`` holds (``tokens: [{person, sha256, label,
    issued_at}]``); none if there is no file. A broken file is a TokensUnavailable whose
    message names the problem but never quotes the file."""
    if not path.is_file():
        return []
    try:
        parsed = _TokenFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
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
    return [
        TokenRecord(
            sha256=issued.sha256,
            person=issued.person,
            label=issued.label,
            issued_at=aware(issued.issued_at),
        )
        for issued in parsed.tokens
    ]


def import_tokens(record: RecordStore, tokens: Iterable[TokenRecord]) -> int:
    """Add the tokens the record does not hold yet (running it again adds nothing); how many
    were added. A token already there is left as it is, revoked or not."""
    added = 0
    for token in tokens:
        if record.token(token.sha256) is not None:
            continue
        try:
            record.add_token(token)
        except IntegrityError:  # added by another run meanwhile
            continue
        added += 1
    return added
