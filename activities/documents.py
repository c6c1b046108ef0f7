"""Readable Markdown for stored artefacts, so a person can read the store without tools."""

from __future__ import annotations

from collections.abc import Mapping

from models.markdown import inline


def render_markdown(kind: str, version: int, case_id: str, content: Mapping[str, object]) -> str:
    title = str(content.get("name") or kind.replace("_", " ").capitalize())
    if kind == "assessment_report":
        title = (
            f"{content.get('assessment_type')} assessment report {content.get('assessment_id')}: "
            f"{content.get('service_id')} {content.get('service_name')}"
        )
    elif kind == "coe_document":
        which = content.get("coe_id") or "(draft)"
        title = f"Correction of Error {which}: {content.get('title') or content.get('problem')}"
    elif kind == "corrective_actions":
        title = f"Corrective actions of {content.get('coe_id')} ({content.get('service_id')})"
    elif kind == "review_minutes":
        title = f"Minutes of the CoE review {content.get('session_id')}"
    lines = [
        f"# {inline(title)}",
        "",
        f"*{inline(kind.replace('_', ' '))} · version {version} · case {inline(case_id)}*",
        "",
    ]
    lines.extend(_render(content, level=2))
    return "\n".join(lines).rstrip() + "\n"


def _heading(key: object) -> str:
    return inline(str(key).replace("_", " ").capitalize())


def _render(value: Mapping[str, object], level: int) -> list[str]:
    lines: list[str] = []
    scalars = {k: v for k, v in value.items() if not isinstance(v, dict | list)}
    for key, item in scalars.items():
        if item is not None:
            lines.append(f"- **{_heading(key)}:** {inline(item)}")
    if scalars:
        lines.append("")
    for key, item in value.items():
        if isinstance(item, dict) and any(v not in (None, [], {}) for v in item.values()):
            lines.extend([f"{'#' * level} {_heading(key)}", ""])
            lines.extend(_render(item, level + 1))
        elif isinstance(item, list):
            lines.extend([f"{'#' * level} {_heading(key)}", ""])
            lines.extend(_render_list(item, level + 1))
    return lines


def _render_list(items: list[object], level: int) -> list[str]:
    if not items:
        return ["*none*", ""]
    if all(not isinstance(i, dict) for i in items):
        return [*(f"- {inline(i)}" for i in items), ""]
    lines: list[str] = []
    for item in items:
        if not isinstance(item, dict):  # a plain value among records: one line of its own
            lines.append(f"- {inline(item)}")
            continue
        label = item.get("id") or item.get("coe_id") or item.get("name") or ""
        named = item.get("name") if item.get("id") else None
        headline = named or item.get("thing") or item.get("description")
        if not label and not headline:  # a small record (a timeline entry): one line
            said = (
                f"**{_heading(k)}:** {inline(v)}"
                for k, v in item.items()
                if v not in (None, [], {})
            )
            lines.append(f"- {' · '.join(said)}")
            continue
        headed = f"{inline(label)}{f' — {inline(headline)}' if headline else ''}"
        lines.extend([f"{'#' * level} {headed}".rstrip(), ""])
        lines.extend(_render(item, level + 1))
    return [*lines, ""] if lines and lines[-1] else lines
