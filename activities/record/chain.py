"""Canonical forms and the hash chain of an audit log.

An artefact's sha256 is taken over the same JSON the file store wrote (indented, keys sorted),
so versions migrated from files keep the sha256 their workflows recorded. Each audit entry's
hash covers the previous entry's hash and its own canonical JSON.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from models.record import ChainReport

GENESIS = "0" * 64


def artefact_body(content: Mapping[str, Any]) -> str:
    return json.dumps(content, indent=2, sort_keys=True, default=str) + "\n"


def entry_body(entry: Mapping[str, Any]) -> str:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def link(prev_hash: str, body: str) -> str:
    return sha256(prev_hash + body)


def verify(case_id: str, rows: Sequence[tuple[int, str, str, str]]) -> ChainReport:
    """``rows`` are (seq, entry, prev_hash, hash), by seq. The first row may start past 0 (a
    long-lived case's oldest entries were recorded before the record existed)."""
    expected_prev = GENESIS
    expected_seq = rows[0][0] if rows else 0
    for seq, body, prev_hash, digest in rows:
        problem = None
        if seq != expected_seq:
            problem = f"entry {expected_seq} is missing"
        elif prev_hash != expected_prev:
            problem = f"entry {seq} does not point at the entry before it"
        elif link(prev_hash, body) != digest:
            problem = f"entry {seq} does not match its hash: it was changed after it was recorded"
        if problem:
            return ChainReport(
                case_id=case_id,
                entries=len(rows),
                intact=False,
                broken_at=seq if seq == expected_seq else expected_seq,
                problem=problem,
            )
        expected_prev = digest
        expected_seq = seq + 1
    return ChainReport(
        case_id=case_id, entries=len(rows), intact=True, head=rows[-1][3] if rows else None
    )
