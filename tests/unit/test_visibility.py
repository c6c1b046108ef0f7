"""What operators see: the case page Markdown and the search attribute registrations."""

from __future__ import annotations

from datetime import UTC, datetime

from models.case_view import BlockerView, CaseStatus, DeadlineView
from models.commands import ArtefactRef
from workflows._visibility import SEARCH_ATTRIBUTES, attribute_types, case_page, cli_flags

DUE = datetime(2026, 12, 21, 9, 30, tzinfo=UTC)
PUBLIC = "http://127.0.0.1:8000"


def status(**changes: object) -> CaseStatus:
    base = CaseStatus(
        workflow_id="new-service/PRO-004",
        process="establishment",
        case_id="PRO-004",
        title="PRO-004 Resident Identity Check (shared)",
        service_id="SVC-007",
        state="CONTRACT_DRAFTING",
        state_description="Contract v0 being drafted",
        terminal=False,
        awaiting=["EXEC", "P-001"],
        blockers=[
            BlockerView(
                id="E9",
                trigger="draft_completed",
                description="Declare contract v0 complete",
                who=["EXEC"],
                missing=["Service Manager: none appointed", "discovery budget: none"],
            )
        ],
        legal_triggers=["sm_appointed"],
        deadlines=[
            DeadlineView(
                label="Contract drafting due",
                due_at=DUE,
                next_reminder_at=DUE,
                reminders_sent=2,
                escalated=False,
            )
        ],
        artefacts={},
        recent=[],
    )
    return base.model_copy(update=changes)


def test_case_page_names_people_and_lists_what_is_missing() -> None:
    decisions = ["sm_appointed by P-001", "drafting_started by P-001"]
    page = case_page(status(), decisions, {"P-001": "Alison Reed"})
    assert "- **State:** `CONTRACT_DRAFTING`" in page
    assert "- **Waiting for:** EXEC, P-001 (Alison Reed)" in page
    assert "Contract drafting due by 2026-12-21 09:30 UTC (reminders sent: 2)" in page
    assert "**E9 `draft_completed`** (Declare contract v0 complete) needs:" in page
    assert "- Service Manager: none appointed\n- discovery budget: none" in page
    assert "- **Decided:** sm_appointed by P-001\n- **Decided:** drafting_started by P-001" in page
    assert "escalated" not in page


def test_case_page_flags_an_escalated_deadline() -> None:
    overdue = DeadlineView(
        label="Triage decision due",
        due_at=DUE,
        next_reminder_at=DUE,
        reminders_sent=4,
        escalated=True,
    )
    page = case_page(status(deadlines=[overdue]), [], {})
    assert "overdue, escalated to the Executive" in page


def test_case_page_of_a_ready_move_says_who_may_take_it() -> None:
    ready = BlockerView(
        id="E10", trigger="service_established", description="Publish", who=["EXEC"], missing=[]
    )
    page = case_page(status(blockers=[ready]), [], {})
    assert "**E10 `service_established`** (Publish): ready for EXEC" in page


def test_dev_server_flags_register_every_search_attribute_with_its_type() -> None:
    flags = cli_flags()
    pairs = [flags[i + 1] for i in range(0, len(flags), 2)]
    assert flags[::2] == ["--search-attribute"] * len(SEARCH_ATTRIBUTES)
    assert pairs == [f"{name}={kind}" for name, kind in attribute_types().items()]
    assert attribute_types()["OsomAwaiting"] == "KeywordList"
    assert attribute_types()["OsomNextDeadline"] == "Datetime"


def test_case_page_says_what_single_people_must_do_and_links_the_documents() -> None:
    url = f"{PUBLIC}/v1/cases/coe/COE-2026-001/artefacts/coe_document/v2"
    ref = ArtefactRef(
        kind="coe_document", version=2, sha256="ab" * 32, case_id="coe/COE-2026-001", url=url
    )
    page = case_page(
        status(
            personal={"P-020": ["corrective action A-2 'x' OVERDUE, was due 2026-12-04"]},
            artefacts={"coe_document": ref},
        ),
        [],
        {"P-020": "Ravi Mehta"},
    )
    assert "- **For P-020 (Ravi Mehta):** corrective action A-2 'x' OVERDUE" in page
    assert f"- [coe_document v2]({url}) · sha256 `abababababab`\n" in page


def test_a_version_from_the_file_store_is_named_but_not_linked() -> None:
    """A reference from before the record names a file on some worker's disk: never a link."""
    legacy = ArtefactRef(
        kind="coe_document",
        version=2,
        sha256="0" * 64,
        json_path="/d/v2.json",
        markdown_path="/d/v2.md",
    )
    page = case_page(status(artefacts={"coe_document": legacy}), [], {})
    assert "- coe_document v2 · sha256 `000000000000`\n" in page
    assert "file:" not in page
    assert "/d/v2" not in page


def test_text_from_the_case_cannot_forge_lines_links_or_html_on_the_page() -> None:
    page = case_page(
        status(title="X\n- **State:** ESTABLISHED", facts={"Name": "<script>alert(1)</script>"}),
        ["triage_started by P-002 — [click](javascript:alert(1))"],
        {},
    )
    assert page.startswith("## X - \\*\\*State:\\*\\* ESTABLISHED\n\n- **State:** `CONTRACT")
    assert "- **Name:** &lt;script&gt;alert(1)&lt;/script&gt;\n" in page
    assert "- **Decided:** triage_started by P-002 — \\[click\\](javascript:alert(1))\n" in page


def test_an_artefact_url_cannot_break_out_of_its_link() -> None:
    url = "https://osom.example/d/x.md)![i](http://x/y.png)`<b>"
    ref = ArtefactRef(kind="k", version=1, sha256="0", case_id="c", url=url)
    page = case_page(status(artefacts={"k": ref}), [], {})
    assert (
        "- [k v1](https://osom.example/d/x.md%29%21%5Bi%5D%28http://x/y.png%29%60%3Cb%3E) "
        "· sha256 `0`\n"
    ) in page


def test_an_artefact_url_that_is_not_http_is_shown_as_plain_text() -> None:
    for url in ("file:///d/x.md", "javascript:alert(1)", "https://osom.example/a b", ""):
        ref = ArtefactRef(kind="k", version=1, sha256="0", case_id="c", url=url)
        page = case_page(status(artefacts={"k": ref}), [], {})
        assert "- k v1 · sha256 `0`\n" in page, url
        assert "](" not in page, url
