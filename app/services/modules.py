"""The module catalogue (demonstrator topics) that requests choose from."""
from __future__ import annotations

import sqlalchemy as sa

from ..extensions import db
from ..models import Module, User
from . import audit

FIELDS = ("code", "name_de", "name_en", "description_de", "description_en", "active", "position")


class ModuleError(ValueError):
    pass


def active() -> list[Module]:
    return list(db.session.scalars(sa.select(Module).where(Module.active).order_by(Module.position, Module.id)))


def all_modules() -> list[Module]:
    return list(db.session.scalars(sa.select(Module).order_by(Module.position, Module.id)))


def save(user: User, data: dict, module: Module | None = None) -> Module:
    """Create or update a catalogue entry; codes are unique."""
    clash = db.session.scalar(sa.select(Module).where(Module.code == data["code"]))
    if clash is not None and clash is not module:
        raise ModuleError(data["code"])
    before = _snapshot(module) if module else None
    module = module or Module()
    for field in FIELDS:
        setattr(module, field, data[field].strip() if isinstance(data[field], str) else data[field])
    db.session.add(module)
    db.session.flush()
    audit.record(user, "module", module.id, "updated" if before else "created", before, _snapshot(module))
    db.session.commit()
    return module


def _snapshot(m: Module) -> dict:
    return {f: getattr(m, f) for f in FIELDS}
