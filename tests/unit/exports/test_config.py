"""One export configuration type: the records around it hold an ExportConfig rather than
copying its fields, and an edit can change every setting a user sets."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import fields, is_dataclass

import segport.exports
import segport.service
from segport.exports.config import ExportConfig, ExportMapping
from segport.exports.target import ExportTarget
from segport.service.export_edits import ExportEdit
from segport.service.export_records import ExportView, RunSpec

SETTINGS = {f.name for f in fields(ExportConfig)} | {f.name for f in fields(ExportMapping)}


def _names(cls: type) -> set[str]:
    return {f.name for f in fields(cls)}


def test_the_records_of_an_export_hold_its_config() -> None:
    assert "config" in _names(ExportView) and "config" in _names(ExportTarget)
    assert "target" in _names(RunSpec)  # (the target holds the config)
    for record in (ExportView, RunSpec, ExportTarget):
        assert _names(record) & SETTINGS == set(), record


def test_no_other_record_copies_an_exports_settings() -> None:
    """A dataclass of the service or the engine with three or more of the settings'
    names is a copy of the configuration (two, like a run summary's list and mode, are
    what a run recorded)."""
    allowed = {ExportConfig, ExportMapping, ExportEdit}  # ExportEdit: checked below
    copies = []
    for package in (segport.service, segport.exports):
        for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            module = importlib.import_module(info.name)
            for value in vars(module).values():
                if (
                    isinstance(value, type)
                    and is_dataclass(value)
                    and value.__module__ == info.name
                    and value not in allowed
                    and len(_names(value) & SETTINGS) >= 3
                ):
                    copies.append(f"{info.name}.{value.__name__}")
    assert copies == []


def test_an_edit_names_every_setting_a_user_sets() -> None:
    resolved = {"first_name_attribute", "last_name_attribute"}  # from Brevo, not the user
    editable = (SETTINGS - {"mapping", "attributes"} - resolved) | {
        "add_attributes",
        "remove_attributes",
    }
    assert _names(ExportEdit) == editable
