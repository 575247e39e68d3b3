"""Pipeline step raw -> curated: the raw table's rows of the last window, without rows that miss
a value or repeat one already seen, appended to the curated table (created on first run).

Runs in the pipelines' image (Python with pyiceberg, pandas, pyarrow) as the team's `lakehouse`
service account: the catalog (PYICEBERG_CATALOG__LAKEHOUSE__*, from the lakehouse-catalog
ConfigMap) vends storage credentials for the namespaces the team is granted.
"""

from __future__ import annotations

import datetime as dt
import os

import pyarrow as pa
from pyiceberg.catalog import load_catalog
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.expressions import GreaterThanOrEqual


def main() -> None:
    catalog = load_catalog("lakehouse")
    table, time_column = os.environ["TABLE"], os.environ["TIME_COLUMN"]
    since = dt.datetime.now(dt.UTC) - dt.timedelta(hours=int(os.environ["WINDOW_HOURS"]))
    raw = catalog.load_table((os.environ["RAW_NAMESPACE"], table))
    rows = raw.scan(row_filter=GreaterThanOrEqual(time_column, since.isoformat())).to_pandas()
    before = len(rows)
    rows = rows.dropna().drop_duplicates()
    batch = pa.Table.from_pandas(rows, preserve_index=False)
    target = (os.environ["CURATED_NAMESPACE"], table)
    try:
        curated = catalog.load_table(target)
    except NoSuchTableError:
        curated = catalog.create_table(target, schema=batch.schema)
    curated.append(batch)
    print(f"curated {len(rows)} of {before} raw rows since {since.isoformat()}")


if __name__ == "__main__":
    main()
