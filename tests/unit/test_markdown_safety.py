"""User text in Markdown stays text: checked with a real Markdown parser, for chosen attacks and
for generated text in every field of artefact content and of the case page."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from activities.documents import render_markdown
from models.case_view import BlockerView, CaseStatus, DeadlineView
from models.commands import ArtefactRef
from models.markdown import code, inline, link, one_line
from workflows._visibility import case_page

MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])
# Count every link, also those markdown-it itself would drop (javascript:, file: ...).
MD.validateLink = lambda url: True  # type: ignore[method-assign]
DUE = datetime(2026, 12, 21, 9, 30, tzinfo=UTC)
PUBLIC = "https://osom.example"

# What text must never add: blocks, links, images, HTML, code (and emphasis: WITH_EMPHASIS).
STRUCTURE = frozenset(
    {
        "heading_open",
        "bullet_list_open",
        "ordered_list_open",
        "list_item_open",
        "blockquote_open",
        "code_block",
        "fence",
        "hr",
        "table_open",
        "html_block",
        "html_inline",
        "link_open",
        "image",
        "code_inline",
        "s_open",
    }
)
# Emphasis too, where the template's own emphasis does not depend on what the text is.
WITH_EMPHASIS = STRUCTURE | {"em_open", "strong_open"}
LINE_BREAKS = [
    "\n",
    "\r",
    "\r\n",
    "\x0b",
    "\x0c",
    "\x1c",
    "\x1d",
    "\x1e",
    "\x85",
    "\u2028",
    "\u2029",
]
ATTACKS = [
    "X\n- **State:** ESTABLISHED",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "![i](http://x/y.png)",
    "<http://x/y>",
    "# heading",
    "> quote",
    "1. item",
    "| a | b |\n| --- | --- |\n| c | d |",
    "`code` and ``` fences ```",
    "*em* _em_ **strong** ~~gone~~",
    "[a]: /url\n\n[a]",
    "x\n\n---\n\n    indented code",
    "line\u2028## heading\u2029> quote\x85- item",
    "&lt;b&gt; &#42; \\",
]
FRAGMENTS = [
    *LINE_BREAKS,
    *ATTACKS,
    "# ",
    "- ",
    "+ ",
    "* ",
    "2) ",
    "    ",
    "\t",
    "===",
    "***",
    "___",
    "~~~",
    "`",
    "[",
    "]",
    "(",
    ")",
    "](",
    "<",
    ">",
    "&",
    "\\",
    "_",
    "|",
    "<!--",
    "-->",
    " ",
    "a",
    "\x00",
]
texts = st.one_of(
    st.text(max_size=20),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=3)), max_size=8).map("".join),
)


def structure(markdown: str, counted: frozenset[str] = STRUCTURE) -> Counter[tuple[str, str]]:
    """How many of each structural element (with its tag, e.g. h2) the parser finds."""
    found: Counter[tuple[str, str]] = Counter()
    for token in MD.parse(markdown):
        for each in [token, *(token.children or [])]:
            if each.type in counted:
                found[each.type, each.tag] += 1
    return found


def read_back(markdown: str) -> tuple[set[str], str]:
    """The kinds of inline token in ``markdown`` and the text they say."""
    children = [c for t in MD.parse(markdown) for c in t.children or []]
    return {c.type for c in children}, "".join(c.content for c in children)


class Placeholders:
    """Harmless stand-ins: the same text always gets the same one, empty text stays empty, a
    link of the API stays a link."""

    def __init__(self, keep: frozenset[str] = frozenset()) -> None:
        self.keep = keep
        self.seen: dict[str, str] = {}

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str):
            if not value or value in self.keep:
                return value
            link = value.startswith(f"{PUBLIC}/")
            stand_in = f"{PUBLIC}/x{len(self.seen)}" if link else f"x{len(self.seen)}"
            return self.seen.setdefault(value, stand_in)
        if isinstance(value, dict):
            return {self(k): self(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v) for v in value]
        return value


# -- the escaping functions ----------------------------------------------------------------------


def test_ordinary_text_is_left_as_it_is() -> None:
    for text in ("Apply for a permit", "SVC-007", "2027-01-29", "PROGRESS_TO_ALPHA", "-1", "1.5"):
        assert inline(text) == text


@pytest.mark.parametrize("attack", ATTACKS)
def test_an_attack_reads_back_as_its_own_text_on_one_line(attack: str) -> None:
    markdown = f"- {inline(attack)}"
    assert "\n" not in markdown
    assert [t.type for t in MD.parse(markdown) if t.type.endswith("_open")] == [
        "bullet_list_open",
        "list_item_open",
        "paragraph_open",
    ]
    assert read_back(markdown) == ({"text"}, one_line(attack))


@pytest.mark.parametrize(
    ("text", "said"),
    [("a", "a"), ("`", "`"), ("a``b", "a``b"), ("``` x", "``` x"), (" x ", " x "), ("", " ")],
)
def test_a_code_span_keeps_its_backticks_inside(text: str, said: str) -> None:
    assert read_back(f"x {code(text)} y") == ({"text", "code_inline"}, f"x {said} y")
    assert read_back(code(f"a{text}\n# b")) == ({"code_inline"}, f"a{text} # b")


def hrefs(markdown: str) -> list[str]:
    return [
        str(child.attrs["href"])
        for token in MD.parse(markdown)
        for child in token.children or []
        if child.type == "link_open"
    ]


def test_a_link_cannot_be_closed_by_its_url() -> None:
    markdown = link("report v1", "https://osom.example/x)[y](javascript:alert(1))<b>.md")
    assert hrefs(markdown) == [
        "https://osom.example/x%29%5By%5D%28javascript:alert%281%29%29%3Cb%3E.md"
    ]
    assert read_back(markdown) == ({"link_open", "text", "link_close"}, "report v1")


@pytest.mark.parametrize("attack", ATTACKS)
def test_an_attack_in_a_url_stays_inside_its_one_link(attack: str) -> None:
    url = "https://osom.example/" + "".join(attack.split())  # an http URL has no spaces
    markdown = f"- {link(attack, url)}"
    assert "\n" not in markdown
    assert len(hrefs(markdown)) == 1
    kinds, said = read_back(markdown)
    assert kinds == {"link_open", "text", "link_close"}
    assert said == one_line(attack)


@pytest.mark.parametrize(
    "url",
    [
        "file:///d/x.md",
        "javascript:alert(1)",
        "data:text/html,<b>x</b>",
        "//osom.example/x",
        "/v1/cases/x",
        "http://",
        "https://osom.example/a b",
        "https://osom.example/a\nb",
        "",
    ],
)
def test_only_an_http_url_makes_a_link(url: str) -> None:
    markdown = link("report [v1]", url)
    assert hrefs(markdown) == []
    assert read_back(markdown) == ({"text"}, "report [v1]")


# -- the exact attacks through both renderers ----------------------------------------------------


def case(**changes: Any) -> CaseStatus:
    base = CaseStatus(
        workflow_id="new-service/PRO-004",
        process="establishment",
        case_id="PRO-004",
        title="PRO-004 Resident Identity Check",
        service_id=None,
        state="PROPOSED",
        state_description="Raised",
        terminal=False,
        awaiting=["EXEC"],
        blockers=[BlockerView(id="E1", trigger="t", description="d", who=["EXEC"], missing=["m"])],
        legal_triggers=[],
        artefacts={},
        recent=[],
    )
    return base.model_copy(update=changes)


@pytest.mark.parametrize("attack", ATTACKS)
def test_an_attack_in_the_case_page_adds_nothing(attack: str) -> None:
    def page(text: str) -> str:
        linked = ArtefactRef(
            kind=text, version=1, sha256="0", case_id=text, url=f"{PUBLIC}/{''.join(text.split())}"
        )
        plain = ArtefactRef(kind=text, version=2, sha256="0", case_id=text, url=text)
        legacy = ArtefactRef(kind=text, version=3, sha256="0", json_path=text, markdown_path=text)
        deadline = DeadlineView(
            label=text, due_at=DUE, next_reminder_at=DUE, reminders_sent=1, escalated=True
        )
        blocker = BlockerView(id=text, trigger=text, description=text, who=[text], missing=[text])
        return case_page(
            case(
                title=text,
                state=text,
                state_description=text,
                pending=text,
                awaiting=[text, "P-1"],
                facts={text: text},
                personal={text: [text]},
                deadlines=[deadline],
                blockers=[blocker],
                artefacts={text: linked, f"{text}2": plain, f"{text}3": legacy},
            ),
            [text],
            {"P-1": text},
        )

    assert structure(page(attack), WITH_EMPHASIS) == structure(page("x"), WITH_EMPHASIS)
    # One line in, one line out, for any renderer's idea of a line break.
    assert len(page(attack).splitlines()) == len(page("x").splitlines())


@pytest.mark.parametrize("attack", ATTACKS)
def test_an_attack_in_an_artefact_document_adds_nothing(attack: str) -> None:
    def document(text: str) -> str:
        content = {"name": text, text: text, "needs": [{"id": text, text: text}], "refs": [text]}
        return render_markdown("service_contract", 1, text, content)

    assert structure(document(attack), WITH_EMPHASIS) == structure(document("x"), WITH_EMPHASIS)
    assert "<" not in document(attack)  # no code spans here: every < is an entity
    assert len(document(attack).splitlines()) == len(document("x").splitlines())


# -- any text, anywhere --------------------------------------------------------------------------

# The keys render_markdown reads by name: they keep their names in the template.
SPECIAL_KEYS = frozenset(
    {"name", "title", "problem", "id", "coe_id", "thing", "description", "session_id"}
    | {"assessment_type", "assessment_id", "service_id", "service_name"}
)
KINDS = ["service_contract", "assessment_report", "coe_document", "corrective_actions"]
keys = st.one_of(st.sampled_from(sorted(SPECIAL_KEYS)), texts)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), texts)


def _nested(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    records = st.dictionaries(keys, inner, max_size=4)
    # A list holds records or plain values, as the artefact models' lists do.
    return st.one_of(
        records,
        st.lists(records, max_size=3),
        st.lists(inner.filter(lambda v: not isinstance(v, dict)), max_size=3),
    )


json_like = st.recursive(scalars, _nested, max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(
    # An artefact kind is the engine's own name: never blank (the subtitle starts "*{kind}").
    kind=st.one_of(st.sampled_from(KINDS), texts.filter(lambda k: k.replace("_", " ").strip())),
    case_id=texts,
    content=st.dictionaries(keys, json_like, max_size=6),
)
def test_no_text_in_an_artefact_adds_structure(
    kind: str, case_id: str, content: dict[str, Any]
) -> None:
    harmless = Placeholders(keep=SPECIAL_KEYS | set(KINDS))
    markdown = render_markdown(kind, 1, case_id, content)
    template = render_markdown(harmless(kind), 1, harmless(case_id), harmless(content))
    assert structure(markdown) == structure(template), markdown


# The API's links (an http URL, whatever follows) and any other text in a reference's url.
urls = st.one_of(texts, texts.map(lambda t: f"{PUBLIC}/v1/cases/{''.join(t.split())}"))
refs = st.one_of(
    st.builds(
        ArtefactRef,
        kind=texts,
        version=st.integers(0, 99),
        sha256=st.just("0" * 64),
        case_id=texts,
        url=urls,
    ),
    # A reference from the file store, in a history recorded before the record.
    st.builds(
        ArtefactRef,
        kind=texts,
        version=st.integers(0, 99),
        sha256=st.just("0" * 64),
        json_path=texts,
        markdown_path=texts,
    ),
)
statuses = st.builds(
    case,
    title=texts,
    state=texts,
    state_description=texts,
    pending=st.one_of(st.none(), texts),
    awaiting=st.lists(texts, max_size=3),
    facts=st.dictionaries(texts, texts, max_size=3),
    personal=st.dictionaries(texts, st.lists(texts, max_size=2), max_size=2),
    artefacts=st.dictionaries(texts, refs, max_size=2),
    blockers=st.lists(
        st.builds(
            BlockerView,
            id=texts,
            trigger=texts,
            description=texts,
            who=st.lists(texts, max_size=2),
            missing=st.lists(texts, max_size=2),
        ),
        max_size=2,
    ),
    deadlines=st.lists(
        st.builds(
            DeadlineView,
            label=texts,
            due_at=st.just(DUE),
            next_reminder_at=st.just(DUE),
            reminders_sent=st.integers(0, 9),
            escalated=st.booleans(),
        ),
        max_size=2,
    ),
)


FIELD_NAMES = frozenset(
    {*CaseStatus.model_fields, *BlockerView.model_fields, *DeadlineView.model_fields}
    | {*ArtefactRef.model_fields, "deadline"}
)


@settings(max_examples=200, deadline=None)
@given(status=statuses, decisions=st.lists(texts, max_size=3), names=st.data())
def test_no_text_in_a_case_adds_structure(
    status: CaseStatus, decisions: list[str], names: st.DataObject
) -> None:
    people = names.draw(st.dictionaries(st.sampled_from([*status.awaiting, "P-1"]), texts))
    # The field names of the dumped models stay, so the dump validates again.
    harmless = Placeholders(keep=FIELD_NAMES)
    template = case_page(
        CaseStatus.model_validate(harmless(status.model_dump())),
        harmless(decisions),
        harmless(people),
    )
    page = case_page(status, decisions, people)
    assert structure(page) == structure(template), page


@settings(max_examples=300, deadline=None)
@given(text=texts)
def test_any_text_reads_back_as_itself(text: str) -> None:
    kinds, said = read_back(f"- {inline(text)}")
    assert kinds <= {"text"}
    assert said == one_line(text).replace("\x00", "\ufffd")  # the parser replaces NUL
