"""`aifactory report`: the compliance review a reviewer signs (Markdown, HTML or OSCAL).

The same check as `aifactory check` (waivers that cover nothing are load errors here too),
written as a review: identification of every input, sign-off summary, coverage per framework,
findings with the evidence that satisfies or breaks each rule, root causes, the waiver
register, and the method and its limits. Exit codes as `check`: 0 passed, 1 a mandatory rule
fails (the review is written either way), 2 bad input.
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from typing import Any

from aifactory.commands.check import RENDER, _today, check_sources
from aifactory.commands.common import add_output_args, add_sources_args, sources_for, write_outputs

SUFFIXES = {"markdown": ".review.md", "html": ".review.html", "oscal": ".oscal.json"}


def render_review(review: Any, fmt: str) -> str:
    """The review in format `fmt` (markdown, html, oscal)."""
    from policies.compliance.oscal import assessment_results
    from policies.compliance.render import html_page, markdown

    if fmt == "oscal":
        return json.dumps(assessment_results(review), indent=2, ensure_ascii=False) + "\n"
    return html_page(review) if fmt == "html" else markdown(review)


def run(args: argparse.Namespace) -> int:
    from policies.compliance.review import build
    from policies.engine import evidence

    today = args.today or date.today()
    checked = check_sources(sources_for(args), args.manifests, today)
    texts = {}
    for source, view, result in checked:
        review = build(source.plan, result, evidence(view), blueprint_file=source.blueprint_file,
                       today=today)
        texts[source.name] = render_review(review, args.format)
    write_outputs(texts, args.out, SUFFIXES[args.format])
    return max(result.exit_code() for _, _, result in checked)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "report", help="write the compliance review (Markdown, HTML or OSCAL)",
        description="Check each blueprint (or plan JSON) and write the compliance review a "
        "reviewer signs: identification (tool, rule-set, blueprint and plan digests, commit, "
        "catalog snapshot, scope), sign-off summary, coverage of ISO 27001, NIST 800-53, CIS, "
        "C5, SecNumCloud, GDPR, the AI Act and the Data Act, findings with evidence, root "
        "causes, the waiver register, method and limits. html is one self-contained file that "
        "prints; oscal is OSCAL 1.2 assessment results.")
    add_sources_args(p, plan_json=True)
    add_output_args(p, ["markdown", "html", "oscal"], "markdown")
    p.add_argument("--manifests", metavar="DIR", nargs="?", const=RENDER,
                   help="also run the manifest checks (as `check --manifests`)")
    p.add_argument("--today", type=_today, default=None, metavar="YYYY-MM-DD",
                   help="the review date; waivers are judged as of it (default: today)")
    p.set_defaults(func=run)
