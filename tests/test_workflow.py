"""The pull-request workflow and dependabot configuration pass zizmor (offline, its strictest
persona) with no finding, and GitHub's schemas (check-jsonschema's vendored copies)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import yaml
from conftest import ROOT

BIN = ROOT / ".venv" / "bin"
GITHUB = ROOT / ".github"
WORKFLOW = GITHUB / "workflows" / "pull-request.yml"


def test_zizmor_finds_nothing() -> None:
    for persona in ("regular", "auditor"):
        done = subprocess.run([str(BIN / "zizmor"), "--offline", f"--persona={persona}",
                               "--format=json", str(GITHUB)], capture_output=True, text=True,
                              timeout=120, check=False)
        assert json.loads(done.stdout) == [], (persona, done.stdout[:2000])
        assert done.returncode == 0, done.stderr


def test_workflow_and_dependabot_match_githubs_schemas() -> None:
    for schema, path in (("vendor.github-workflows", WORKFLOW),
                         ("vendor.dependabot", GITHUB / "dependabot.yml")):
        done = subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema", schema,
                               str(path)], capture_output=True, text=True, timeout=120,
                              check=False)
        assert done.returncode == 0, done.stdout + done.stderr


def test_actions_are_pinned_and_jobs_hold_only_their_permissions() -> None:
    text = WORKFLOW.read_text()
    uses = re.findall(r"uses: (\S+)(.*)", text)
    assert uses
    for ref, comment in uses:
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref), ref
        assert re.fullmatch(r" # v\d+\.\d+\.\d+", comment), (ref, comment)
    doc = yaml.safe_load(text)
    assert doc["permissions"] == {}
    for name, job in doc["jobs"].items():
        assert "permissions" in job, name
        assert set(job["permissions"].values()) <= {"read", "write"}, name
        for step in job["steps"]:
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, name


def test_dependabot_updates_actions_and_pip() -> None:
    config = yaml.safe_load((GITHUB / "dependabot.yml").read_text())
    assert {u["package-ecosystem"] for u in config["updates"]} == {"github-actions", "pip"}


def test_the_workflow_builds_the_base_with_its_own_code_and_checks_in_one_process() -> None:
    steps = [s.get("run", "") for s in yaml.safe_load(WORKFLOW.read_text())["jobs"]["offline"]
             ["steps"]]
    assert any("scripts/base-plans out/base-tree out/base" in s for s in steps)
    assert ".venv/bin/aifactory pr blueprints/examples/*.yaml --out out --base out/base" \
        in steps
    assert not any("${{" in s for s in steps)  # values reach scripts through env, never inline
    assert Path(ROOT / "scripts" / "base-plans").stat().st_mode & 0o111
