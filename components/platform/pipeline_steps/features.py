"""Pipeline step curated -> features: per day, the row count and the mean of every numeric
column of the curated table, written over the features table (created on first run)."""

from __future__ import annotations

import os

import pyarrow as pa
from pyiceberg.catalog import load_catalog
from pyiceberg.exceptions import NoSuchTableError


def main() -> None:
    catalog = load_catalog("lakehouse")
    table, time_column = os.environ["TABLE"], os.environ["TIME_COLUMN"]
    rows = catalog.load_table((os.environ["CURATED_NAMESPACE"], table)).scan().to_pandas()
    rows["day"] = rows[time_column].dt.floor("D")
    numeric = rows.select_dtypes("number").columns.tolist()
    daily = rows.groupby("day")[numeric].mean().add_prefix("mean_")
    daily["rows"] = rows.groupby("day").size()
    daily = daily.reset_index()
    batch = pa.Table.from_pandas(daily, preserve_index=False)
    target = (os.environ["FEATURES_NAMESPACE"], table)
    try:
        features = catalog.load_table(target)
    except NoSuchTableError:
        features = catalog.create_table(target, schema=batch.schema)
    features.overwrite(batch)
    print(f"wrote {len(daily)} days of features over {len(numeric)} numeric columns")


if __name__ == "__main__":
    main()
