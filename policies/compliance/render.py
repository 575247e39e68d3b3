"""The compliance review as Markdown and as one self-contained HTML file that prints well."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import Any

from policies.compliance.review import CONTROL_STATUS_TEXT, Review, provenance_text
from policies.model import SEVERITIES, Evidence, Violation

STATUS_ORDER = ("passed", "failed", "waived", "waiver-expired", "advisory", "not-applicable",
                "manual")
STATUS_TEXT = {
    "passed": "rules passed", "failed": "rules failed", "waived": "rules waived",
    "waiver-expired": "rules failing because a waiver expired", "advisory": "rules advisory",
    "not-applicable": "rules not applicable", "manual": "controls needing manual evidence",
}
SECTIONS = [("identification", "1. Identification"), ("sign-off", "2. Sign-off summary"),
            ("coverage", "3. Coverage per framework"), ("root-causes", "4. Root causes"),
            ("findings", "5. Findings with evidence"), ("waivers", "6. Waiver register"),
            ("method", "7. Method and limits")]


def _value(v: Any) -> str:
    if isinstance(v, str):
        return v
    return json.dumps(v, sort_keys=True, ensure_ascii=False)


def inputs_text(inputs: Mapping[str, Any]) -> str:
    """Inputs as `path = value; ...` (values whole, as the plan holds them)."""
    return "; ".join(f"{k} = {_value(v)}" for k, v in inputs.items()) or "(no inputs)"


def identification_rows(review: Review) -> list[tuple[str, str]]:
    i = review.identification
    state = "the blueprint is as committed" if i.commit_clean else \
        "the blueprint differs from this commit"
    commit = "not in a git repository" if i.commit is None else f"{i.commit} ({state})"
    s = i.scope
    return [
        ("Report id", i.report_id),
        ("Tool", f"{i.tool} {i.tool_version}"),
        ("Rule set digest", f"sha256:{i.rules_digest}"),
        ("Crosswalk digest", f"sha256:{i.crosswalk_digest}"),
        ("Blueprint", i.blueprint),
        ("Blueprint digest", f"sha256:{i.blueprint_digest}" if i.blueprint_digest
         else "the blueprint file was not found: the plan digest identifies the input"),
        ("Git commit", commit),
        ("Plan digest", f"sha256:{i.plan_digest}"),
        ("Catalog snapshot", i.catalog_snapshot or "not stated"),
        ("Review date", i.date.isoformat()),
        ("Factory", i.factory + (f" (stack {i.stack})" if i.stack else "")),
        ("Jurisdiction", s.jurisdiction or "none declared"),
        ("Clouds", ", ".join(s.clouds) or "none"),
        ("Accounts and projects", ", ".join(s.accounts) or "none"),
        ("Regions", ", ".join(s.regions) or "none"),
        ("Sites", ", ".join(s.sites) or "none"),
        ("Frameworks", "; ".join(i.frameworks)),
    ]


def _mapped(rules: list[tuple[str, str, str | None]]) -> str:
    return ", ".join(f"{r} [{p}]" for r, p, _ in rules)


def _waiver_of(v: Violation) -> str:
    if v.waiver is None:
        return f"waive with resource: {v.waive_with}"
    w = v.waiver
    return (f"W-{w.index + 1} by {w.owner}, approved by {w.approver or 'nobody'}, "
            f"{'expired' if v.waiver_expired else 'valid'} through {w.expires.isoformat()}")


def _finding_inputs(v: Violation, evidence: Mapping[str, Evidence]) -> str:
    found = evidence.get(v.subject)
    figures = dict(v.finding.details)
    if found is not None:
        figures = {**found.inputs, **{k: x for k, x in figures.items() if k not in found.inputs}}
    return inputs_text(figures)


# -- Markdown -----------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return out + [""]


def markdown(review: Review) -> str:
    """The review as Markdown."""
    i = review.identification
    out = [f"# Compliance review: {i.factory} ({i.blueprint})", "",
           f"**{review.verdict}** — review of {i.date.isoformat()}", ""]
    out += [f"## {SECTIONS[0][1]}", ""]
    out += _table(["Item", "Value"], [list(r) for r in identification_rows(review)])
    out += [f"## {SECTIONS[1][1]}", "", f"**Verdict: {review.verdict}**", ""]
    out += _table(["Status", "Count"], [[STATUS_TEXT[s], review.counts_by_status.get(s, 0)]
                                        for s in STATUS_ORDER])
    states = [s for s in STATUS_ORDER if s != "manual"]
    out += _table(["Severity", *states],
                  [[sev, *[review.counts_by_severity.get(sev, {}).get(s, 0) for s in states]]
                   for sev in SEVERITIES])
    out += ["Reviewer sign-off:", ""]
    out += _table(["Name", "Role", "Date", "Decision", "Signature"],
                  [["", "", "", "accepted / accepted with conditions / rejected", ""]])
    out += [f"## {SECTIONS[2][1]}", ""]
    for fw, rows in review.coverage:
        counts: dict[str, int] = {}
        for c in rows:
            counts[c.status] = counts.get(c.status, 0) + 1
        out += [f"### {fw.title}", "", f"Source of ids and titles: {fw.source}.", "",
                "Controls: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
                + ".", ""]
        out += _table(["Control", "Title", "Status", "Rules [provenance]", "Manual evidence"],
                      [[c.control.id, c.control.title + (" (short description)"
                                                         if c.control.short else ""),
                        CONTROL_STATUS_TEXT[c.status], _mapped(c.rules),
                        c.control.manual or ""] for c in rows])
    out += ["Provenance: " + "; ".join(f"**{k}** {provenance_text(k)}"
                                       for k in ("P", "K", "X", "proposed")) + ".", ""]
    out += [f"## {SECTIONS[3][1]}", ""]
    if review.groups:
        out += _table(["Cause", "Severity", "Status", "Violations", "Rules", "Fix",
                       "Affected resources"],
                      [[f"{g.cause.setting} = {g.cause.value}: {g.cause.problem}", g.severity,
                        g.status, len(g.violations), ", ".join(g.rules), g.cause.fix,
                        ", ".join(dict.fromkeys(v.subject for v in g.violations))]
                       for g in review.groups])
    else:
        out += ["No setting causes more than one violation.", ""]
    out += [f"## {SECTIONS[4][1]}", ""]
    for sec in review.sections:
        r = sec.rule
        out += [f"### `{r.name}`: {sec.state}", "",
                f"{r.severity}, {r.enforcement}. {r.description}", "",
                f"Remediation: {r.remediation}", ""]
        if sec.controls:
            out += ["Controls: " + ", ".join(f"{c.framework} {c.id} [{p}]"
                                             for c, p in sec.controls), ""]
        if sec.violations:
            out += _table(["Resource", "Status", "Finding", "Inputs", "Waiver"],
                          [[v.subject, v.status, v.finding.message,
                            _finding_inputs(v, sec.evidence_of), _waiver_of(v)]
                           for v in sec.violations])
        if sec.passing:
            out += [f"<details><summary>{len(sec.passing)} examined and satisfied</summary>",
                    ""]
            out += _table(["Resource", "Inputs"], [[e.subject, inputs_text(e.inputs)]
                                                   for e in sec.passing])
            out += ["</details>", ""]
        elif not sec.violations:
            out += ["Nothing to examine on this plan." if sec.state != "not-applicable"
                    else "Not applicable to this factory.", ""]
    out += [f"## {SECTIONS[5][1]}", ""]
    if review.waivers:
        out += _table(["Id", "Rule", "Severity", "Resource", "Owner", "Approver", "Approved",
                       "Expires", "Ticket", "Status", "Covers", "Reason"],
                      [[w.id, w.rule, w.severity, w.resource, w.owner, w.approver,
                        w.approved.isoformat() if w.approved else "", w.expires.isoformat(),
                        w.ticket, w.status, ", ".join(w.covers), w.reason]
                       for w in review.waivers])
    else:
        out += ["The blueprint declares no waivers.", ""]
    out += [f"## {SECTIONS[6][1]}", ""]
    out += [f"- {m}" for m in review.method] + [""]
    for note in review.result.notes:
        out += [f"> {note}", ""]
    return "\n".join(out)


# -- HTML ---------------------------------------------------------------------------------------

CSS = """
:root { --fail: #b3261e; --pass: #1e6b35; --warn: #8a5a00; --ink: #1b1b1f; --rule: #c9c9d1; }
* { box-sizing: border-box; }
body { font: 10.5pt/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--ink); margin: 24px auto; max-width: 1100px; padding: 0 16px; }
h1 { font-size: 18pt; margin: 0 0 4px; }
h2 { font-size: 14pt; border-bottom: 2px solid var(--ink); padding-bottom: 2px;
     margin-top: 28px; }
h3 { font-size: 11.5pt; margin: 18px 0 6px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; }
th, td { border: 1px solid var(--rule); padding: 3px 6px; text-align: left;
         vertical-align: top; overflow-wrap: anywhere; }
th { background: #efeff3; overflow-wrap: normal; }
td:first-child { min-width: 7em; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
code, .inputs { font: 9pt/1.35 ui-monospace, SFMono-Regular, Menlo, monospace; }
.banner { padding: 10px 14px; color: #fff; font-weight: 600; font-size: 12pt;
          margin: 10px 0 16px; }
.banner.failed { background: var(--fail); } .banner.passed { background: var(--pass); }
.state-failed, .st-not-satisfied { color: var(--fail); font-weight: 600; }
.state-passed, .st-satisfied { color: var(--pass); }
.state-waived, .st-waived, .st-partial, .st-manual, .state-advisory { color: var(--warn); }
.sign td { height: 34px; }
table.kv th:first-child, table.kv td:first-child { width: 11em; overflow-wrap: normal; }
.muted { color: #5b5b66; }
details > summary { cursor: pointer; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { margin: 0; max-width: none; font-size: 9pt; }
  h2 { break-before: auto; break-after: avoid; } h3 { break-after: avoid; }
  .banner { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  details > summary { display: none; }
}
"""


def _h(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _html_table(header: list[str], rows: list[list[Any]], cls: str = "") -> str:
    head = "".join(f"<th>{_h(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c if isinstance(c, Raw) else _h(c)}</td>"
                                    for c in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


class Raw(str):
    """Markup already escaped."""


def _span(cls: str, text: str) -> Raw:
    return Raw(f'<span class="{_h(cls)}">{_h(text)}</span>')


def _code(text: str) -> Raw:
    return Raw(f'<span class="inputs">{_h(text)}</span>')


def html_page(review: Review) -> str:
    """The review as one self-contained HTML file (no external assets), for screen and print."""
    i = review.identification
    verdict_cls = "passed" if review.result.passed else "failed"
    parts = [f"<h1>Compliance review: {_h(i.factory)}</h1>",
             f'<p class="muted">{_h(i.blueprint)} — review of {_h(i.date.isoformat())}</p>',
             f'<div class="banner {verdict_cls}" id="verdict">{_h(review.verdict)}</div>']
    sec = dict(SECTIONS)
    parts.append(f'<section id="identification"><h2>{sec["identification"]}</h2>'
                 + _html_table(["Item", "Value"], [[k, _code(v) if "digest" in k.lower()
                                                    or k == "Report id" else v]
                                                   for k, v in identification_rows(review)],
                                 "kv")
                 + "</section>")
    states = [s for s in STATUS_ORDER if s != "manual"]
    parts.append(
        f'<section id="sign-off"><h2>{sec["sign-off"]}</h2>'
        f'<p><strong>Verdict: {_h(review.verdict)}</strong></p>'
        + _html_table(["Status", "Count"], [[STATUS_TEXT[s], review.counts_by_status.get(s, 0)]
                                            for s in STATUS_ORDER])
        + _html_table(["Severity", *states],
                      [[sev, *[review.counts_by_severity.get(sev, {}).get(s, 0)
                               for s in states]] for sev in SEVERITIES])
        + "<h3>Reviewer</h3>"
        + _html_table(["Name", "Role", "Date", "Decision", "Signature"],
                      [["", "", "", "accepted / accepted with conditions / rejected", ""]],
                      "sign")
        + "</section>")
    cov = [f'<section id="coverage"><h2>{sec["coverage"]}</h2>']
    for fw, rows in review.coverage:
        cov.append(f"<h3>{_h(fw.title)}</h3><p class=\"muted\">Source of ids and titles: "
                   f"{_h(fw.source)}.</p>")
        cov.append(_html_table(
            ["Control", "Title", "Status", "Rules [provenance]", "Manual evidence"],
            [[c.control.id, c.control.title + (" (short description)" if c.control.short
                                               else ""),
              _span(f"st-{c.status}", CONTROL_STATUS_TEXT[c.status]), _mapped(c.rules),
              c.control.manual or ""] for c in rows]))
    cov.append("<p>Provenance: " + "; ".join(f"<strong>{k}</strong> {_h(provenance_text(k))}"
                                             for k in ("P", "K", "X", "proposed"))
               + ".</p></section>")
    parts.append("".join(cov))
    if review.groups:
        causes = _html_table(
            ["Cause", "Severity", "Status", "Violations", "Rules", "Fix", "Affected resources"],
            [[f"{g.cause.setting} = {g.cause.value}: {g.cause.problem}", g.severity, g.status,
              len(g.violations), ", ".join(g.rules), g.cause.fix,
              ", ".join(dict.fromkeys(v.subject for v in g.violations))]
             for g in review.groups])
    else:
        causes = "<p>No setting causes more than one violation.</p>"
    parts.append(f'<section id="root-causes"><h2>{sec["root-causes"]}</h2>{causes}</section>')
    found = [f'<section id="findings"><h2>{sec["findings"]}</h2>']
    for s in review.sections:
        r = s.rule
        found.append(f'<h3 id="rule-{_h(r.name)}"><code>{_h(r.name)}</code>: '
                     f'{_span(f"state-{s.state}", s.state)}</h3>')
        found.append(f"<p>{_h(r.severity)}, {_h(r.enforcement)}. {_h(r.description)}<br>"
                     f"Remediation: {_h(r.remediation)}</p>")
        if s.controls:
            found.append("<p class=\"muted\">Controls: " + _h(", ".join(
                f"{c.framework} {c.id} [{p}]" for c, p in s.controls)) + "</p>")
        if s.violations:
            found.append(_html_table(
                ["Resource", "Status", "Finding", "Inputs", "Waiver"],
                [[v.subject, _span(f"state-{v.status}", v.status), v.finding.message,
                  _code(_finding_inputs(v, s.evidence_of)), _waiver_of(v)]
                 for v in s.violations]))
        if s.passing:
            found.append(f"<details open><summary>{len(s.passing)} examined and satisfied"
                         "</summary>" + _html_table(["Resource", "Inputs"], [
                             [e.subject, _code(inputs_text(e.inputs))] for e in s.passing])
                         + "</details>")
        elif not s.violations:
            found.append("<p class=\"muted\">" + ("Not applicable to this factory."
                                                  if s.state == "not-applicable" else
                                                  "Nothing to examine on this plan.") + "</p>")
    found.append("</section>")
    parts.append("".join(found))
    if review.waivers:
        register = _html_table(
            ["Id", "Rule", "Severity", "Resource", "Owner", "Approver", "Approved", "Expires",
             "Ticket", "Status", "Covers", "Reason"],
            [[w.id, w.rule, w.severity, w.resource, w.owner, w.approver,
              w.approved.isoformat() if w.approved else "", w.expires.isoformat(), w.ticket,
              w.status, ", ".join(w.covers), w.reason] for w in review.waivers])
    else:
        register = "<p>The blueprint declares no waivers.</p>"
    parts.append(f'<section id="waivers"><h2>{sec["waivers"]}</h2>{register}</section>')
    notes = "".join(f"<p class=\"muted\">{_h(n)}</p>" for n in review.result.notes)
    parts.append(f'<section id="method"><h2>{sec["method"]}</h2><ul>'
                 + "".join(f"<li>{_h(m)}</li>" for m in review.method) + f"</ul>{notes}"
                 "</section>")
    title = f"Compliance review: {i.factory} ({i.blueprint})"
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{_h(title)}</title>"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<style>{CSS}</style></head><body>\n" + "\n".join(parts) + "\n</body></html>\n")
