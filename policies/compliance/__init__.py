"""The compliance crosswalk: frameworks and their controls, and which rules evidence which.

Two data files beside this module: controls.yaml (framework, control id, title and source,
and what evidence a reviewer must collect by hand) and mapping.yaml (rule -> controls, each
mapping tagged with where it comes from: Prowler, kube-bench, the CCM crosswalk, or proposed
by this project).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import yaml

HERE = Path(__file__).resolve().parent
Provenance = Literal["P", "K", "X", "proposed"]
PROVENANCE: dict[Provenance, str] = {
    "P": "Prowler maps an equivalent check to this requirement",
    "K": "a kube-bench CIS check",
    "X": "crosswalk in Prowler's CSA CCM 4.0 file",
    "proposed": "proposed by this project, to be confirmed by the reviewer",
}


@dataclass(frozen=True)
class Control:
    framework: str
    id: str
    title: str
    manual: str | None
    """Evidence a reviewer collects outside the plan (None: the plan is the evidence)."""
    short: bool = False
    """The title is a short description, not the framework's own wording."""


@dataclass(frozen=True)
class Framework:
    id: str
    title: str
    version: str
    source: str
    controls: tuple[Control, ...]


@dataclass(frozen=True)
class Mapping:
    """One rule evidencing one control."""

    rule: str
    control: Control
    provenance: Provenance
    note: str | None = None


@dataclass(frozen=True)
class Crosswalk:
    frameworks: tuple[Framework, ...]
    mappings: tuple[Mapping, ...]
    digest: str
    """sha256 of the two data files: the crosswalk a report used."""

    def of_rule(self, rule: str) -> list[Mapping]:
        return [m for m in self.mappings if m.rule == rule]

    def of_control(self, control: Control) -> list[Mapping]:
        return [m for m in self.mappings if m.control == control]


class CrosswalkError(ValueError):
    """The data files disagree (a mapped control that is not in the catalogue)."""


def _parse_entry(entry: str) -> tuple[str, Provenance, str | None]:
    text, _, note = str(entry).partition(" -- ")
    head, _, tag = text.strip().rpartition(" ")
    if tag in ("P", "K", "X") and head:
        return head, tag, note or None  # type: ignore[return-value]
    return text.strip(), "proposed", note or None


@cache
def crosswalk() -> Crosswalk:
    """The crosswalk from controls.yaml and mapping.yaml (read once)."""
    raw_controls = (HERE / "controls.yaml").read_bytes()
    raw_mapping = (HERE / "mapping.yaml").read_bytes()
    frameworks = []
    by_id: dict[tuple[str, str], Control] = {}
    for fid, f in yaml.safe_load(raw_controls)["frameworks"].items():
        controls = []
        for cid, c in f["controls"].items():
            control = Control(framework=fid, id=str(cid), title=str(c["title"]),
                              manual=c.get("manual"), short=bool(c.get("short")))
            controls.append(control)
            by_id[(fid, str(cid))] = control
        frameworks.append(Framework(id=fid, title=f["title"], version=str(f["version"]),
                                    source=f["source"], controls=tuple(controls)))
    mappings = []
    for rule, per_framework in yaml.safe_load(raw_mapping)["rules"].items():
        for fid, entries in per_framework.items():
            for entry in entries:
                cid, provenance, note = _parse_entry(entry)
                found = by_id.get((fid, cid))
                if found is None:
                    raise CrosswalkError(f"mapping.yaml: {rule}: {fid} {cid} is not a control "
                                         "in controls.yaml")
                mappings.append(Mapping(rule, found, provenance, note))
    digest = hashlib.sha256(raw_controls + b"\0" + raw_mapping).hexdigest()
    return Crosswalk(tuple(frameworks), tuple(mappings), digest)
