"""The sharing catalogue (共享清单): what may be shared, by whom, for which purposes.

Loaded from ``data/catalog.yaml`` and validated on load: an unknown key, share
class, mask or legal basis is an error that names the file, the line and the key.
The provider of each item is the department whose registry feed spec ranks the
item best (lowest ``authority`` rank), so the catalogue and the registry cannot disagree
about who owns a fact; items the platform infers itself name ``registry``.

>>> catalog = load_catalog()
>>> item = catalog.fields["identity_number"]
>>> item.provider, str(item.share), str(item.mask), item.sensitive
('public_security', 'conditional', 'identity_number', True)
>>> catalog.purposes["statistics"].basis
'statutory_duty'
>>> catalog.fields["clinic_id"].share
<Share.NEVER: 'never'>
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from hukou.exchange.masking import Mask
from hukou.registry.spec import load_all

__all__ = [
    "PLATFORM",
    "Catalog",
    "CatalogError",
    "FieldItem",
    "LegalBasis",
    "Purpose",
    "Share",
    "load_catalog",
    "parse_catalog",
]

PLATFORM = "registry"
"""The provider of what the platform infers itself (actual residence, 人户分离)."""


class CatalogError(ValueError):
    """The catalogue file is malformed; the message names file, line and key."""


class Share(StrEnum):
    """The three sharing classes of 国发〔2016〕51号 art. 5."""

    UNCONDITIONAL = "unconditional"  # 无条件共享
    CONDITIONAL = "conditional"  # 有条件共享
    NEVER = "never"  # 不予共享


@dataclass(frozen=True, slots=True)
class LegalBasis:
    """A lawful basis for processing personal information (PIPL art. 13)."""

    code: str
    zh: str
    law: str


@dataclass(frozen=True, slots=True)
class Purpose:
    """An enumerated purpose of use, with its legal basis; nothing is read without one."""

    code: str
    zh: str
    en: str
    basis: str
    law: str

    @property
    def needs_consent(self) -> bool:
        """Processing on the basis of consent stops when the person withdraws it."""
        return self.basis == "consent"


@dataclass(frozen=True, slots=True)
class FieldItem:
    """One shareable item of a person."""

    name: str
    provider: str
    share: Share
    mask: Mask
    sensitive: bool


@dataclass(frozen=True, slots=True)
class Catalog:
    """The whole catalogue: purposes, legal bases and items, read-only."""

    purposes: Mapping[str, Purpose]
    bases: Mapping[str, LegalBasis]
    fields: Mapping[str, FieldItem]
    must_share: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Department → the items it must deliver for the others (its part of the 共享清单)."""


class _Loader(yaml.SafeLoader):
    """Keeps the line of every mapping key, for error messages."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping: dict[str, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node)
        if key in mapping:
            raise CatalogError(f"line {key_node.start_mark.line + 1}: duplicate key {key!r}")
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.setdefault("__lines__", {})[key] = key_node.start_mark.line + 1
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _lines(mapping: Mapping[str, Any]) -> Mapping[str, int]:
    lines = mapping.get("__lines__", {})
    return lines if isinstance(lines, dict) else {}


def _entries(mapping: Mapping[str, Any]) -> list[tuple[str, Any]]:
    return [(key, value) for key, value in mapping.items() if key != "__lines__"]


def _require(
    where: str, value: object, allowed: set[str] | None = None, *, key: str, line: int
) -> str:
    if not isinstance(value, str) or not value:
        raise CatalogError(f"{where}, line {line}: {key} must be a non-empty text")
    if allowed is not None and value not in allowed:
        raise CatalogError(
            f"{where}, line {line}: {key} {value!r} is not one of {', '.join(sorted(allowed))}"
        )
    return value


def _providers() -> dict[str, str]:
    """Item → the department whose feed spec ranks it best (lowest authority rank).

    Two departments ranking an item equally best would leave its owner undecided:
    that is refused rather than settled by the alphabet.
    """
    best: dict[str, tuple[int, list[str]]] = {}
    for spec in load_all():
        for item, rank in spec.authority.items():
            current = best.get(item)
            if current is None or rank < current[0]:
                best[item] = (rank, [spec.department])
            elif rank == current[0]:
                current[1].append(spec.department)
    tied = {item: sorted(d) for item, (_rank, d) in best.items() if len(d) > 1}
    if tied:
        item, departments = sorted(tied.items())[0]
        raise CatalogError(
            f"feed specs rank {item!r} equally best in {', '.join(departments)}: "
            "its provider is undecided"
        )
    return {item: departments[0] for item, (_rank, departments) in best.items()}


def parse_catalog(text: str, source: str, providers: Mapping[str, str]) -> Catalog:
    """A :class:`Catalog` from YAML text (``source`` names it in errors)."""
    try:
        document = yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as error:
        raise CatalogError(f"{source}: not valid YAML: {error}") from None
    if not isinstance(document, dict):
        raise CatalogError(f"{source}: must be a mapping")
    top = _lines(document)
    expected = {"version", "purposes", "legal_bases", "fields", "must_share"}
    for key, _value in _entries(document):
        if key not in expected:
            raise CatalogError(f"{source}, line {top.get(key, 0)}: unknown key {key!r}")
    for key in sorted(expected - {"must_share"}):
        if key not in document:
            raise CatalogError(f"{source}: missing key {key!r}")
    if document["version"] != 1:
        raise CatalogError(f"{source}, line {top['version']}: version must be 1")

    bases: dict[str, LegalBasis] = {}
    for code, body in _entries(document["legal_bases"]):
        line = _lines(document["legal_bases"]).get(code, 0)
        where = f"{source}: legal_bases.{code}"
        if not isinstance(body, dict) or set(_lines(body)) != {"zh", "law"}:
            raise CatalogError(f"{where}, line {line}: needs exactly zh and law")
        bases[code] = LegalBasis(
            code,
            _require(where, body["zh"], key="zh", line=line),
            _require(where, body["law"], key="law", line=line),
        )
    purposes: dict[str, Purpose] = {}
    for code, body in _entries(document["purposes"]):
        line = _lines(document["purposes"]).get(code, 0)
        where = f"{source}: purposes.{code}"
        if not isinstance(body, dict) or set(_lines(body)) != {"zh", "en", "basis", "law"}:
            raise CatalogError(f"{where}, line {line}: needs exactly zh, en, basis and law")
        purposes[code] = Purpose(
            code,
            _require(where, body["zh"], key="zh", line=line),
            _require(where, body["en"], key="en", line=line),
            _require(where, body["basis"], set(bases), key="basis", line=line),
            _require(where, body["law"], key="law", line=line),
        )
    fields: dict[str, FieldItem] = {}
    for name, body in _entries(document["fields"]):
        line = _lines(document["fields"]).get(name, 0)
        where = f"{source}: fields.{name}"
        if not isinstance(body, dict):
            raise CatalogError(f"{where}, line {line}: must be a mapping")
        unknown = set(_lines(body)) - {"share", "mask", "sensitive", "provider"}
        if unknown:
            raise CatalogError(f"{where}, line {line}: unknown key {sorted(unknown)[0]!r}")
        provider = body.get("provider", providers.get(name))
        if provider is None:
            raise CatalogError(
                f"{where}, line {line}: no feed spec ranks this item "
                f"(authority); name its provider or add it to a spec"
            )
        sensitive = body.get("sensitive", False)
        if not isinstance(sensitive, bool):
            raise CatalogError(f"{where}, line {line}: sensitive must be true or false")
        fields[name] = FieldItem(
            name,
            _require(where, provider, key="provider", line=line),
            Share(
                _require(where, body.get("share"), {s.value for s in Share}, key="share", line=line)
            ),
            Mask(_require(where, body.get("mask"), {m.value for m in Mask}, key="mask", line=line)),
            sensitive,
        )
    must_share = _must_share(source, document.get("must_share", {}), fields)
    return Catalog(
        MappingProxyType(purposes),
        MappingProxyType(bases),
        MappingProxyType(fields),
        MappingProxyType(must_share),
    )


def _must_share(
    source: str, section: object, fields: Mapping[str, FieldItem]
) -> dict[str, tuple[str, ...]]:
    """The must-share lists: each item the department's own, and shareable."""
    if not isinstance(section, dict):
        raise CatalogError(f"{source}: must_share must map departments to lists of items")
    lines = _lines(section)
    found: dict[str, tuple[str, ...]] = {}
    for department, items in _entries(section):
        where = f"{source}: must_share.{department}, line {lines.get(department, 0)}"
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise CatalogError(f"{where}: must be a list of items")
        for name in items:
            item = fields.get(name)
            if item is None:
                raise CatalogError(f"{where}: {name!r} is not in fields")
            if item.provider != department:
                raise CatalogError(f"{where}: {name!r} is provided by {item.provider}")
            if item.share is Share.NEVER:
                raise CatalogError(f"{where}: {name!r} is never shared")
        found[department] = tuple(items)
    return found


@cache
def load_catalog(path: Path | None = None) -> Catalog:
    """The catalogue shipped with the package (or the file at ``path``), validated."""
    if path is None:
        resource = resources.files("hukou.exchange") / "data" / "catalog.yaml"
        return parse_catalog(resource.read_text(encoding="utf-8"), "catalog.yaml", _providers())
    return parse_catalog(path.read_text(encoding="utf-8"), str(path), _providers())
