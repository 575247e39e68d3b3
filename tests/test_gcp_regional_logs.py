"""RegionalLogs: a protected regional CMEK log bucket, the _Default sink into it, audit configs."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from blueprints.errors import ComponentArgsError
from components.gcp import RegionalLogs, RegionalLogsArgs, service_agents
from components.gcp.regional_logs import log_bucket_destination

BUCKET = "gcp:logging/projectBucketConfig:ProjectBucketConfig"
SINK = "gcp:logging/projectSink:ProjectSink"
AUDIT = "gcp:projects/iAMAuditConfig:IAMAuditConfig"
KEY = "projects/acme-ml-prod/locations/europe-west4/keyRings/r/cryptoKeys/logs"
DESTINATION = ("logging.googleapis.com/projects/acme-ml-prod/locations/europe-west4/buckets/"
               "acme-gcp-prod-logs")


def args(**overrides: Any) -> RegionalLogsArgs:
    values: dict[str, Any] = dict(
        project="acme-ml-prod", location="europe-west4", bucket_id="acme-gcp-prod-logs",
        kms_key_id=KEY, retention_days=400,
        audited_services=["container.googleapis.com", "storage.googleapis.com"])
    values.update(overrides)
    return RegionalLogsArgs(**values)


def test_bucket_is_regional_encrypted_with_the_regional_key_and_protected(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: RegionalLogs("logs", args()))
    component = rec.one("aifactory:gcp:RegionalLogs", "logs")
    bucket = rec.one(BUCKET, "logs-bucket")
    assert bucket.inputs == {
        "project": "acme-ml-prod", "location": "europe-west4", "bucketId": "acme-gcp-prod-logs",
        "retentionDays": 400, "locked": False, "cmekSettings": {"kmsKeyName": KEY},
        "deletionPolicy": "PREVENT",
        "description": "Logs of project acme-ml-prod, kept in europe-west4"}
    assert bucket.protect
    assert bucket.parent == component.urn


def test_bucket_is_locked_when_asked(run) -> None:  # type: ignore[no-untyped-def]
    bucket = run(lambda: RegionalLogs("logs", args(locked=True))).one(BUCKET)
    assert bucket.inputs["locked"] is True


def test_bucket_waits_for_the_key_grant(run) -> None:  # type: ignore[no-untyped-def]
    def program() -> None:
        grant = pulumi.CustomResource("test:index:Grant", "grant", {})
        RegionalLogs("logs", args(key_grants=[grant]))

    rec = run(program)
    assert rec.one("test:index:Grant").urn in rec.one(BUCKET).dependencies


def test_default_sink_routes_every_log_into_the_regional_bucket(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: RegionalLogs("logs", args()))
    sink = rec.one(SINK, "logs-default-sink")
    assert sink.inputs == {
        "name": "_Default", "project": "acme-ml-prod", "destination": DESTINATION,
        "filter": "", "uniqueWriterIdentity": True,
        "description": "Every log of the project, audit logs included, into acme-gcp-prod-logs "
        "in europe-west4"}
    assert not sink.protect
    assert rec.one(BUCKET).urn in sink.dependencies


def test_data_access_audit_logs_for_each_service(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: RegionalLogs("logs", args()))
    configs = {c.name: c.inputs for c in rec.of_type(AUDIT)}
    every_type = [{"logType": "ADMIN_READ"}, {"logType": "DATA_READ"},
                  {"logType": "DATA_WRITE"}]
    assert configs == {
        "logs-audit-container": {"project": "acme-ml-prod", "service": "container.googleapis.com",
                                 "auditLogConfigs": every_type},
        "logs-audit-storage": {"project": "acme-ml-prod", "service": "storage.googleapis.com",
                               "auditLogConfigs": every_type},
    }


def test_no_audit_configs_without_services(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: RegionalLogs("logs", args(audited_services=[])))
    assert rec.of_type(AUDIT) == []
    assert len(rec.of_type(BUCKET)) == len(rec.of_type(SINK)) == 1


def test_destination_and_logging_agent_are_derived_without_look_ups() -> None:
    assert log_bucket_destination("acme-ml-prod", "europe-west4", "acme-gcp-prod-logs") \
        == DESTINATION
    assert service_agents.logging("314159265358") == \
        "serviceAccount:service-314159265358@gcp-sa-logging.iam.gserviceaccount.com"


@pytest.mark.parametrize(("overrides", "message"), [
    ({"retention_days": 0}, "RegionalLogs logs: retention_days (0) must lie between 1 and 3650: "
     "Cloud Logging keeps entries at most ten years"),
    ({"bucket_id": "_Default"}, "RegionalLogs logs: bucket_id ('_Default') must have 1-100 "
     "letters, digits, '_', '-' or '.' and not start with '_' (reserved for _Default and "
     "_Required): use components.naming.fit(name, 100)"),
    ({"location": "global"}, "RegionalLogs logs: location ('global') must be a region such as "
     "europe-west4: a global or multi-region bucket does not keep logs in one region"),
    ({"audited_services": ["container"]}, "RegionalLogs logs: audited_services ['container'] "
     "are not service names: use names such as container.googleapis.com"),
    ({"audited_services": ["container.googleapis.com"] * 2}, "RegionalLogs logs: "
     "audited_services (['container.googleapis.com', 'container.googleapis.com']) repeat a "
     "service: list each once (an audit config is authoritative for its service)"),
])
def test_bad_args_are_refused(run, overrides, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ComponentArgsError) as e:
        run(lambda: RegionalLogs("logs", args(**overrides)))
    assert str(e.value) == message
