"""`aifactory report`: the compliance review in Markdown, HTML and OSCAL for every example.

The OSCAL is loaded and validated by compliance-trestle (its models and all its validators);
the HTML is opened in a real headless Chromium (Debian's package, installed by scripts/setup):
a screenshot shows the verdict banner in its colour, the rendered DOM has every section, and
it prints to A4 pages.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import EXAMPLES, ROOT, over_budget

from aifactory.cli import main
from policies.compliance import crosswalk
from policies.compliance.oscal import control_token
from policies.rules import BY_NAME

TODAY = "2026-02-01"
SECTION_IDS = ["identification", "sign-off", "coverage", "root-causes", "findings", "waivers",
               "method"]
SECTION_TITLES = ["1. Identification", "2. Sign-off summary", "3. Coverage per framework",
                  "4. Root causes", "5. Findings with evidence", "6. Waiver register",
                  "7. Method and limits"]
EXAMPLE_NAMES = sorted(p.stem for p in EXAMPLES.glob("*.yaml"))
CHROMIUM = shutil.which("chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--hide-scrollbars"]
PASSED_GREEN = (0x1E, 0x6B, 0x35)
FAILED_RED = (0xB3, 0x26, 0x1E)


def report(source: Path | str, fmt: str, out: Path) -> tuple[int, str]:
    code = main(["report", str(source), "--format", fmt, "--out", str(out), "--today", TODAY])
    return code, out.read_text(encoding="utf-8") if out.exists() else ""


def failing_hybrid(tmp_path: Path) -> Path:
    """The hybrid example with four servers too many (power-site-budget fails) and a reviewed
    waiver of the feed redundancy that follows from it."""
    data: dict[str, Any] = yaml.safe_load((EXAMPLES / "hybrid.yaml").read_text())
    over_budget(data)
    data["policy"]["waivers"] = [{
        "rule": "power-feed-redundancy", "resource": "dc1",
        "reason": "feed B is upgraded to 400 kW in March", "owner": "facilities@acme",
        "approver": "ciso@acme", "ticket": "FAC-88", "approved": "2026-01-20",
        "expires": "2026-03-31"}]
    path = tmp_path / "hybrid-over.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


# -- every example, every format ----------------------------------------------------------------


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_every_example_gets_all_three_formats(name: str, tmp_path: Path) -> None:
    from trestle.oscal.assessment_results import AssessmentResults

    src = EXAMPLES / f"{name}.yaml"
    for fmt in ("markdown", "html", "oscal"):
        code, text = report(src, fmt, tmp_path / f"{name}.{fmt}")
        assert code == 0, (name, fmt)
        assert text
    md = (tmp_path / f"{name}.markdown").read_text()
    assert [line[3:] for line in md.splitlines() if line.startswith("## ")] == SECTION_TITLES
    assert validate_oscal(tmp_path / f"{name}.oscal")
    (tmp_path / f"{name}.json").write_text((tmp_path / f"{name}.oscal").read_text())
    AssessmentResults.oscal_read(tmp_path / f"{name}.json")


def validate_oscal(path: Path) -> bool:
    """compliance-trestle's model and every validator it registers (duplicates, references,
    links), with no warning."""
    from trestle.common import const
    from trestle.core.validator_factory import validator_factory
    from trestle.oscal.assessment_results import Model

    model = Model.model_validate(json.loads(path.read_text()))
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logging.getLogger("trestle").addHandler(handler)
    try:
        valid = validator_factory.get(argparse.Namespace(mode=const.VAL_MODE_ALL)).model_is_valid(
            model.assessment_results, quiet=False, trestle_root=None)
    finally:
        logging.getLogger("trestle").removeHandler(handler)
    assert not [r.getMessage() for r in records if r.levelno >= logging.WARNING]
    return bool(valid)


# -- what the review says -----------------------------------------------------------------------


def test_identification_names_every_input(tmp_path: Path) -> None:
    src = EXAMPLES / "sovereign-eu.yaml"
    _, md = report(src, "markdown", tmp_path / "r.md")
    rows = dict(re.findall(r"^\| ([^|]+) \| (.*) \|$", md, re.M))
    assert rows["Tool"] == "aifactory 0.1.0"
    assert rows["Blueprint"] == "blueprints/examples/sovereign-eu.yaml"
    assert rows["Blueprint digest"] == "sha256:" + hashlib.sha256(src.read_bytes()).hexdigest()
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True,
                          text=True, check=True).stdout.strip()
    assert rows["Git commit"].startswith(head)
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", rows["Rule set digest"])
    assert rows["Review date"] == TODAY
    assert rows["Jurisdiction"] == "EU"
    assert rows["Accounts and projects"] == "aws:210987654321, gcp:acme-ml-eu"
    assert rows["Regions"] == "aws:eu-north-1, gcp:europe-west4"
    assert rows["Catalog snapshot"].startswith("public instance catalog snapshot")


def test_the_same_inputs_give_the_same_review(tmp_path: Path) -> None:
    a = report(EXAMPLES / "cloud-gcp.yaml", "oscal", tmp_path / "a.json")[1]
    b = report(EXAMPLES / "cloud-gcp.yaml", "oscal", tmp_path / "b.json")[1]
    assert a == b


def test_a_failing_review_shows_findings_evidence_and_the_waiver_register(
        tmp_path: Path) -> None:
    code, md = report(failing_hybrid(tmp_path), "markdown", tmp_path / "r.md")
    assert code == 1
    assert "**FAILED: 1 mandatory violation (2 waived, 0 advisory)**" in md
    # the finding with the inputs that break the rule
    assert ("| dc1 | failed | site dc1: IT load 272 kW x PUE 1.3 = 353.6 kW facility load "
            "exceeds the budget of 300 kW by 53.6 kW (17.9% over) | hosts = 26; itKw = 272.0; "
            "pue = 1.3; facilityKw = 353.6; powerBudgetKw = 300.0; headroomKw = -53.6; "
            "budgetKw = 300.0; overKw = 53.6; headroomPct = -17.9 | waive with resource: dc1 |"
            ) in md
    # what passed, with the inputs that satisfy it
    assert "| dc1/r1 | itKw = 40.8; powerLimitKw = 50.0; hosts = [" in md
    # the raw finding stays next to its waiver; the register names owner and approver
    assert "| dc1 | waived | site dc1: IT load 272 kW does not fit on feed A (250 kW)" in md
    assert ("| W-1 | power-feed-redundancy | high | dc1 | facilities@acme | ciso@acme | "
            "2026-01-20 | 2026-03-31 | FAC-88 | active | dc1 | feed B is upgraded to 400 kW "
            "in March |") in md
    assert ("| A.7.11 | Supporting utilities | not satisfied: a mapped rule fails | "
            "power-site-budget [proposed], power-feed-redundancy [proposed], "
            "power-rack-cooling [proposed] | UPS and generator maintenance and test records |"
            ) in md


def test_coverage_labels_industry_and_proposed_mappings(tmp_path: Path) -> None:
    _, md = report(EXAMPLES / "sovereign-eu.yaml", "markdown", tmp_path / "r.md")
    assert ("| EKS 5.4.2 | Ensure clusters are created with Private Endpoint Enabled and Public "
            "Access Disabled | satisfied by the plan | security-cluster-private-endpoint [K] |  |"
            ) in md
    assert ("| 19.2 | Localisation des données | satisfied by the plan | "
            "sovereignty-resource-region [P], sovereignty-environment-own-site [proposed], "
            "sovereignty-replication-destination [proposed], "
            "sovereignty-telemetry-destination [proposed], sovereignty-key-region [proposed] |  |"
            ) in md
    assert "| Art. 44 | General principle for transfers | satisfied by the plan |" in md
    assert "| Art. 12 | Record-keeping | the plan satisfies it; manual evidence needed |" in md


def test_the_crosswalk_maps_every_rule_to_known_controls() -> None:
    walk = crosswalk()
    assert {m.rule for m in walk.mappings} == set(BY_NAME)
    titles = {f.id: f.title for f in walk.frameworks}
    assert list(titles) == ["iso27001", "nist-800-53", "cis", "c5", "secnumcloud", "gdpr",
                            "ai-act", "data-act"]
    for rule in BY_NAME:
        frameworks = {m.control.framework for m in walk.of_rule(rule)}
        assert {"iso27001", "nist-800-53", "c5"} <= frameworks, rule
    tokens = [control_token(c.framework, c.id) for f in walk.frameworks for c in f.controls]
    assert len(tokens) == len(set(tokens))
    assert control_token("nist-800-53", "CP-2(2)") == "cp-2.2"
    assert control_token("cis", "EKS 5.4.1") == "cis_eks-5.4.1"


def test_oscal_waivers_are_risks_and_people_are_parties(tmp_path: Path) -> None:
    _, text = report(failing_hybrid(tmp_path), "oscal", tmp_path / "r.json")
    assert validate_oscal(tmp_path / "r.json")
    ar = json.loads(text)["assessment-results"]
    parties = {p["name"]: p["uuid"] for p in ar["metadata"]["parties"]}
    assert set(parties) == {"facilities@acme", "ciso@acme"}
    assert {r["role-id"]: r["party-uuids"] for r in ar["metadata"]["responsible-parties"]} == {
        "owner": [parties["facilities@acme"]], "approver": [parties["ciso@acme"]]}
    [risk] = ar["results"][0]["risks"]
    assert risk["status"] == "deviation-approved"
    assert risk["deadline"] == "2026-03-31T23:59:59+00:00"
    [entry] = risk["risk-log"]["entries"]
    assert entry["logged-by"] == [{"party-uuid": parties["ciso@acme"], "role-id": "approver"}]
    findings = {f["target"]["target-id"]: f for f in ar["results"][0]["findings"]}
    assert findings["iso27001-2022_a.7.11"]["target"]["status"]["state"] == "not-satisfied"
    assert findings["pe-11"]["related-risks"] == [{"risk-uuid": risk["uuid"]}]
    assert findings["sa-9.5"]["target"]["status"]["state"] == "satisfied"
    props = {p["name"]: p["value"] for p in ar["metadata"]["props"]}
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", props["rules-digest"])


# -- the HTML in a real browser -----------------------------------------------------------------


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if key in ("src", "href") and value and not value.startswith("#"):
                self.external.append(f"<{tag} {key}={value}>")


def chromium(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                           *args], capture_output=True, text=True, timeout=120, check=False)


def test_the_html_is_one_self_contained_file(tmp_path: Path) -> None:
    _, page = report(failing_hybrid(tmp_path), "html", tmp_path / "r.html")
    parser = _Assets()
    parser.feed(page)
    assert parser.external == []
    assert "@import" not in page and "url(" not in page
    assert "@media print" in page and "@page" in page


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (scripts/setup "
                    "installs it)")
@pytest.mark.parametrize(("failing", "colour"), [(True, FAILED_RED), (False, PASSED_GREEN)],
                         ids=["failing", "passing"])
def test_chromium_renders_the_review(tmp_path: Path, failing: bool,
                                     colour: tuple[int, int, int]) -> None:
    from PIL import Image

    source = failing_hybrid(tmp_path) if failing else EXAMPLES / "sovereign-eu.yaml"
    report(source, "html", tmp_path / "review.html")
    url = (tmp_path / "review.html").as_uri()
    shot = tmp_path / "shot.png"
    done = chromium("--window-size=1280,1600", f"--screenshot={shot}", url, tmp_path=tmp_path)
    assert shot.exists(), done.stderr
    image = Image.open(shot).convert("RGB")
    assert image.size == (1280, 1600)
    pixels = list(image.get_flattened_data())
    banner = sum(1 for p in pixels if all(abs(p[i] - colour[i]) <= 6 for i in range(3)))
    assert banner > 30_000, banner  # the verdict banner, ~1070 x 43 px, in the verdict's colour
    white = sum(1 for p in pixels if p == (255, 255, 255))
    assert 0.4 < white / len(pixels) < 0.98  # a page with text on it, not blank, not a blot
    assert len(set(pixels)) > 50  # anti-aliased text

    dom = chromium("--dump-dom", url, tmp_path=tmp_path).stdout
    for section, title in zip(SECTION_IDS, SECTION_TITLES, strict=True):
        assert re.search(rf'<section id="{section}"><h2>{re.escape(title)}</h2>', dom), section

    pdf = tmp_path / "review.pdf"
    chromium("--no-pdf-header-footer", f"--print-to-pdf={pdf}", url, tmp_path=tmp_path)
    data = pdf.read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page\b", data))
    assert pages >= 3, pages
    assert re.search(rb"/MediaBox\s*\[\s*0 0 59[45](\.\d+)? 84[12](\.\d+)?\s*\]", data)  # A4
