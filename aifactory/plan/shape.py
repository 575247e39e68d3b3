"""The shape of a plan the policies can read: resources, and the facts our components carry.

`aifactory check PLAN.json` reads a file someone may have edited or written by hand. Before any
rule runs, `problems` walks it and names every field that is missing, of the wrong type or out
of bounds (a power budget of 0, a waiver without an expiry day), each as
`file:line: resources[i].inputs.field: what is wrong in TYPE NAME; what to do`. The line is that
of the field in the JSON text when it can be found there, else that of its resource.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import catalog
from blueprints.errors import InputError
from blueprints.facts import AWS_ENVIRONMENT, FACTORY, GCP_ENVIRONMENT, HOST, POOL_TYPES, SITE

Kind = Literal["str", "number", "int", "bool", "list", "dict", "date"]
REPLAN = "write the plan again with `aifactory plan BLUEPRINT --format json`"


class PlanError(InputError, ValueError):
    """A plan file the policies cannot read; the message lists every problem, one a line."""


@dataclass(frozen=True)
class Field:
    """What one input of a fact-carrying component must be."""

    kind: Kind
    required: bool = True
    minimum: float | None = None
    above: bool = False
    """The minimum itself is not allowed (e.g. a power budget must be above 0)."""
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    items: Kind | Mapping[str, Field] | None = None
    """For a list or dict: the kind of its values, or the fields of each (object) item."""
    fix: str = ""
    """The blueprint field to change, for the message."""


WAIVER = {
    "rule": Field("str", fix="policy.waivers[].rule"),
    "resource": Field("str", fix="policy.waivers[].resource"),
    "reason": Field("str", fix="policy.waivers[].reason"),
    "owner": Field("str", fix="policy.waivers[].owner"),
    "approver": Field("str", fix="policy.waivers[].approver"),
    "ticket": Field("str", fix="policy.waivers[].ticket"),
    "approved": Field("date", fix="policy.waivers[].approved (YYYY-MM-DD)"),
    "expires": Field("date", fix="policy.waivers[].expires (YYYY-MM-DD)"),
}
RACK = {
    "name": Field("str"),
    "powerLimitKw": Field("number", minimum=0, above=True, fix="racks.<name>.power_limit_kw"),
    "cooling": Field("str", choices=("air", "rear-door", "liquid"), fix="racks.<name>.cooling"),
    "otherKw": Field("number", required=False, minimum=0, fix="racks.<name>.other_kw"),
    "equipment": Field("list", required=False, items={
        "kind": Field("str", fix="racks.<name>.equipment[].kind"),
        "name": Field("str", fix="racks.<name>.equipment[].name"),
        "count": Field("int", required=False, minimum=1, fix="racks.<name>.equipment[].count"),
        "kw": Field("number", minimum=0, above=True, fix="racks.<name>.equipment[].kw"),
    }, fix="racks.<name>.equipment"),
}
POOL = {
    "pool": Field("str"),
    "environment": Field("str"),
    "cloud": Field("str"),
    "gpuModel": Field("str", fix="pools.<name>.gpu_model"),
    "gpusPerNode": Field("int", minimum=0),
    "vcpusPerNode": Field("int", required=False, minimum=0),
    "minNodes": Field("int", required=False, minimum=0, fix="pools.<name>.min_nodes"),
    "desiredNodes": Field("int", minimum=0, fix="pools.<name>.desired_nodes"),
    "maxNodes": Field("int", minimum=0, fix="pools.<name>.max_nodes"),
    "capacity": Field("str", required=False),
}
FACTS: dict[str, Mapping[str, Field]] = {
    # the factory's settings all have defaults (policies.view.DEFAULT_SETTINGS)
    FACTORY: {
        "jurisdiction": Field("str", required=False, choices=tuple(catalog.JURISDICTIONS),
                              fix="sovereignty.jurisdiction"),
        "allowedRegistries": Field("list", required=False, items="str",
                                   fix="sovereignty.allowed_registries"),
        "waivers": Field("list", required=False, items=WAIVER, fix="policy.waivers"),
        "breakEvenUtilisation": Field("number", required=False, minimum=0, maximum=1,
                                      fix="policy.break_even_utilisation"),
        "plannedUtilisation": Field("number", required=False, minimum=0, maximum=1,
                                    fix="policy.planned_utilisation"),
        "airCoolingLimitKw": Field("number", required=False, minimum=0, above=True,
                                   fix="policy.air_cooling_limit_kw"),
        "rearDoorLimitKw": Field("number", required=False, minimum=0, above=True,
                                 fix="policy.rear_door_limit_kw"),
        "hostOverheadW": Field("int", required=False, minimum=0, fix="policy.host_overhead_w"),
    },
    SITE: {
        "environment": Field("str"),
        "country": Field("str", required=False, fix="environments.<site>.country"),
        "powerBudgetKw": Field("number", minimum=0, above=True,
                               fix="environments.<site>.power_budget_kw"),
        "pue": Field("number", minimum=1, fix="environments.<site>.pue"),
        "feeds": Field("dict", required=False, items="number", fix="environments.<site>.feeds"),
        "racks": Field("list", required=False, items=RACK, fix="environments.<site>.racks"),
    },
    HOST: {
        "environment": Field("str"),
        "hostname": Field("str"),
        "rack": Field("str", fix="environments.<site>.hosts[].rack"),
        "itLoadKw": Field("number", minimum=0, fix="environments.<site>.hosts[].server_model"),
        "gpus": Field("int", required=False, minimum=0),
        "serverCooling": Field("str", required=False),
        "role": Field("str", required=False),
        "storageTb": Field("number", required=False, minimum=0,
                           fix="environments.<site>.hosts[].drives"),
    },
    AWS_ENVIRONMENT: {
        "environment": Field("str"),
        "region": Field("str", fix="environments.<name>.region"),
        "accountId": Field("str", required=False, fix="environments.<name>.account_id"),
        "partition": Field("str", required=False, fix="environments.<name>.partition"),
        "quotas": Field("dict", required=False, items="int", fix="environments.<name>.quotas"),
    },
    GCP_ENVIRONMENT: {
        "environment": Field("str"),
        "region": Field("str", fix="environments.<name>.region"),
        "project": Field("str", required=False, fix="environments.<name>.project"),
        "gpuQuotas": Field("dict", required=False, items="int",
                           fix="environments.<name>.gpu_quotas"),
    },
    **{t: POOL for t in POOL_TYPES},
}
RESOURCE: dict[str, Kind] = {"urn": "str", "type": "str", "name": "str", "inputs": "dict"}


def _kind_of(value: Any, kind: Kind) -> bool:
    if kind == "str":
        return isinstance(value, str) and value != ""
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int | float) and not isinstance(value, bool) \
            and float(value).is_integer()
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "list":
        return isinstance(value, list)
    if kind == "dict":
        return isinstance(value, dict)
    if isinstance(value, date):
        return True
    try:
        date.fromisoformat(str(value))
    except ValueError:
        return False
    return isinstance(value, str)


_WHAT = {"str": "a non-empty string", "number": "a number", "int": "a whole number",
         "bool": "true or false", "list": "a list", "dict": "an object",
         "date": "a date such as 2026-06-30"}


Problem = tuple[str, str, str]
"""(path, what is wrong, the blueprint field that sets it or '')."""


def _field_problems(value: Any, spec: Field, path: str) -> Iterator[Problem]:
    """Problems of one present value."""
    if not _kind_of(value, spec.kind):
        yield path, f"{json.dumps(value, default=str)[:80]} is not {_WHAT[spec.kind]}", spec.fix
        return
    if spec.choices and value not in spec.choices:
        yield path, f"{json.dumps(value)} is not one of {', '.join(spec.choices)}", spec.fix
    if spec.kind in ("number", "int"):
        lo, hi = spec.minimum, spec.maximum
        if lo is not None and (value < lo or (spec.above and value == lo)):
            yield (path, f"{value:g} must be {'above' if spec.above else 'at least'} {lo:g}",
                   spec.fix)
        if hi is not None and value > hi:
            yield path, f"{value:g} must be at most {hi:g}", spec.fix
    if spec.items is None:
        return
    entries = enumerate(value) if spec.kind == "list" else value.items()
    for key, item in entries:
        sub = f"{path}[{key}]" if spec.kind == "list" else f"{path}.{key}"
        if isinstance(spec.items, str):
            yield from _field_problems(item, Field(spec.items, fix=spec.fix), sub)
        elif not isinstance(item, dict):
            yield sub, f"{json.dumps(item, default=str)[:80]} is not an object", spec.fix
        else:
            yield from _fields(item, spec.items, sub)


def _fields(values: Mapping[str, Any], fields: Mapping[str, Field], path: str
            ) -> Iterator[Problem]:
    for key, spec in fields.items():
        if values.get(key) is None:
            if spec.required:
                yield f"{path}.{key}", "is missing", spec.fix
            continue
        yield from _field_problems(values[key], spec, f"{path}.{key}")


def resource_problems(resources: Sequence[Any]) -> Iterator[tuple[int, str, str]]:
    """(resource index, path, message) for every resource and every fact input."""
    for i, r in enumerate(resources):
        if not isinstance(r, dict):
            yield i, f"resources[{i}]", "is not an object"
            continue
        label = f" in {r.get('type', 'resource')} {r.get('name', '(no name)')}"
        for key, kind in RESOURCE.items():
            if key not in r:
                yield i, f"resources[{i}].{key}", f"is missing{label}; {REPLAN}"
            elif not _kind_of(r[key], kind):
                yield i, f"resources[{i}].{key}", f"{json.dumps(r[key])[:80]} is not " \
                    f"{_WHAT[kind]}{label}; {REPLAN}"
        fields = FACTS.get(r.get("type", ""))
        if not fields or not isinstance(r.get("inputs"), dict):
            continue
        names = {"site": r["inputs"].get("environment"), "name": r["inputs"].get("environment")
                 or r["inputs"].get("pool")}
        for path, what, fix in _fields(r["inputs"], fields, f"resources[{i}].inputs"):
            if fix:
                for placeholder, value in names.items():
                    fix = fix.replace(f"<{placeholder}>", str(value or placeholder.upper()))
                what += f"{label}; set {fix} in the blueprint and {REPLAN}"
            else:
                what += f"{label}; {REPLAN}"
            yield i, path, what


def _line_of(text: str, needle: str, start: int = 0) -> tuple[int, int] | None:
    pos = text.find(needle, start)
    return (text.count("\n", 0, pos) + 1, pos) if pos >= 0 else None


def line_of(text: str | None, resource: Any, path: str, present: bool = True) -> int | None:
    """The line of `path` (a present field, else its resource) in the JSON text, if found."""
    if not text or not isinstance(resource, dict) or not isinstance(resource.get("urn"), str):
        return None
    found = _line_of(text, f'"urn": {json.dumps(resource["urn"])}')
    if found is None:
        return None
    leaf = path.rsplit(".", 1)[-1].split("[", 1)[0]
    inner = _line_of(text, f'"{leaf}":', found[1]) if leaf not in RESOURCE and present else None
    # the field, if it lies within the resource (before the next resource's urn)
    nxt = text.find('"urn":', found[1] + 1)
    if inner is not None and (nxt < 0 or inner[1] < nxt):
        return inner[0]
    return found[0]


def check_plan(data: Mapping[str, Any], source: str, text: str | None = None) -> None:
    """Raise PlanError listing every problem of the plan's resources and facts."""
    resources = data.get("resources") or []
    lines = []
    for i, path, problem in resource_problems(resources):
        line = line_of(text, resources[i], path, present=not problem.startswith("is missing"))
        lines.append(f"{source}:{line or 1}: {path}: {problem}")
    if lines:
        raise PlanError("\n".join(lines) + f"\n{len(lines)} error{'s' * (len(lines) > 1)}: the "
                        "plan was not checked")
