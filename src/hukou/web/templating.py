"""The Jinja2 environment shared by every capability's templates, with the label helpers
(:mod:`hukou.web.labels`) every page may use."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

from hukou.web.labels import (
    department_name,
    division_name,
    item_name,
    local_time,
    purpose_name,
    relationship_name,
)

__all__ = ["STATIC_DIR", "TEMPLATE_DIR", "templates"]

_HERE = Path(__file__).parent
TEMPLATE_DIR = _HERE / "templates"
STATIC_DIR = _HERE / "static"

templates = Jinja2Templates(directory=TEMPLATE_DIR)
templates.env.globals.update(
    department_name=department_name,
    purpose_name=purpose_name,
    item_name=item_name,
    division_name=division_name,
    relationship_name=relationship_name,
)
templates.env.filters["local_time"] = local_time
