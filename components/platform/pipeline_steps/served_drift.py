"""Drift watch of a served model's inputs with Evidently: the requests KServe's agent logged to
the lakehouse (s3://LOG_BUCKET/LOG_PREFIX/<namespace>/<isvc>/predictor/requests/<id>-request.json,
each a LogRequest whose `bytes` is the base64 of the request body), newest window against the
days before it. The inputs of an OpenAI-compatible request are reduced to columns Evidently can
compare: prompt length, message count, and the sampling parameters the caller sent. Writes the
share of drifted columns and the window's request count to /tmp/drift_share and /tmp/requests,
which the workflow emits as Prometheus metrics (argo_workflows_lakehouse_served_*)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
from collections.abc import Iterator
from typing import Any

SAMPLING = ("max_tokens", "temperature", "top_p", "n")
"""Sampling parameters compared as they are (missing: not sent)."""


def log_records(data: bytes) -> Iterator[dict[str, Any]]:
    """The LogRequests of one object: KServe 0.20's JSON marshaller writes a single request as
    an object, a batch as an array."""
    parsed = json.loads(data)
    for record in parsed if isinstance(parsed, list) else [parsed]:
        if str(record.get("reqType", "")).endswith(".request"):
            yield record


def when(record: dict[str, Any], fallback: dt.datetime) -> dt.datetime:
    """When the request arrived (occurrenceTime; the object's time when absent)."""
    stamp = record.get("occurrenceTime")
    if not stamp or stamp.startswith("0001-"):
        return fallback
    # Go writes RFC 3339 with nanoseconds; keep microseconds for fromisoformat
    head, _, tail = stamp.replace("Z", "+00:00").partition(".")
    if tail:
        digits = "".join(c for c in tail if c.isdigit())
        zone = tail[len(digits):]
        stamp = f"{head}.{digits[:6].ljust(6, '0')}{zone}"
    moment = dt.datetime.fromisoformat(stamp)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def request_row(record: dict[str, Any]) -> dict[str, float] | None:
    """The compared columns of one request (None: its body is not a JSON request)."""
    try:
        body = json.loads(base64.b64decode(record.get("bytes") or ""))
    except (ValueError, TypeError):
        return None
    if not isinstance(body, dict):
        return None
    messages = body.get("messages")
    if isinstance(messages, list):
        texts = [m.get("content") for m in messages if isinstance(m, dict)]
        prompt = "".join(t if isinstance(t, str) else json.dumps(t) for t in texts if t)
        row: dict[str, float] = {"messages": float(len(messages))}
    else:
        raw = body.get("prompt", "")
        prompt = raw if isinstance(raw, str) else json.dumps(raw)
        row = {"messages": 0.0}
    row["prompt_chars"] = float(len(prompt))
    for key in SAMPLING:
        value = body.get(key)
        row[key] = float(value) if isinstance(value, int | float) else float("nan")
    row["stream"] = 1.0 if body.get("stream") else 0.0
    return row


def main() -> None:
    import pandas as pd
    from evidently import Report
    from evidently.metrics import DriftedColumnsCount
    from pyarrow import fs

    bucket, prefix = os.environ["LOG_BUCKET"], os.environ["LOG_PREFIX"].strip("/")
    now = dt.datetime.now(dt.UTC)
    split = now - dt.timedelta(hours=int(os.environ["CURRENT_HOURS"]))
    start = split - dt.timedelta(days=int(os.environ["REFERENCE_DAYS"]))
    s3 = fs.S3FileSystem(region=os.environ.get("LOG_REGION"))  # the pod's IRSA credentials
    rows: list[dict[str, Any]] = []
    selector = fs.FileSelector(f"{bucket}/{prefix}", recursive=True, allow_not_found=True)
    for info in s3.get_file_info(selector):
        if info.type != fs.FileType.File or not info.path.endswith("-request.json"):
            continue
        written = info.mtime.astimezone(dt.UTC) if info.mtime else now
        if written < start:
            continue
        with s3.open_input_stream(info.path) as stream:
            data = stream.read()
        for record in log_records(data):
            row = request_row(record)
            if row is not None:
                rows.append({**row, "at": when(record, written)})
    frame = pd.DataFrame(rows, columns=["at", "messages", "prompt_chars", *SAMPLING, "stream"])
    # a parameter no caller sends is no column to compare
    frame = frame[frame["at"] >= start].dropna(axis=1, how="all")
    reference = frame[frame["at"] < split].drop(columns=["at"])
    current = frame[frame["at"] >= split].drop(columns=["at"])
    model = os.environ["MODEL"]
    if reference.empty or current.empty:
        # nothing to compare yet: no figure, so the silent-watch alert tells the team
        raise SystemExit(f"{model}: {len(current)} requests in the last "
                         f"{os.environ['CURRENT_HOURS']} h, {len(reference)} before: nothing "
                         f"to compare under s3://{bucket}/{prefix}")
    result = Report([DriftedColumnsCount()]).run(
        current_data=current, reference_data=reference).dict()
    drift = next(float(m["value"]["share"]) for m in result["metrics"]
                 if str(m.get("metric_id", "")).startswith("DriftedColumnsCount"))
    for path, figure in (("/tmp/drift_share", f"{drift:.6f}"), ("/tmp/requests",
                                                               str(len(current)))):
        with open(path, "w", encoding="utf-8") as out:
            out.write(figure)
    print(f"{model}: {drift:.1%} of the input columns drifted ({len(current)} requests "
          f"against {len(reference)})")


if __name__ == "__main__":
    main()
