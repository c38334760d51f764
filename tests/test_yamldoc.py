"""YAML documents: every problem named with its file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field

from hukou.yamldoc import DocumentError, DocumentProblem, load_document, parse_document


class _Step(BaseModel):
    model_config = ConfigDict(extra="forbid")
    department: str
    days: int = Field(ge=1)


class _Service(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str
    steps: list[_Step]


GOOD = """\
code: birth
steps:
  - department: public_security
    days: 3
"""


def test_a_good_document_loads() -> None:
    service = parse_document(GOOD, "birth.yaml", _Service)
    assert service.steps[0] == _Step(department="public_security", days=3)


def test_every_problem_names_its_line_and_key() -> None:
    text = """\
code: birth
steps:
  - department: public_security
    days: 0
  - days: 2
    colour: red
"""
    with pytest.raises(DocumentError) as raised:
        parse_document(text, "birth.yaml", _Service)
    problems = {(p.line, p.key) for p in raised.value.problems}
    assert problems == {
        (4, "steps.0.days"),  # the value's line
        (5, "steps.1.department"),  # missing: the line of the mapping that lacks it
        (6, "steps.1.colour"),  # not allowed
    }
    assert "birth.yaml:4: steps.0.days: Input should be greater than or equal to 1" in str(
        raised.value
    )


def test_duplicate_keys_are_refused_not_overwritten() -> None:
    with pytest.raises(DocumentError) as raised:
        parse_document("code: a\nsteps: []\ncode: b\n", "x.yaml", _Service)
    assert raised.value.problems == (DocumentProblem("x.yaml", 3, "code", "duplicate key"),)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [("code: [unclosed\n", 2, "not valid YAML"), ("", None, "the file is empty")],
)
def test_broken_and_empty_files(text: str, line: int | None, message: str) -> None:
    with pytest.raises(DocumentError) as raised:
        parse_document(text, "x.yaml", _Service)
    (problem,) = raised.value.problems
    assert problem.line == line
    assert problem.message.startswith(message)


def test_load_names_the_file_and_reports_unreadable_ones(tmp_path: Path) -> None:
    path = tmp_path / "birth.yaml"
    path.write_text(GOOD, encoding="utf-8")
    assert load_document(path, _Service).code == "birth"
    path.write_bytes(b"code: \xff\n")
    with pytest.raises(DocumentError, match=r"birth\.yaml: cannot read"):
        load_document(path, _Service)
