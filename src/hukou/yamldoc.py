"""Declarative YAML documents checked against a pydantic model, errors naming file, line, key.

Service definitions and points policies are written by people, not programs: when one is
wrong the author needs every problem at once, each with the file, the line and the key
(``birth_registration.yaml:14: facts.born_recently.test: …``), not a traceback. The document is
composed once into PyYAML's node tree (which keeps positions), built into plain Python
values, validated by the model, and each pydantic error's location is walked back down
the node tree to the line it came from. Duplicate keys, which PyYAML silently lets the
last one win, are refused.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

__all__ = [
    "Check",
    "DocumentError",
    "DocumentModel",
    "DocumentProblem",
    "Location",
    "load_document",
    "parse_document",
]


class DocumentModel(BaseModel):
    """The base of a document's models: unknown keys are errors (a misspelt key must not
    pass silently), and a loaded document is not changed afterwards."""

    model_config = ConfigDict(extra="forbid", frozen=True)


Model = TypeVar("Model", bound=BaseModel)
Location = tuple[int | str, ...]
"""Keys and indexes from the document's root, as pydantic reports them."""
Check = Callable[[Model], Iterable[tuple[Location, str]]]
"""A rule across a validated document (a name used before it is defined…): each problem
with where it is, so it gets a line like any other."""


@dataclass(frozen=True, slots=True)
class DocumentProblem:
    """One thing wrong with a document: where (file, 1-based line, key path) and what.

    >>> str(DocumentProblem("tax.yaml", 7, "files[0].format", "must be one of csv, xlsx"))
    'tax.yaml:7: files[0].format: must be one of csv, xlsx'
    >>> str(DocumentProblem("tax.yaml", None, "", "cannot read the file"))
    'tax.yaml: cannot read the file'
    """

    file: str
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class DocumentError(ValueError):
    """A document that does not load, with every problem found."""

    def __init__(self, problems: Sequence[DocumentProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


def _duplicates(node: Node, file: str, path: str = "") -> list[DocumentProblem]:
    found: list[DocumentProblem] = []
    if isinstance(node, MappingNode):
        seen: set[object] = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else None
            where = f"{path}.{key}" if path else str(key)
            if key in seen:
                found.append(
                    DocumentProblem(file, key_node.start_mark.line + 1, where, "duplicate key")
                )
            seen.add(key)
            found.extend(_duplicates(value_node, file, where))
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            found.extend(_duplicates(item, file, f"{path}.{index}" if path else str(index)))
    return found


def _line_of(node: Node, location: Sequence[int | str]) -> int:
    """The line of the deepest key or item ``location`` reaches (for a missing key, the
    line of the mapping that lacks it)."""
    line = int(node.start_mark.line) + 1
    for step in location:
        if isinstance(node, MappingNode):
            below = [
                (key, value)
                for key, value in node.value
                if isinstance(key, ScalarNode) and key.value == str(step)
            ]
            if not below:
                break
            key, node = below[0]
            line = int(key.start_mark.line) + 1
        elif isinstance(node, SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
            line = int(node.start_mark.line) + 1
        else:
            break
    return line


def _problem(file: str, root: Node, location: Location, message: str) -> DocumentProblem:
    key = ".".join(str(step) for step in location)
    return DocumentProblem(file, _line_of(root, location), key, message)


def parse_document(
    text: str,
    file: str,
    model: type[Model],
    *,
    context: Mapping[str, Any] | None = None,
    checks: Sequence[Check[Model]] = (),
) -> Model:
    """``text`` (YAML) validated as ``model``; ``file`` names it in problems.

    ``context`` reaches the model's validators (``info.context``: what the document may
    refer to); ``checks`` run on the validated document.

    Raises:
        DocumentError: not YAML, duplicate keys, not what the model allows, or a check
            found problems.
    """
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        detail = " ".join(part for part in (error.context, error.problem) if part)
        line = None if mark is None else mark.line + 1
        problem = DocumentProblem(file, line, "", f"not valid YAML: {detail}")
        raise DocumentError([problem]) from None
    if root is None:
        raise DocumentError([DocumentProblem(file, None, "", "the file is empty")])
    duplicates = _duplicates(root, file)
    if duplicates:
        raise DocumentError(duplicates)
    data = SafeConstructor().construct_document(root)
    try:
        document = model.model_validate(data, context=context)
    except ValidationError as error:
        problems = [
            _problem(file, root, tuple(problem["loc"]), problem["msg"])
            for problem in error.errors(include_url=False)
        ]
        raise DocumentError(problems) from None
    found = [
        _problem(file, root, location, message)
        for check in checks
        for location, message in check(document)
    ]
    if found:
        raise DocumentError(found)
    return document


def load_document(
    path: str | os.PathLike[str],
    model: type[Model],
    *,
    context: Mapping[str, Any] | None = None,
    checks: Sequence[Check[Model]] = (),
) -> Model:
    """The YAML file at ``path`` validated as :func:`parse_document` does."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        problem = DocumentProblem(str(file), None, "", f"cannot read: {error}")
        raise DocumentError([problem]) from None
    return parse_document(text, file.name, model, context=context, checks=checks)
