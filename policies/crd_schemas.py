"""Custom resources validated against their upstream CRD schemas (openAPIV3Schema, strict).

The CRDs are reference data outside the repository: `../shared/crds/<group>/*.yaml` beside the
checkout (see its SOURCES.md), or the folder AIFACTORY_CRDS names. They are never copied in.
Validation follows ../shared/tools/validate_crs.py --strict: JSON Schema draft 7 against the
CRD version the object names, undeclared fields rejected except under
x-kubernetes-preserve-unknown-fields, metadata left to the API server. Two differences, both
for speed and robustness: a group's CRDs are read only when an object of that group is seen,
and patterns written for Go's RE2 with inline flags mid-expression (`^(?i)[a-z]...`, which
Python's re rejects) have their flags moved to the front.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[1]
CRDS_ENV = "AIFACTORY_CRDS"
_INLINE_FLAGS = re.compile(r"\(\?([aiLmsux]+)\)")
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def crds_dir() -> Path | None:
    """The folder of upstream CRDs: the one AIFACTORY_CRDS names, else ../shared/crds beside
    the checkout; None when it does not exist."""
    named = os.environ.get(CRDS_ENV)
    candidate = Path(named) if named else ROOT.parent / "shared" / "crds"
    return candidate if candidate.is_dir() else None


def go_pattern(pattern: str) -> str:
    """A Go (RE2) pattern as Python's re accepts it: inline flags moved to the front."""
    flags = "".join(dict.fromkeys("".join(_INLINE_FLAGS.findall(pattern))))
    return f"(?{flags}){_INLINE_FLAGS.sub('', pattern)}" if flags else pattern


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    if isinstance(instance, str) and not re.search(go_pattern(pattern), instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


Validator = jsonschema.validators.extend(jsonschema.Draft7Validator, {"pattern": _pattern})


def strictify(schema: dict[str, Any]) -> dict[str, Any]:
    """Forbid undeclared properties wherever the schema lists properties and allows no others
    (as `kubectl apply --validate=strict`); metadata is the API server's to validate."""
    s = copy.deepcopy(schema)

    def walk(node: Any) -> None:
        if not isinstance(node, dict) or node.get("x-kubernetes-preserve-unknown-fields"):
            return
        if isinstance(node.get("properties"), dict):
            node.setdefault("additionalProperties", False)
            for v in node["properties"].values():
                walk(v)
        for key in ("items", "additionalProperties"):
            if isinstance(node.get(key), dict):
                walk(node[key])
        for key in ("allOf", "anyOf", "oneOf"):
            for v in node.get(key) or []:
                walk(v)

    walk(s)
    props = s.setdefault("properties", {})
    props["metadata"] = {"type": "object"}
    props.setdefault("apiVersion", {"type": "string"})
    props.setdefault("kind", {"type": "string"})
    return s


@dataclass(frozen=True)
class CrdVerdict:
    """What the CRDs say of one object."""

    state: str
    """'valid', 'invalid', 'no-schema' (no CRD of its group and kind) or 'not-served'."""
    errors: tuple[tuple[str, str], ...] = ()
    """(path, message) of each schema error."""


class CrdSchemas:
    """The CRDs of one folder, read group by group as objects of the group are seen."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._groups: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
        # strictifying a large schema (KServe's) is not free: once per CRD version
        self._validators: dict[tuple[str, str, str], Any] = {}

    def versions(self, group: str, kind: str) -> dict[str, dict[str, Any]] | None:
        """{version: openAPIV3Schema} of a CRD, or None when the folder has none."""
        if group not in self._groups:
            kinds: dict[str, dict[str, dict[str, Any]]] = {}
            folder = self.directory / group
            for f in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
                crd = yaml.load(f.read_text(encoding="utf-8"), Loader=_Loader)
                spec = crd.get("spec") or {}
                kinds[spec["names"]["kind"]] = {
                    v["name"]: (v.get("schema") or {}).get("openAPIV3Schema") or {}
                    for v in spec.get("versions") or []}
            self._groups[group] = kinds
        return self._groups[group].get(kind)

    def validate(self, doc: dict[str, Any]) -> CrdVerdict:
        """Validate one object against the CRD of its group, kind and version."""
        group, _, version = str(doc.get("apiVersion", "")).rpartition("/")
        versions = self.versions(group, str(doc.get("kind"))) if group else None
        if versions is None:
            return CrdVerdict("no-schema")
        if version not in versions:
            return CrdVerdict("not-served", ((
                "apiVersion", f"{doc['apiVersion']} is not served (served: "
                f"{', '.join(versions)})"),))
        key = (group, str(doc["kind"]), version)
        if key not in self._validators:
            self._validators[key] = Validator(strictify(versions[version]))
        validator = self._validators[key]
        errors = tuple(sorted(
            (".".join(str(p) for p in e.absolute_path) or "(root)", e.message)
            for e in validator.iter_errors(doc)))
        return CrdVerdict("invalid" if errors else "valid", errors)


_READ: dict[Path, CrdSchemas] = {}


def schemas() -> CrdSchemas | None:
    """The CRDs beside the checkout (or AIFACTORY_CRDS), None when absent; read once per
    folder in a process (a run over several factories validates against the same CRDs)."""
    directory = crds_dir()
    if directory is None:
        return None
    if directory not in _READ:
        _READ[directory] = CrdSchemas(directory)
    return _READ[directory]
