"""The base of a pull request is planned with the base's own code (scripts/base-plans).

A pull request that changes only a component must show that change: the head's installed
`aifactory` imports the head's code from any folder, so the base tree is put first on the
path (and checked to be what runs)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from conftest import ROOT

from aifactory.cli import main

ONE_LINE = "retention_in_days=args.log_retention_days,"


def base_tree(tmp_path: Path) -> Path:
    """A copy of this checkout's files (what `git worktree add` of the base would give) whose
    EKS component keeps control-plane logs 7 days whatever the blueprint says."""
    files = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-co", "--exclude-standard"],
                           capture_output=True, text=True, check=True).stdout.split()
    base = tmp_path / "base-tree"
    for name in files:
        if (ROOT / name).is_file() and not name.startswith("tests/"):
            (base / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, base / name)
    component = base / "components" / "aws" / "eks_cluster.py"
    text = component.read_text()
    assert ONE_LINE in text
    component.write_text(text.replace(ONE_LINE, "retention_in_days=7,"))
    return base


def test_a_code_only_change_shows_in_the_comment(tmp_path: Path) -> None:
    base = base_tree(tmp_path)
    plans = tmp_path / "base"
    done = subprocess.run([str(ROOT / "scripts" / "base-plans"), str(base), str(plans),
                           "blueprints/examples/cloud-aws.yaml"], capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in plans.iterdir()) == ["cloud-aws.check.json",
                                                        "cloud-aws.plan.json"]
    out = tmp_path / "out"
    assert main(["pr", str(ROOT / "blueprints" / "examples" / "cloud-aws.yaml"), "--out",
                 str(out), "--base", str(plans), "--no-manifests"]) == 0
    comment = (out / "comment.md").read_text()
    assert "| cloud-aws | ✅ passed | 0 / 0 | +0 ~1 -0 |" in comment
    assert "~ aws:cloudwatch/logGroup:LogGroup aws-prod-eks-control-plane-logs\n" \
           "    retentionInDays: 7 -> 365\n" in comment


def test_the_installed_command_would_have_compared_the_head_with_itself(
        tmp_path: Path) -> None:
    # what the workflow did before: the head's console script, run inside the base tree
    base = base_tree(tmp_path)
    plan = tmp_path / "plan.json"
    subprocess.run([str(ROOT / ".venv" / "bin" / "aifactory"), "plan",
                    "blueprints/examples/cloud-aws.yaml", "--format", "json", "--out",
                    str(plan)], cwd=base, check=True, capture_output=True, timeout=300)
    text = plan.read_text()  # the head's code, not the base's: both log groups keep 365 days
    assert text.count('"retentionInDays": 365') == 2 and '"retentionInDays": 7' not in text
