"""What ``hukou demo`` made, kept between runs in ``<data>/demo.json`` (mode 0600).

Light on purpose (no capability imported): the console reads the window's samples from
here. The file holds second-factor secrets and the sample residents' identity numbers —
a synthetic city's, under ``var/`` and never committed, and never printed unmasked.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from hukou.config import Settings

__all__ = ["DemoAccount", "DemoState", "Sample", "read_samples", "state_file"]


@dataclass(frozen=True, slots=True)
class DemoAccount:
    """A demo account as printed: no password (they share the published demo one)."""

    username: str
    role: str
    department: str | None
    display_name: str
    totp_secret: str | None = None
    person: str | None = None
    """A resident's masked identity number."""


@dataclass(frozen=True, slots=True)
class Sample:
    """A filing the window page offers to fill in (a clerk reading an ID card)."""

    label_zh: str
    label_en: str
    service: str
    applicant: str
    subject: str | None


@dataclass(slots=True)
class DemoState:
    """What ``hukou demo`` made."""

    population: int
    accounts: list[DemoAccount] = field(default_factory=list)
    agreements: int = 0
    samples: list[Sample] = field(default_factory=list)
    cases: int = 0
    """Cases of the city's year filed by this run (0 on a second run)."""
    steps: dict[str, float] = field(default_factory=dict)
    """Seconds each step took in this run (not kept)."""

    def to_json(self) -> str:
        body = asdict(self)
        body.pop("steps")
        body.pop("cases")
        return json.dumps(body, ensure_ascii=False, indent=2)

    @classmethod
    def read(cls, path: Path) -> DemoState | None:
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                population=int(body["population"]),
                accounts=[DemoAccount(**a) for a in body["accounts"]],
                agreements=int(body["agreements"]),
                samples=[Sample(**s) for s in body.get("samples", [])],
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None


def state_file(settings: Settings) -> Path:
    return settings.data_dir / "demo.json"


def read_samples(settings: Settings) -> list[Sample]:
    """The window's samples when this installation is a demo (none in production)."""
    if settings.env == "production":
        return []
    state = DemoState.read(state_file(settings))
    return [] if state is None else state.samples
