"""`aifactory diff BASE HEAD`: what a change to a blueprint does to the plan, for PR comments."""

from __future__ import annotations

import argparse
import json
from typing import Any

from aifactory.commands.common import add_output_args, write_output


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


def diff_plans(base: dict[str, Any], head: dict[str, Any]) -> dict[str, Any]:
    """Resources added, removed and changed (with the input paths that changed)."""
    old = {r["urn"]: r for r in base["resources"]}
    new = {r["urn"]: r for r in head["resources"]}
    changed = []
    for urn in sorted(old.keys() & new.keys()):
        a, b = old[urn], new[urn]
        fa, fb = _flatten(a["inputs"]), _flatten(b["inputs"])
        fields = sorted(k for k in fa.keys() | fb.keys() if fa.get(k) != fb.get(k))
        if a["protect"] != b["protect"]:
            fields.append("(protect)")
        if fields:
            changed.append({"urn": urn, "type": b["type"], "name": b["name"],
                            "changes": [{"path": f, "before": fa.get(f), "after": fb.get(f)}
                                        for f in fields if not f.startswith("(")]
                            + ([{"path": "(protect)", "before": a["protect"],
                                 "after": b["protect"]}] if "(protect)" in fields else [])})
    removed = [old[u] for u in sorted(old.keys() - new.keys())]
    sa, sb = base["summary"], head["summary"]
    return {
        "added": [{"urn": u, "type": new[u]["type"], "name": new[u]["name"]}
                  for u in sorted(new.keys() - old.keys())],
        "removed": [{"urn": r["urn"], "type": r["type"], "name": r["name"],
                     "protect": r["protect"]} for r in removed],
        "changed": changed,
        "summary": {k: {"before": sa.get(k), "after": sb.get(k)}
                    for k in ("resourceCount", "gpusByModel", "itKwDesired",
                              "cloudUsdPerHourDesired") if sa.get(k) != sb.get(k)},
    }


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 60 else text[:57] + "..."


def render_diff(d: dict[str, Any], markdown: bool) -> str:
    """The diff as text or Markdown."""
    n = len(d["added"]), len(d["changed"]), len(d["removed"])
    lines = [("### " if markdown else "") + f"Plan diff: {n[0]} to add, {n[1]} to change, "
             f"{n[2]} to delete", ""]
    protected = [r for r in d["removed"] if r["protect"]]
    if protected:
        lines += [("**" if markdown else "") + f"{len(protected)} protected resource(s) would be "
                  "deleted: the deployment will stop at them until protection is lifted."
                  + ("**" if markdown else ""), ""]
    for key, value in d["summary"].items():
        lines.append(f"- {key}: {_short(value['before'])} -> {_short(value['after'])}")
    if d["summary"]:
        lines.append("")
    code = "`" if markdown else ""
    for r in d["added"]:
        lines.append(f"+ {code}{r['type']}{code} {r['name']}")
    for r in d["removed"]:
        lines.append(f"- {code}{r['type']}{code} {r['name']}"
                     + (" (protected)" if r["protect"] else ""))
    for r in d["changed"]:
        lines.append(f"~ {code}{r['type']}{code} {r['name']}")
        for c in r["changes"]:
            lines.append(f"    {c['path']}: {_short(c['before'])} -> {_short(c['after'])}")
    if markdown and len(lines) > 3:
        head, body = lines[:2], lines[2:]
        lines = head + ["```diff", *body, "```"] if body else head
    return "\n".join(lines).rstrip() + "\n"


def run(args: argparse.Namespace) -> int:
    from aifactory.commands.common import plan_for

    base = plan_for(argparse.Namespace(source=args.base, stack=args.stack))
    head = plan_for(argparse.Namespace(source=args.head, stack=args.stack))
    d = diff_plans(base, head)
    text = json.dumps(d, indent=2) + "\n" if args.format == "json" else \
        render_diff(d, markdown=args.format == "markdown")
    write_output(text, args.out)
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("diff", help="compare the plans of two blueprints (or plan JSONs)",
                       description="Show what changes between two plans: resources added, "
                       "changed (with the inputs that change) and deleted, and the change in "
                       "GPUs, IT power and cost. Each side is a blueprint YAML or a plan JSON.")
    p.add_argument("base", metavar="BASE", help="blueprint or plan JSON before the change")
    p.add_argument("head", metavar="HEAD", help="blueprint or plan JSON after the change")
    p.add_argument("--stack", metavar="NAME", help="stack whose overrides apply to both sides")
    add_output_args(p, ["text", "json", "markdown"], "text")
    p.set_defaults(func=run)
