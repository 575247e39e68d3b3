"""Pull-request previews: what a change does to each blueprint's plan and check.

For each blueprint, against the base branch's plan and check (made by the base's own code):
the verdict, violations that are new and those fixed, the change of every figure the plan
summary and the check carry (site power and headroom, cost, GPUs, quota use: read generically,
so figures added to the summary show up without a change here), a mermaid diagram of the
factory's topology, and the resource diff with every changed value shown whole, or as a diff
of the value when it is long, never cut.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from blueprints.facts import AWS_ENVIRONMENT, GCP_ENVIRONMENT, HOST, POOL_TYPES, SITE

INLINE = 80
"""Values up to this many characters (as JSON) are shown on one line; longer ones as a diff."""
ENTRY_KEYS = ("site", "pool", "rack", "environment", "team", "metric", "name", "model")
"""Keys that name the entries of a list of figures (sites, pools, racks, ...)."""
SKIP_SUMMARY = ("byType", "byBuildingBlock")
"""Summary figures the resource diff already shows, one by one."""

# -- the resource diff --------------------------------------------------------------------------


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out or {prefix: {}}
    if isinstance(value, list) and value and any(isinstance(v, (dict, list)) for v in value):
        out = {}
        for i, v in enumerate(value):
            out.update(_flatten(v, f"{prefix}[{i}]"))
        return out
    return {prefix: value}


def diff_plans(base: Mapping[str, Any], head: Mapping[str, Any]) -> dict[str, Any]:
    """Resources added, removed and changed (with the input paths that changed, whole values
    before and after), and the summary figures that changed."""
    old = {r["urn"]: r for r in base["resources"]}
    new = {r["urn"]: r for r in head["resources"]}
    changed = []
    for urn in sorted(old.keys() & new.keys()):
        a, b = old[urn], new[urn]
        fa, fb = _flatten(a["inputs"]), _flatten(b["inputs"])
        fields = sorted(k for k in fa.keys() | fb.keys() if fa.get(k) != fb.get(k))
        changes = [{"path": f, "before": fa.get(f), "after": fb.get(f)} for f in fields]
        if a.get("protect") != b.get("protect"):
            changes.append({"path": "(protect)", "before": a.get("protect"),
                            "after": b.get("protect")})
        if changes:
            changed.append({"urn": urn, "type": b["type"], "name": b["name"], "changes": changes})
    removed = [old[u] for u in sorted(old.keys() - new.keys())]
    sa, sb = base.get("summary") or {}, head.get("summary") or {}
    return {
        "added": [{"urn": u, "type": new[u]["type"], "name": new[u]["name"]}
                  for u in sorted(new.keys() - old.keys())],
        "removed": [{"urn": r["urn"], "type": r["type"], "name": r["name"],
                     "protect": bool(r.get("protect"))} for r in removed],
        "changed": changed,
        "summary": {k: {"before": sa.get(k), "after": sb.get(k)}
                    for k in sorted(sa.keys() | sb.keys())
                    if k not in SKIP_SUMMARY and sa.get(k) != sb.get(k)},
    }


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _long_form(value: Any) -> list[str]:
    """A long value as lines to diff: JSON documents (IAM policies arrive as JSON text) and
    nested values pretty-printed, multi-line text by its lines."""
    if isinstance(value, str):
        if value[:1] in ("{", "["):
            try:
                return json.dumps(json.loads(value), indent=2, sort_keys=True,
                                  ensure_ascii=False).splitlines()
            except ValueError:
                pass
        return value.splitlines() or [value]
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False).splitlines()


def value_change(before: Any, after: Any) -> tuple[str | None, list[str]]:
    """How to show one changed value: (one line 'before -> after', []) when both are short,
    else (None, the unified diff lines of the whole values)."""
    a, b = _json(before), _json(after)
    if len(a) <= INLINE and len(b) <= INLINE:
        return f"{a} -> {b}", []
    lines = list(difflib.unified_diff(_long_form(before) if before is not None else [],
                                      _long_form(after) if after is not None else [],
                                      "before", "after", lineterm="", n=2))
    return None, lines[2:]  # without the ---/+++ header


def render_diff(d: Mapping[str, Any], markdown: bool) -> str:
    """The resource diff as text or Markdown (summary figures as a list, never in a code
    block; resources in a diff block; long values as a diff of the value)."""
    n = len(d["added"]), len(d["changed"]), len(d["removed"])
    lines = [("### " if markdown else "") + f"Plan diff: {n[0]} to add, {n[1]} to change, "
             f"{n[2]} to delete", ""]
    protected = [r for r in d["removed"] if r["protect"]]
    if protected:
        bold = "**" if markdown else ""
        lines += [f"{bold}{len(protected)} protected resource(s) would be deleted: the "
                  f"deployment will stop at them until protection is lifted.{bold}", ""]
    for key, value in d["summary"].items():
        shown, long = value_change(value["before"], value["after"])
        if shown is not None:
            lines.append(f"- {'`' if markdown else ''}{key}{'`' if markdown else ''}: {shown}")
        else:
            lines.append(f"- {'`' if markdown else ''}{key}{'`' if markdown else ''}: changed "
                         "(see below)")
    if d["summary"]:
        lines.append("")
    body: list[str] = []
    long_values: list[tuple[str, list[str]]] = []
    for r in d["added"]:
        body.append(f"+ {r['type']} {r['name']}")
    for r in d["removed"]:
        body.append(f"- {r['type']} {r['name']}" + (" (protected)" if r["protect"] else ""))
    for r in d["changed"]:
        body.append(f"~ {r['type']} {r['name']}")
        for c in r["changes"]:
            shown, long = value_change(c["before"], c["after"])
            if shown is not None:
                body.append(f"    {c['path']}: {shown}")
            else:
                body.append(f"    {c['path']}: changed, {len(long)} lines of diff below")
                long_values.append((f"{r['name']} {c['path']}", long))
    for key, value in d["summary"].items():
        shown, long = value_change(value["before"], value["after"])
        if shown is None:
            long_values.append((f"summary {key}", long))
    if markdown:
        if body:
            lines += ["```diff", *body, "```", ""]
        for title, diff in long_values:
            lines += [f"<details><summary><code>{_escape(title)}</code></summary>", "",
                      "```diff", *diff, "```", "</details>", ""]
    else:
        lines += body
        for title, diff in long_values:
            lines += ["", f"{title}:", *(f"    {x}" for x in diff)]
    return "\n".join(lines).rstrip() + "\n"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# -- figures: deltas of whatever the plan summary and the check carry ---------------------------


@dataclass(frozen=True)
class Delta:
    """One figure that changed (or exists on one side only)."""

    section: str
    """power, cost, quota, gpus or plan: where the comment shows it."""
    what: str
    """The entry and figure, e.g. 'dc1 headroomKw'."""
    before: Any
    after: Any

    @property
    def change(self) -> str:
        if isinstance(self.before, (int, float)) and isinstance(self.after, (int, float)) \
                and not isinstance(self.before, bool) and not isinstance(self.after, bool):
            d = round(self.after - self.before, 2)
            return f"{'+' if d > 0 else ''}{d:g}"
        if self.before is None:
            return "new"
        if self.after is None:
            return "gone"
        return "changed"


def _section(path: str) -> str:
    low = path.lower()
    if "quota" in low:
        return "quota"
    if any(w in low for w in ("usd", "cost", "price", "$")):
        return "cost"
    if any(w in low for w in ("site", "rack", "kw", "power", "headroom", "pue", "feed")):
        return "power"
    if "gpu" in low or "pool" in low:
        return "gpus"
    return "plan"


def _entry_key(entry: Mapping[str, Any]) -> str | None:
    """What names an entry of a list of figures: a quota row by cloud, account or project,
    region and metric; anything else by the first naming key it has."""
    if "metric" in entry:
        return " ".join(str(entry[k]) for k in ("cloud", "scope", "region", "metric")
                        if k in entry)
    for k in ENTRY_KEYS:
        if isinstance(entry.get(k), (str, int)) and not isinstance(entry.get(k), bool):
            return str(entry[k])
    return None


def figure_deltas(before: Any, after: Any, path: str = "") -> list[Delta]:
    """Every figure that differs between two summaries, walked generically: numbers and
    strings compared, mappings by key, lists of entries by the key that names them."""
    out: list[Delta] = []
    if isinstance(before, Mapping) or isinstance(after, Mapping):
        a = before if isinstance(before, Mapping) else {}
        b = after if isinstance(after, Mapping) else {}
        for k in list(dict.fromkeys([*a, *b])):
            if not path and k in SKIP_SUMMARY:
                continue
            out += figure_deltas(a.get(k), b.get(k), f"{path} {k}".strip())
        return out
    if isinstance(before, list) or isinstance(after, list):
        a_list = before if isinstance(before, list) else []
        b_list = after if isinstance(after, list) else []
        keyed_a = {(_entry_key(x) if isinstance(x, Mapping) else None): x for x in a_list}
        keyed_b = {(_entry_key(x) if isinstance(x, Mapping) else None): x for x in b_list}
        if None in keyed_a or None in keyed_b:  # a plain list: compare it whole
            return [] if a_list == b_list else [Delta(_section(path), path, before, after)]
        for k in list(dict.fromkeys([*keyed_a, *keyed_b])):
            ea, eb = keyed_a.get(k), keyed_b.get(k)
            if ea is None or eb is None:
                out.append(Delta(_section(path), f"{path} {k}", "absent" if ea is None else
                                 "present", "present" if eb is not None else "absent"))
                continue
            out += figure_deltas(ea, eb, f"{path} {k}")
        return out
    if before != after:
        return [Delta(_section(path), path, before, after)]
    return []


# -- violations: new and fixed ------------------------------------------------------------------


def _identity(v: Mapping[str, Any]) -> tuple[str, str, str]:
    return (str(v.get("rule")), str(v.get("urn") or ""), str(v.get("subject") or ""))


def violation_changes(base: Mapping[str, Any] | None, head: Mapping[str, Any],
                      ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(new, fixed): failing or advisory violations of the head not in the base, and of the
    base not in the head (check JSON documents)."""
    def open_(doc: Mapping[str, Any] | None) -> dict[tuple[str, str, str], dict[str, Any]]:
        if doc is None:
            return {}
        return {_identity(v): v for v in doc.get("violations") or []
                if v.get("status") in ("failed", "advisory")}

    a, b = open_(base), open_(head)
    return [b[k] for k in b if k not in a], [a[k] for k in a if k not in b]


# -- topology -----------------------------------------------------------------------------------


def _id(*parts: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", "_".join(parts))


def _label(text: str) -> str:
    return '"' + text.replace('"', "#quot;") + '"'


def topology(plan: Mapping[str, Any]) -> str:
    """A mermaid flowchart of the factory: environments and sites (with racks), clusters,
    pools, lakehouse, registries, queues and teams, serving endpoints."""
    resources = plan["resources"]
    by_urn = {r["urn"]: r for r in resources}

    def env_of(r: Mapping[str, Any]) -> Mapping[str, Any] | None:
        node: Mapping[str, Any] | None = r
        while node is not None:
            if node["type"] in (AWS_ENVIRONMENT, GCP_ENVIRONMENT, SITE):
                return node
            node = by_urn.get(node.get("parent") or "")
        return None

    inside: dict[str, list[str]] = {}
    edges: list[str] = []
    lines = ["flowchart LR"]
    hosts_by_rack: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for r in resources:
        if r["type"] == HOST:
            f = r["inputs"]
            hosts_by_rack.setdefault((f["environment"], f["rack"]), []).append(f)
    cluster_of: dict[str, str] = {}
    for r in resources:
        t, f, env = r["type"], r["inputs"], env_of(r)
        where = env["name"] if env else "(factory)"
        node = None
        if t.endswith(":EksCluster") or t.endswith(":GkeCluster"):
            node = (_id("cluster", r["name"]), f"{'EKS' if 'aws' in t else 'GKE'} cluster "
                    f"{r['name']}")
            cluster_of[where] = node[0]
        elif t in POOL_TYPES:
            size = f"{f.get('minNodes', '?')}-{f.get('maxNodes', '?')}"
            what = f.get("instanceType") or "own hosts"
            node = (_id("pool", f["pool"]), f"pool {f['pool']}: {size} x {what}, "
                    f"{f.get('gpusPerNode')} x {f.get('gpuModel')} each"
                    + (f", {f['capacity']}" if f.get("capacity") not in (None, "on-demand")
                       else ""))
        elif t.endswith(":Lakehouse"):
            zones = [c["name"].removeprefix(r["name"] + "-") for c in resources
                     if c.get("parent") == r["urn"]]
            node = (_id("lake", r["name"]), f"lakehouse: {', '.join(zones) or r['name']}")
        elif t.endswith(":Registry") or t.endswith(":ArtifactRegistry"):
            node = (_id("registry", r["name"]), f"registry {r['name']}")
        elif t.endswith(":JobQueue"):
            node = (_id("queue", r["name"]), f"Kueue {f.get('clusterQueue', r['name'])} "
                    f"(cohort {f.get('cohort', '-')})")
        elif t.endswith(":KueueWorker"):
            node = (_id("queue", r["name"]), f"Kueue worker {f.get('clusterQueue', '')}")
        elif t.endswith(":TeamNamespace"):
            node = (_id("team", r["name"]), f"team {f.get('team')} ({f.get('namespace')})")
        elif (t.startswith("aifactory:") and "Serving" in t) \
                or t.startswith("kubernetes:serving.kserve.io/"):
            node = (_id("serve", r["name"]), f"serving {r['name']}")
        elif t == SITE:
            for rack in f.get("racks") or []:
                hosts = hosts_by_rack.get((f["environment"], rack["name"]), [])
                kw = round(sum(float(h.get("itLoadKw", 0)) for h in hosts), 1)
                text = (f"rack {rack['name']}: {len(hosts)} hosts, {kw:g} / "
                        f"{float(rack['powerLimitKw']):g} kW, {rack['cooling']}")
                inside.setdefault(where, []).append(
                    f"{_id('rack', where, rack['name'])}[{_label(text)}]")
            continue
        elif t.endswith(":ClusterPlatform") and env is not None and env["type"] == SITE:
            node = (_id("cluster", r["name"]), f"cluster {where} (own)")
            cluster_of[where] = node[0]
        if node is not None:
            inside.setdefault(where, []).append(f"{node[0]}[{_label(node[1])}]")
    for r in resources:
        t, f, env = r["type"], r["inputs"], env_of(r)
        where = env["name"] if env else "(factory)"
        cluster = cluster_of.get(where)
        if cluster is None:
            continue
        if t in POOL_TYPES:
            edges.append(f"{cluster} --> {_id('pool', f['pool'])}")
        elif t.endswith((":JobQueue", ":KueueWorker")):
            edges.append(f"{cluster} --> {_id('queue', r['name'])}")
        elif t.endswith(":TeamNamespace"):
            edges.append(f"{cluster} --> {_id('team', r['name'])}")
        elif t == SITE:
            edges += [f"{cluster} --- {_id('rack', where, rack['name'])}"
                      for rack in f.get("racks") or []]
    managers = [r for r in resources if r["type"].endswith(":JobQueue")]
    workers = [r for r in resources if r["type"].endswith(":KueueWorker")]
    for m in managers:
        edges += [f"{_id('queue', m['name'])} -. MultiKueue .-> {_id('queue', w['name'])}"
                  for w in workers]
    for r in resources:
        if r["type"] not in (AWS_ENVIRONMENT, GCP_ENVIRONMENT, SITE):
            continue
        f = r["inputs"]
        if r["type"] == SITE:
            title = f"{r['name']}: own site, {f.get('country')}, {f.get('powerBudgetKw'):g} kW " \
                "budget"
        else:
            title = f"{r['name']}: {f.get('cloud', '').upper()} {f.get('region')}"
        lines.append(f"  subgraph {_id('env', r['name'])}[{_label(title)}]")
        lines += [f"    {n}" for n in inside.get(r["name"], [])]
        lines.append("  end")
    lines += [f"  {n}" for n in inside.get("(factory)", [])]
    lines += [f"  {e}" for e in edges]
    return "\n".join(lines) + "\n"


# -- the comment --------------------------------------------------------------------------------


@dataclass
class Preview:
    """One blueprint of a pull request: its head plan and check, and the base's if any."""

    name: str
    head_plan: Mapping[str, Any]
    head_check: Mapping[str, Any]
    base_plan: Mapping[str, Any] | None = None
    base_check: Mapping[str, Any] | None = None
    notes: list[str] = field(default_factory=list)


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else "-" if value is None else _json(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return out + [""]


SECTION_TITLES = {"power": "Power (per site and rack)", "cost": "Cost",
                  "quota": "Quota use", "gpus": "GPUs and pools", "plan": "Other plan figures"}


def deltas_of(p: Preview) -> list[Delta]:
    """Every figure that changed: the plan summary's and the check's (power, quotas)."""
    if p.base_plan is None:
        return []
    out = figure_deltas(p.base_plan.get("summary"), p.head_plan.get("summary"))
    if p.base_check is not None:
        for key in ("quotas",):
            out += [Delta("quota", d.what, d.before, d.after) for d in
                    figure_deltas(p.base_check.get(key), p.head_check.get(key), key)]
    return out


def _verdict(check: Mapping[str, Any]) -> str:
    s = check.get("summary") or {}
    icon = "✅ passed" if check.get("passed") else "❌ failed"
    return (f"{icon}: {s.get('failed', 0)} mandatory violations, {s.get('advisory', 0)} "
            f"advisories, {s.get('waived', 0)} waived")


def _violation_rows(items: Iterable[Mapping[str, Any]]) -> list[list[Any]]:
    return [[f"`{v.get('rule')}`", v.get("severity"), v.get("subject"), v.get("message"),
             f"`{(v.get('waiveWith') or {}).get('resource', v.get('subject'))}`"]
            for v in items]


def section(p: Preview) -> list[str]:
    """The comment's part for one blueprint."""
    head, base = p.head_check, p.base_check
    new, fixed = violation_changes(base, head)
    d = diff_plans(p.base_plan, p.head_plan) if p.base_plan is not None else None
    out = [f"### {p.name}: {_verdict(head)}", ""]
    if base is not None:
        out += [f"Base: {_verdict(base)}.", ""]
    for note in p.notes:
        out += [f"> {note}", ""]
    if p.base_plan is None:
        out += ["New blueprint: no base plan to compare.", ""]
    if base is not None or p.base_plan is not None:
        if new:
            out += [f"#### New violations ({len(new)})", ""]
            out += _table(["Rule", "Severity", "Resource", "Finding", "Waive with resource"],
                          _violation_rows(new))
        if fixed:
            out += [f"#### Fixed violations ({len(fixed)})", ""]
            out += _table(["Rule", "Severity", "Resource", "Finding", "Waive with resource"],
                          _violation_rows(fixed))
        if not new and not fixed:
            out += ["No violation is new or fixed.", ""]
    else:
        failing = [v for v in head.get("violations") or [] if v.get("status") == "failed"]
        if failing:
            out += _table(["Rule", "Severity", "Resource", "Finding", "Waive with resource"],
                          _violation_rows(failing))
    deltas = deltas_of(p)
    for key, title in SECTION_TITLES.items():
        rows = [x for x in deltas if x.section == key]
        if rows:
            out += [f"#### {title}", ""]
            out += _table(["Figure", "Base", "Head", "Change"],
                          [[x.what, x.before, x.after, x.change] for x in rows])
    out += ["<details><summary>Topology</summary>", "", "```mermaid",
            topology(p.head_plan).rstrip(), "```", "", "</details>", ""]
    if d is not None:
        n = len(d["added"]), len(d["changed"]), len(d["removed"])
        if any(n) or d["summary"]:
            body = render_diff(d, markdown=True).rstrip().split("\n", 1)[1].lstrip("\n")
            out += [f"<details><summary>Resource changes: {n[0]} to add, {n[1]} to change, "
                    f"{n[2]} to delete</summary>", "", body, "", "</details>", ""]
        else:
            out += ["No resource changes.", ""]
    return out


def comment(previews: Sequence[Preview], title: str = "ai-factory: offline plan and policy "
            "check") -> str:
    """The pull-request comment: an overview table, then each blueprint's part."""
    rows = []
    for p in previews:
        new, fixed = violation_changes(p.base_check, p.head_check)
        d = diff_plans(p.base_plan, p.head_plan) if p.base_plan is not None else None
        changes = "new blueprint" if d is None else \
            f"+{len(d['added'])} ~{len(d['changed'])} -{len(d['removed'])}"
        rows.append([p.name, _verdict(p.head_check).split(":")[0],
                     f"{len(new)} / {len(fixed)}" if p.base_check is not None else "-",
                     changes])
    out = [f"## {title}", ""]
    out += _table(["Blueprint", "Verdict", "Violations new / fixed", "Resources"], rows)
    for p in previews:
        out += section(p)
    return "\n".join(out).rstrip() + "\n"
