"""Drift watch of the features table with Evidently: the newest window of rows against the days
before it. Writes the share of drifted columns and the share of missing values to
/tmp/drift_share and /tmp/missing_share, which the workflow emits as Prometheus metrics
(argo_workflows_lakehouse_feature_drift_share, ..._missing_share) from the controller's
metrics endpoint; the factory's Prometheus scrapes it and alerts the owning team."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from evidently import Report
from evidently.metrics import DatasetMissingValueCount, DriftedColumnsCount
from pyiceberg.catalog import load_catalog
from pyiceberg.expressions import GreaterThanOrEqual


def _value(result: dict[str, Any], metric: str, key: str) -> float:
    """One figure of a metric in Evidently's snapshot (its `metrics` list, by metric id)."""
    for m in result["metrics"]:
        if str(m.get("metric_id", "")).startswith(metric):
            value = m["value"]
            return float(value[key] if isinstance(value, dict) else value)
    raise KeyError(f"{metric} is not in the report")


def main() -> None:
    catalog = load_catalog("lakehouse")
    table = catalog.load_table((os.environ["FEATURES_NAMESPACE"], os.environ["TABLE"]))
    now = dt.datetime.now(dt.UTC)
    split = now - dt.timedelta(hours=int(os.environ["CURRENT_HOURS"]))
    start = split - dt.timedelta(days=int(os.environ["REFERENCE_DAYS"]))
    rows = table.scan(row_filter=GreaterThanOrEqual("day", start.isoformat())).to_pandas()
    reference = rows[rows["day"] < split].drop(columns=["day"])
    current = rows[rows["day"] >= split].drop(columns=["day"])
    snapshot = Report([DriftedColumnsCount(), DatasetMissingValueCount()]).run(
        current_data=current, reference_data=reference)
    result = snapshot.dict()
    drift = _value(result, "DriftedColumnsCount", "share")
    missing = _value(result, "DatasetMissingValueCount", "share")
    for path, figure in (("/tmp/drift_share", drift), ("/tmp/missing_share", missing)):
        with open(path, "w", encoding="utf-8") as out:
            out.write(f"{figure:.6f}")
    print(f"drifted columns: {drift:.1%}, missing values: {missing:.1%} "
          f"({len(current)} current rows against {len(reference)} reference rows)")


if __name__ == "__main__":
    main()
