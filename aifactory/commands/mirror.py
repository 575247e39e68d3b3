"""`aifactory mirror lock BLUEPRINT`: what a sovereign factory must mirror, and how.

Prints every image the factory's charts pull, at the tag its pinned chart version pulls, as a
shell script: copy the charts and the images into the mirror (`helm pull`/`helm push`,
`crane copy`), then print the lock for `sovereignty.mirror.images` from `crane digest` of each
mirrored copy. `--format yaml` prints the lock alone (digests the blueprint already has for the
same reference are kept; the others read sha256:<digest>).

The blueprint is read without its lock, so a stale or missing lock does not stop this command:
everything else in the blueprint is checked as usual.
"""

from __future__ import annotations

import argparse
import copy
from typing import Any

from aifactory.commands.common import write_output

PLACEHOLDER = "<registry>"


def lock_plan(source: str) -> dict[str, Any]:
    """The charts and images a blueprint's factory mirrors, from its file (lock set aside)."""
    from blueprints.spec.loader import read_yaml, validate
    from catalog.charts import CHARTS, TRIVY_DATABASES, images_of
    from policies.rules import KNOWN_RULES

    data, lines = read_yaml(source)
    raw_mirror: dict[str, Any] = {}
    if isinstance(data, dict) and isinstance(data.get("sovereignty"), dict):
        data = copy.deepcopy(data)
        found = data["sovereignty"].pop("mirror", None)
        raw_mirror = found if isinstance(found, dict) else {}
    spec = validate(data, lines, source, rules=KNOWN_RULES)
    named = raw_mirror.get("registry")
    registry = (named if isinstance(named, str) else PLACEHOLDER).rstrip("/")
    named_charts = raw_mirror.get("charts")
    charts_path = named_charts if isinstance(named_charts, str) else f"oci://{registry}/charts"
    found_images = raw_mirror.get("images")
    held: dict[str, Any] = found_images if isinstance(found_images, dict) else {}
    names = spec.platform_charts()
    images: dict[str, str] = {}
    for name in spec.platform_image_sets():
        for image in images_of(name):
            images.setdefault(image.upstream, image.default_tag)
    found_overrides = raw_mirror.get("tag_overrides")
    overrides: dict[str, Any] = found_overrides if isinstance(found_overrides, dict) else {}
    for ref in held:
        repo, _, tag = str(ref).rpartition(":")
        if repo in overrides and repo in images:
            images[repo] = tag  # locked on purpose at another tag
    refs = [f"{repo}:{tag}" for repo, tag in sorted(images.items())]
    databases: list[tuple[str, str]] = []
    site = spec.registry.site if spec.registry is not None else None
    if site is not None:  # Trivy scans offline from copies inside the site
        for field, upstream in TRIVY_DATABASES.items():
            target = getattr(site, field)
            if target is not None:
                databases.append((upstream, f"{target}:{upstream.rpartition(':')[2]}"))
    return {
        "factory": spec.name, "registry": registry, "charts": charts_path.rstrip("/"),
        "chartRefs": [CHARTS[n] for n in names if n in CHARTS and CHARTS[n].installed],
        "images": refs, "databases": databases,
        "lock": {ref: str(held.get(ref) or "sha256:<digest>") for ref in refs},
        "overrides": sorted(r for r in overrides if r in images),
    }


def script(plan: dict[str, Any]) -> str:
    """The mirroring steps as a shell script that ends by printing the lock."""
    reg, charts = plan["registry"], plan["charts"]
    out = [
        "#!/usr/bin/env bash",
        f"# Mirror of factory {plan['factory']}: its charts and every image they pull, at the "
        "tags the pinned chart versions pull.",
        "# Charts: " + ", ".join(f"{c.name} {c.version}" for c in plan["chartRefs"]) + ".",
        f"# Registry: {reg} (sovereignty.mirror.registry); charts under {charts}.",
    ]
    if reg == PLACEHOLDER:
        out.append("# The blueprint names no mirror yet: replace <registry> with your "
                   "in-jurisdiction registry and set it as sovereignty.mirror.registry.")
    if plan["overrides"]:
        out.append("# Locked on purpose at another tag (sovereignty.mirror.tag_overrides): "
                   + ", ".join(plan["overrides"]) + ".")
    out += ["set -euo pipefail", "", "# 1. The charts, at their pinned versions"]
    for c in plan["chartRefs"]:
        if c.repository is None:  # already an OCI artifact: copy it as one
            out.append(f"crane copy {c.chart.removeprefix('oci://')}:{c.version} "
                       f"{charts.removeprefix('oci://')}/{c.name}:{c.version}")
        else:
            out += [f"helm pull {c.name} --repo {c.repository} --version {c.version}",
                    f"helm push {c.name}-{c.version}.tgz {charts}"]
    out += ["", "# 2. Every image, its upstream reference kept below the mirror"]
    out += [f"crane copy {ref} {reg}/{ref}" for ref in plan["images"]]
    out += ["", "# 3. The lock for sovereignty.mirror.images: the digest of each mirrored copy",
            'echo "    images:"']
    out += [f'echo "      {ref}: $(crane digest {reg}/{ref})"' for ref in plan["images"]]
    if plan["databases"]:
        out += ["", "# 4. Trivy's vulnerability databases, for the site registry's offline scans "
                "(refresh them as often as the scans should be current)"]
        out += [f"oras copy {upstream} {target}" for upstream, target in plan["databases"]]
    return "\n".join(out) + "\n"


def lock_yaml(plan: dict[str, Any]) -> str:
    """The lock alone, as it goes under sovereignty.mirror."""
    return "images:\n" + "".join(f"  {ref}: {digest}\n" for ref, digest in plan["lock"].items())


def run(args: argparse.Namespace) -> int:
    plan = lock_plan(args.blueprint)
    write_output(lock_yaml(plan) if args.format == "yaml" else script(plan), args.out)
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("mirror", help="what a sovereign factory mirrors, and how",
                       description="Help with the in-jurisdiction mirror of a sovereign "
                       "factory's charts and images.")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    lock = actions.add_parser(
        "lock", help="print the images the factory's charts pull and the commands to mirror "
        "and pin them",
        description="Print every image the factory's charts pull, at the tags their pinned "
        "versions pull, as a script: copy the charts and images into the mirror (helm, "
        "crane copy), then print the lock for sovereignty.mirror.images (crane digest). The "
        "blueprint's own lock is not needed (a stale one is what this fixes).")
    lock.add_argument("blueprint", metavar="BLUEPRINT", help="blueprint YAML")
    lock.add_argument("--format", choices=["script", "yaml"], default="script",
                      help="script (default): the commands; yaml: the lock alone")
    lock.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")
    lock.set_defaults(func=run)
