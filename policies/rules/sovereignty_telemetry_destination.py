"""sovereignty-telemetry-destination: logs and metrics are kept, and shipped, inside.

Where each sink writes, read from the plan: VPC flow logs (to a log group or bucket), CloudWatch
log groups themselves, log subscriptions and metric streams (to a Firehose stream), GCP log
buckets and the project/folder/organisation sinks that route into them, and Prometheus
remote-write endpoints (kube-prometheus-stack values, Prometheus and PrometheusAgent objects).
A destination whose place cannot be shown (a bucket outside the plan, an endpoint host naming
no region) fails too: a sovereign factory has to be able to say where its telemetry goes.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import catalog
from policies.kinds import AWS_BUCKETS, GCP_LOG_BUCKETS
from policies.model import Evidence, Finding, Rule
from policies.residency import allowed_places, arn_region, region_allowed
from policies.view import UNKNOWN, PlanView, Resource, cloud_of

FLOW_LOG = "aws:ec2/flowLog:FlowLog"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
LOG_SUBSCRIPTION = "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter"
METRIC_STREAM = "aws:cloudwatch/metricStream:MetricStream"
FIREHOSE = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"
GCP_LOG_SETTINGS = ("gcp:logging/folderSettings:FolderSettings",
                    "gcp:logging/organizationSettings:OrganizationSettings")
GCP_SINKS = ("gcp:logging/projectSink:ProjectSink", "gcp:logging/folderSink:FolderSink",
             "gcp:logging/organizationSink:OrganizationSink",
             "gcp:logging/billingAccountSink:BillingAccountSink")
PROMETHEUS_KINDS = ("Prometheus", "PrometheusAgent")

_LOG_BUCKET = re.compile(r"^logging\.googleapis\.com/.*?/locations/([^/]+)/buckets/([^/]+)$")
_AWS_REGION = re.compile(r"(?:^|[.-])((?:us|eu|eusc|ap|sa|ca|me|af|il|mx)-[a-z]+-\d)(?=$|[.-])")
_GCP_REGION = re.compile(r"(?:^|[.-])((?:europe|us|asia|australia|northamerica|southamerica|me"
                         r"|africa)-[a-z]+\d+)(?=$|[.-])")
_IN_CLUSTER = (".svc", ".svc.cluster.local", ".cluster.local", ".local", ".internal")


def _known(value: Any) -> bool:
    return isinstance(value, str) and bool(value) and UNKNOWN not in value


def _bucket_by_ref(view: PlanView, ref: str) -> Resource | None:
    name = ref.removeprefix("arn:aws:s3:::").split("/", 1)[0]
    return next((b for b in view.of_type(*AWS_BUCKETS)
                 if name in (b["inputs"].get("bucket"), b["name"], f"{b['name']}-id")), None)


def _log_group_by_ref(view: PlanView, ref: str) -> Resource | None:
    name = ref.split(":log-group:", 1)[1].removesuffix(":*") if ":log-group:" in ref else ref
    return next((g for g in view.of_type(LOG_GROUP)
                 if name in (g["inputs"].get("name"), g["name"], f"{g['name']}-id")), None)


def aws_destination_region(view: PlanView, r: Resource, ref: Any, *types: str
                           ) -> tuple[str | None, str]:
    """(region, what) of an AWS destination named by ARN, by name, or (unknown until deploy)
    by the dependency of `r` on a resource of `types`."""
    if _known(ref):
        region = arn_region(ref)
        if region:
            return region, ref
        found = _log_group_by_ref(view, ref) if ":logs:" in ref or ref.startswith("/") \
            else _bucket_by_ref(view, ref) if ":s3:" in ref else None
        if found is not None:
            return view.region(found), found["name"]
        return None, ref
    deps = view.dependencies(r, *types)
    if len(deps) == 1:
        return view.region(deps[0]), deps[0]["name"]
    return None, str(ref)


def endpoint_place(url: str) -> tuple[str, str | None]:
    """('cluster', None) for an in-cluster or private endpoint, ('aws'|'gcp', region) when
    the host names a region, ('unknown', None) otherwise."""
    host = (urlparse(url).hostname or "").lower()
    if not host:
        return "unknown", None
    try:
        if ipaddress.ip_address(host).is_private:
            return "cluster", None
    except ValueError:
        pass
    if "." not in host or host.endswith(_IN_CLUSTER):
        return "cluster", None
    m = _AWS_REGION.search(host)
    if m:
        return "aws", m.group(1)
    m = _GCP_REGION.search(host)
    if m:
        return "gcp", m.group(1)
    return "unknown", None


def remote_writes(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, url) of every Prometheus remote-write endpoint in nested inputs."""
    if isinstance(value, dict):
        for key, v in value.items():
            sub = f"{path}.{key}" if path else str(key)
            if key == "remoteWrite" and isinstance(v, list):
                for i, target in enumerate(v):
                    if isinstance(target, dict) and isinstance(target.get("url"), str):
                        yield f"{sub}[{i}].url", target["url"]
            else:
                yield from remote_writes(v, sub)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from remote_writes(v, f"{path}[{i}]")


def _outside(j: catalog.Jurisdiction, cloud: str, region: str | None) -> bool:
    return region is None or not region_allowed(j, cloud, region)


def _aws_sinks(view: PlanView, j: catalog.Jurisdiction) -> Iterator[Finding]:
    places = allowed_places(j, "aws")
    for r in view.of_type(LOG_GROUP):
        region = view.region(r)
        if _outside(j, "aws", region):
            yield view.finding(r, f"log group {r['name']} keeps logs in "
                               f"{region or 'an unknown region (default provider)'}, outside "
                               f"{j.name} (allowed: {places})", region=region,
                               cause=view.region_cause("aws", region))
    for r in view.of_type(FLOW_LOG):
        i = r["inputs"]
        kind = str(i.get("logDestinationType") or "cloud-watch-logs")
        ref = i.get("logDestination") or i.get("logGroupName")
        types = {"s3": AWS_BUCKETS, "kinesis-data-firehose": (FIREHOSE,)}.get(kind, (LOG_GROUP,))
        region, what = aws_destination_region(view, r, ref, *types)
        if _outside(j, "aws", region):
            yield view.finding(r, f"flow log {r['name']} writes to {kind} {what} in "
                               f"{region or 'a region that cannot be shown'}, outside {j.name} "
                               f"(allowed: {places})", destination=what, region=region,
                               cause=view.region_cause("aws", region))
    for r in view.of_type(LOG_SUBSCRIPTION):
        region, what = aws_destination_region(view, r, r["inputs"].get("destinationArn"),
                                              FIREHOSE)
        if _outside(j, "aws", region):
            yield view.finding(r, f"log subscription {r['name']} ships logs to {what} in "
                               f"{region or 'a region that cannot be shown'}, outside {j.name}",
                               destination=what, region=region,
                               cause=view.region_cause("aws", region))
    for r in view.of_type(METRIC_STREAM):
        region, what = aws_destination_region(view, r, r["inputs"].get("firehoseArn"), FIREHOSE)
        if _outside(j, "aws", region):
            yield view.finding(r, f"metric stream {r['name']} ships metrics to Firehose {what} "
                               f"in {region or 'a region that cannot be shown'}, outside "
                               f"{j.name} (allowed: {places})", destination=what, region=region,
                               cause=view.region_cause("aws", region))


def _gcp_sink_region(view: PlanView, r: Resource) -> tuple[str | None, str]:
    dest = r["inputs"].get("destination")
    if _known(dest):
        m = _LOG_BUCKET.match(dest)
        if m:
            return m.group(1).lower(), dest
        for prefix, types in (("storage.googleapis.com/", ("gcp:storage/bucket:Bucket",)),
                              ("bigquery.googleapis.com/", ("gcp:bigquery/dataset:Dataset",))):
            if dest.startswith(prefix):
                name = dest.rsplit("/", 1)[-1]
                found = [t for t in view.of_type(*types) if name in (
                    t["inputs"].get("name"), t["inputs"].get("datasetId"), t["name"])]
                return (view.region(found[0]) if found else None), dest
        return None, dest
    deps = view.dependencies(r, *GCP_LOG_BUCKETS, "gcp:storage/bucket:Bucket",
                             "gcp:bigquery/dataset:Dataset")
    if len(deps) == 1:
        return view.region(deps[0]), deps[0]["name"]
    return None, str(dest)


def _gcp_sinks(view: PlanView, j: catalog.Jurisdiction) -> Iterator[Finding]:
    places = allowed_places(j, "gcp")
    for r in view.of_type(*GCP_LOG_BUCKETS):
        loc = r["inputs"].get("location")
        if _known(loc) and not region_allowed(j, "gcp", loc):
            yield view.finding(r, f"log bucket {r['name']} ({r['inputs'].get('bucketId')}) keeps "
                               f"logs in {loc.lower()}, outside {j.name} (allowed: {places})",
                               location=loc, cause=view.region_cause("gcp", loc.lower()))
    for r in view.of_type(*GCP_LOG_SETTINGS):
        loc = r["inputs"].get("storageLocation")
        if _known(loc) and not region_allowed(j, "gcp", loc):
            yield view.finding(r, f"logging settings {r['name']} create log buckets in "
                               f"{loc.lower()}, outside {j.name}", location=loc)
    for r in view.of_type(*GCP_SINKS):
        if r["inputs"].get("disabled") is True:
            continue
        region, dest = _gcp_sink_region(view, r)
        if _outside(j, "gcp", region):
            yield view.finding(r, f"log sink {r['name']} routes logs to {dest} in "
                               f"{region or 'a location that cannot be shown'}, outside "
                               f"{j.name} (allowed: {places})", destination=dest, region=region,
                               cause=view.region_cause("gcp", region))


def _remote_writes(view: PlanView, j: catalog.Jurisdiction) -> Iterator[Finding]:
    for r in view.resources:
        if cloud_of(r["type"]) != "kubernetes":
            continue
        inputs = r["inputs"]
        if "values" in inputs:
            body: Any = inputs.get("values")
        elif inputs.get("kind") in PROMETHEUS_KINDS:
            body = inputs.get("spec")
        else:
            continue
        for path, url in remote_writes(body):
            cloud, region = endpoint_place(url)
            if cloud == "cluster" or (region and region_allowed(j, cloud, region)):
                continue
            where = f"{region}, outside {j.name}" if region else \
                f"a place that cannot be shown to lie in {j.name}"
            yield view.finding(r, f"{r['type'].rsplit(':', 1)[-1]} {r['name']}: Prometheus "
                               f"remote-writes metrics to {url} ({path}), in {where}", url=url,
                               path=path)


def check(view: PlanView) -> Iterator[Finding]:
    j = view.jurisdiction
    assert j is not None
    yield from _aws_sinks(view, j)
    yield from _gcp_sinks(view, j)
    yield from _remote_writes(view, j)


def evidence(view: PlanView) -> Iterator[Evidence]:
    for r in view.of_type(LOG_GROUP):
        yield view.evidence(r, region=view.region(r))
    for r in view.of_type(FLOW_LOG):
        yield view.evidence(r, "logDestinationType", "logDestination", "logGroupName")
    for r in view.of_type(LOG_SUBSCRIPTION):
        yield view.evidence(r, "destinationArn")
    for r in view.of_type(METRIC_STREAM):
        yield view.evidence(r, "firehoseArn")
    for r in view.of_type(*GCP_LOG_BUCKETS):
        yield view.evidence(r, "location")
    for r in view.of_type(*GCP_SINKS):
        yield view.evidence(r, "destination")
    for r in view.resources:
        if r["type"].startswith("kubernetes:"):
            urls = dict(remote_writes(r["inputs"]))
            if urls:
                yield view.evidence(r, **urls)


RULE = Rule(
    name="sovereignty-telemetry-destination",
    domain="sovereignty",
    severity="critical",
    description="With a declared jurisdiction, logs and metrics stay inside it: CloudWatch log "
    "groups, VPC flow log destinations, log subscriptions and metric streams, GCP log buckets, "
    "logging settings and log sinks, and Prometheus remote-write endpoints.",
    remediation="Keep log groups and log buckets in an allowed region (a regional GCP log "
    "bucket, with the _Default sink routed into it), point flow logs, subscriptions, metric "
    "streams and sinks at destinations in the plan in an allowed region, and remote-write "
    "metrics only to in-cluster or in-region endpoints.",
    enforcement="mandatory",
    check=check,
    applies=lambda view: view.jurisdiction is not None,
    evidence=evidence,
)
