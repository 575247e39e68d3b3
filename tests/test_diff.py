"""`aifactory diff`: added, changed (with paths), removed (protected flagged), summary deltas."""

from __future__ import annotations

import copy
from typing import Any

from aifactory.commands.diff import diff_plans, render_diff


def _res(name: str, inputs: dict[str, Any], protect: bool = False) -> dict[str, Any]:
    return {"urn": f"urn:pulumi:s::p::t::{name}", "type": "aws:s3/bucket:Bucket", "name": name,
            "parent": None, "custom": True, "protect": protect, "inputs": inputs}


BASE: dict[str, Any] = {
    "summary": {"resourceCount": 2, "gpusByModel": {"h100-sxm5": 16}, "itKwDesired": 12.0,
                "cloudUsdPerHourDesired": 110.08},
    "resources": [_res("raw", {"tags": {"a": "1"}, "versioning": True}, protect=True),
                  _res("old", {"x": 1})],
}


def test_diff_reports_each_kind_of_change() -> None:
    head = copy.deepcopy(BASE)
    head["resources"][0]["inputs"]["tags"]["a"] = "2"
    head["resources"][1] = _res("new", {"y": 2})
    head["summary"]["gpusByModel"] = {"h100-sxm5": 24}
    d = diff_plans(BASE, head)
    assert [r["name"] for r in d["added"]] == ["new"]
    assert [(r["name"], r["protect"]) for r in d["removed"]] == [("old", False)]
    assert d["changed"][0]["changes"] == [{"path": "tags.a", "before": "1", "after": "2"}]
    assert d["summary"] == {"gpusByModel": {"before": {"h100-sxm5": 16},
                                            "after": {"h100-sxm5": 24}}}
    text = render_diff(d, markdown=False)
    assert text.splitlines()[0] == "Plan diff: 1 to add, 1 to change, 1 to delete"
    assert "    tags.a: \"1\" -> \"2\"" in text


def test_deleting_a_protected_resource_is_called_out() -> None:
    head = copy.deepcopy(BASE)
    head["resources"] = head["resources"][1:]
    md = render_diff(diff_plans(BASE, head), markdown=True)
    assert "**1 protected resource(s) would be deleted" in md
    assert "```diff" in md


def test_no_change() -> None:
    d = diff_plans(BASE, copy.deepcopy(BASE))
    assert d == {"added": [], "removed": [], "changed": [], "summary": {}}
    assert render_diff(d, markdown=False) == "Plan diff: 0 to add, 0 to change, 0 to delete\n"
