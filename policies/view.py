"""A read-only view of a plan for rules: look-ups by type, provider, region, environment, links.

Resources are the plan's dicts: {urn, type, name, parent, custom, protect, provider,
dependencies, inputs}. The CrossGuard adapter builds the same dicts from `PolicyResource`s, so
every rule sees one shape whichever runner calls it. Values a preview cannot know yet arrive as
`UNKNOWN`; rules treat them as "set by something else" and never as a violation.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import cached_property
from typing import Any

import catalog
from blueprints.errors import InputError
from blueprints.facts import AWS_ENVIRONMENT, FACTORY, GCP_ENVIRONMENT, HOST, POOL_TYPES, SITE
from policies.model import Cause, Evidence, Finding

UNKNOWN = "[unknown]"
"""Stands for a value `pulumi preview` cannot know yet (an id, an ARN of a new resource)."""

Resource = Mapping[str, Any]

# Defaults of blueprints.spec.models.PolicySettings, for plans without a Factory component
# (tests/test_policy_engine.py checks they agree).
DEFAULT_SETTINGS: dict[str, Any] = {
    "jurisdiction": None,
    "ownSitesOnly": False,
    "allowedRegistries": [],
    "breakEvenUtilisation": 0.6,
    "plannedUtilisation": None,
    "airCoolingLimitKw": 30.0,
    "rearDoorLimitKw": 60.0,
    "hostOverheadW": 2000,
    "waivers": [],
}

ENVIRONMENT_TYPES = (AWS_ENVIRONMENT, GCP_ENVIRONMENT, SITE)
_GCP_ZONE = re.compile(r"^([a-z]+-[a-z]+\d+)-[a-z]$")


def decode(value: Any) -> Any:
    """Provider inputs arrive with nested objects JSON-encoded; decode them (leave the rest)."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def is_set(value: Any) -> bool:
    """A value is given (unknown-at-preview counts as given)."""
    return value not in (None, "", [], {})


def dig(obj: Any, *path: str | int, default: Any = None) -> Any:
    """obj[path[0]][path[1]]... or `default` where any step is missing."""
    for key in path:
        if isinstance(key, int):
            if not isinstance(obj, Sequence) or isinstance(obj, str) or len(obj) <= key:
                return default
            obj = obj[key]
        else:
            if not isinstance(obj, Mapping) or key not in obj:
                return default
            obj = obj[key]
    return obj


def truthy(value: Any) -> bool:
    """Booleans as Pulumi inputs may be strings ('true') in some resources (launch templates)."""
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)


def cloud_of(type_token: str) -> str:
    """'aws', 'gcp', 'kubernetes', 'aifactory', 'pulumi', ... from a type token."""
    return type_token.split(":", 1)[0]


def pool_units(pool: Resource) -> tuple[int, int]:
    """(GPUs, units of its resource) a pool can provide, from its facts."""
    f = pool["inputs"]
    nodes = int(f["maxNodes"])
    hosts = f.get("hosts")
    if f.get("cloud") == "onprem" and isinstance(hosts, list):
        nodes = min(nodes, len(hosts))
    gpus = nodes * int(f["gpusPerNode"])
    return gpus, gpus * int(f.get("unitsPerGpu") or 1)


class PlanView:
    """Indexes over one plan's resources; every rule reads the plan through this."""

    def __init__(self, resources: Iterable[Resource], *, factory: str | None = None,
                 blueprint: str | None = None, stack: str | None = None) -> None:
        self.resources: list[Resource] = list(resources)
        for i, r in enumerate(self.resources):
            missing = [k for k in ("urn", "type", "name", "inputs")
                       if not isinstance(r, Mapping) or k not in r]
            if missing:
                name = r.get("name") or r.get("urn") if isinstance(r, Mapping) else None
                raise InputError(f"resources[{i}] ({name or 'unnamed'}): {', '.join(missing)} "
                                 "missing; every plan resource has urn, type, name and inputs "
                                 "(write the plan with `aifactory plan BLUEPRINT --format "
                                 "json`)")
        self.by_urn: dict[str, Resource] = {r["urn"]: r for r in self.resources}
        self.factory_name = factory
        self.blueprint = blueprint
        self.stack = stack
        self._by_type: dict[str, list[Resource]] = defaultdict(list)
        self._children: dict[str, list[Resource]] = defaultdict(list)
        self._dependents: dict[str, list[Resource]] = defaultdict(list)
        for r in self.resources:
            self._by_type[r["type"]].append(r)
            if r.get("parent"):
                self._children[r["parent"]].append(r)
            for dep in r.get("dependencies") or ():
                self._dependents[dep].append(r)

    @classmethod
    def of_plan(cls, plan: Mapping[str, Any]) -> PlanView:
        """A view of a plan document (aifactory.plan.document)."""
        return cls(plan["resources"], factory=plan.get("factory"),
                   blueprint=plan.get("blueprint"), stack=plan.get("stack"))

    # -- look-ups ---------------------------------------------------------------------------

    def of_type(self, *types: str) -> list[Resource]:
        """Resources of any of the given type tokens, in plan order."""
        if len(types) == 1:
            return list(self._by_type.get(types[0], ()))
        return [r for r in self.resources if r["type"] in types]

    def parent(self, r: Resource) -> Resource | None:
        return self.by_urn.get(r.get("parent") or "")

    def ancestors(self, r: Resource) -> list[Resource]:
        """Parent, grandparent, ... up to the root."""
        out, node = [], self.parent(r)
        while node is not None and node not in out:
            out.append(node)
            node = self.parent(node)
        return out

    def descendants(self, r: Resource) -> list[Resource]:
        """Children, grandchildren, ..."""
        out: list[Resource] = []
        stack = list(self._children.get(r["urn"], ()))
        while stack:
            node = stack.pop()
            out.append(node)
            stack.extend(self._children.get(node["urn"], ()))
        return out

    def dependents(self, r: Resource, *types: str) -> list[Resource]:
        """Resources that depend on `r` (optionally only of the given types)."""
        found = self._dependents.get(r["urn"], [])
        return [d for d in found if not types or d["type"] in types]

    def dependencies(self, r: Resource, *types: str) -> list[Resource]:
        """Resources `r` depends on (optionally only of the given types)."""
        found = [self.by_urn[u] for u in r.get("dependencies") or () if u in self.by_urn]
        return [d for d in found if not types or d["type"] in types]

    def linked(self, target: Resource, *types: str, key: str) -> list[Resource]:
        """Resources of `types` that point at `target`: by dependency, or input `key` naming it.

        E.g. the encryption configuration of a bucket: it depends on the bucket, or its
        `bucket` input equals the bucket's name (when the plan was written without
        dependencies).
        """
        names = {target["name"], f"{target['name']}-id"}
        for k in ("bucket", "name", "id"):
            v = target["inputs"].get(k)
            if isinstance(v, str):
                names.add(v)
        found = {d["urn"]: d for d in self.dependents(target, *types)}
        for r in self.of_type(*types):
            if r["inputs"].get(key) in names:
                found.setdefault(r["urn"], r)
        return list(found.values())

    # -- facts ------------------------------------------------------------------------------

    @cached_property
    def settings(self) -> dict[str, Any]:
        """The factory's settings (its facts), with spec defaults where absent."""
        factories = self.of_type(FACTORY)
        merged = dict(DEFAULT_SETTINGS)
        if factories:
            merged.update({k: v for k, v in factories[0]["inputs"].items() if v is not None})
        return merged

    @property
    def factory(self) -> Resource | None:
        found = self.of_type(FACTORY)
        return found[0] if found else None

    @cached_property
    def jurisdiction(self) -> catalog.Jurisdiction | None:
        """The declared jurisdiction (None: the factory declares none)."""
        name = self.settings.get("jurisdiction")
        return catalog.jurisdiction(name) if name else None

    @property
    def sites(self) -> list[Resource]:
        return self.of_type(SITE)

    @property
    def hosts(self) -> list[Resource]:
        return self.of_type(HOST)

    @property
    def pools(self) -> list[Resource]:
        return self.of_type(*POOL_TYPES)

    @cached_property
    def pools_by_name(self) -> dict[str, Resource]:
        """Each GPU pool component by its blueprint name."""
        return {p["inputs"]["pool"]: p for p in self.pools}

    @property
    def aws_environments(self) -> list[Resource]:
        return self.of_type(AWS_ENVIRONMENT)

    @property
    def gcp_environments(self) -> list[Resource]:
        return self.of_type(GCP_ENVIRONMENT)

    def environment(self, r: Resource) -> Resource | None:
        """The environment component a resource lies under."""
        for node in [r, *self.ancestors(r)]:
            if node["type"] in ENVIRONMENT_TYPES:
                return node
        return None

    def cluster_name(self, r: Resource) -> str:
        """The name of the environment (its cluster) a resource lies under."""
        env = self.environment(r)
        return str(env["inputs"].get("environment") or env["name"]) if env else "(no cluster)"

    # -- providers and regions --------------------------------------------------------------

    def provider(self, r: Resource) -> Resource | None:
        """The explicit provider resource of `r` (None for a default provider)."""
        urn = r.get("provider")
        if not urn:
            return None
        # a provider reference is "URN::id"; plans record the URN alone
        return self.by_urn.get(urn) or self.by_urn.get(urn.rsplit("::", 1)[0])

    def provider_inputs(self, r: Resource) -> dict[str, Any]:
        """The inputs of `r`'s provider, nested objects decoded ({} for a default provider)."""
        p = self.provider(r)
        return decoded_inputs(p) if p else {}

    def region(self, r: Resource) -> str | None:
        """Where a cloud resource lives: its own region/location input, else its provider's.

        GCP locations are lower-cased and zones turned into their region; multi-regions
        ('eu') are returned as they are.
        """
        cloud = cloud_of(r["type"])
        inputs = r["inputs"]
        if cloud == "aws":
            own = inputs.get("region")
            return own if isinstance(own, str) and own else self._provider_value(r, "region")
        if cloud == "gcp":
            for key in ("location", "region", "zone"):
                v = inputs.get(key)
                if isinstance(v, str) and v and v != UNKNOWN:
                    return gcp_region(v)
            p = self._provider_value(r, "region") or self._provider_value(r, "zone")
            return gcp_region(p) if p else None
        return None

    def warehouse_region(self, r: Resource) -> str | None:
        """Where a catalog placed by its warehouse lives (a BigLake Iceberg catalog has no
        location of its own: it is its default location's bucket's): that bucket's region in
        the plan, None when the plan does not hold the bucket."""
        location = decoded_inputs(r).get("defaultLocation")
        if not isinstance(location, str) or not location.startswith("gs://"):
            return None
        bucket = location.removeprefix("gs://").split("/", 1)[0]
        for b in self.of_type("gcp:storage/bucket:Bucket"):
            if b["inputs"].get("name") == bucket:
                return self.region(b)
        return None

    def _provider_value(self, r: Resource, key: str) -> str | None:
        v = self.provider_inputs(r).get(key)
        return v if isinstance(v, str) and v else None

    # -- findings ---------------------------------------------------------------------------

    def finding(self, r: Resource, message: str, *, subject: str | None = None,
                spec_path: str | None = None, cause: Cause | None = None,
                **details: Any) -> Finding:
        """A finding about resource `r`."""
        return Finding(urn=r["urn"], subject=subject or r["name"], message=message,
                       details=details, spec_path=spec_path, cause=cause)

    def evidence(self, r: Resource, *paths: str, subject: str | None = None,
                 **figures: Any) -> Evidence:
        """What a rule judged on resource `r`: the inputs at `paths` (dotted; '(protect)' for
        the protect flag) as the plan holds them, plus further `figures`."""
        inputs = decoded_inputs(r)
        picked: dict[str, Any] = {}
        for path in paths:
            if path == "(protect)":
                picked[path] = bool(r.get("protect"))
                continue
            value = dig(inputs, *path.split("."))
            if value is not None:
                picked[path] = value
        return Evidence(urn=r["urn"], subject=subject or r["name"], inputs={**picked, **figures})

    def region_cause(self, cloud: str, region: str | None) -> Cause | None:
        """The cause of a finding that something lies in `region`, outside the jurisdiction,
        when that is the region of one environment of the cloud: that environment's region."""
        j = self.jurisdiction
        if j is None or not region or cloud not in ("aws", "gcp"):
            return None
        envs = self.aws_environments if cloud == "aws" else self.gcp_environments
        found = [e for e in envs if str(e["inputs"].get("region", "")).lower() == region.lower()]
        if len(found) != 1:
            return None
        f = found[0]["inputs"]
        from policies.residency import allowed_places

        return Cause(setting=f"environments.{f['environment']}.region", value=f["region"],
                     problem=f"outside {j.name}",
                     fix=f"move environment {f['environment']} to a region in {j.name} "
                     f"({allowed_places(j, cloud)}); everything it holds moves with it")


    def country_cause(self, site_name: str) -> Cause | None:
        """The cause of findings about a site (and what it runs, its registry) outside the
        jurisdiction: the site's country."""
        j = self.jurisdiction
        site = next((s for s in self.sites if s["inputs"].get("environment") == site_name), None)
        if j is None or site is None:
            return None
        country = str(site["inputs"].get("country") or "")
        if country in j.countries:
            return None
        return Cause(setting=f"environments.{site_name}.country", value=country,
                     problem=f"outside {j.name}",
                     fix=f"the site must lie in {j.name} (one of "
                     f"{', '.join(sorted(j.countries))}); what runs on it, its registry "
                     "included, is judged by its country")


def examine(types: Sequence[str], *paths: str) -> Callable[[PlanView], Iterator[Evidence]]:
    """Evidence of a rule that judges every resource of `types` on the inputs at `paths`."""

    def evidence(view: PlanView) -> Iterator[Evidence]:
        for r in view.of_type(*types):
            yield view.evidence(r, *paths)

    return evidence


def decoded_inputs(r: Resource) -> dict[str, Any]:
    """Inputs with JSON-encoded nested objects decoded (how provider resources record them)."""
    return {k: decode(v) for k, v in r["inputs"].items()}


def gcp_region(location: str) -> str:
    """'EUROPE-WEST4' -> 'europe-west4'; 'europe-west4-a' -> 'europe-west4'; 'EU' -> 'eu'."""
    loc = location.lower()
    m = _GCP_ZONE.match(loc)
    return m.group(1) if m else loc
