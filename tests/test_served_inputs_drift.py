"""Served models' inputs watched for drift: KServe's agent logs the requests of each watched model
to the lakehouse, the serving role may only put under that prefix, the pipelines' role may only
read it, and the drift workflow compares each model's newest window and alerts the model's team.
"""

from __future__ import annotations

import base64
import datetime as dt
import importlib.util
import json
from dataclasses import replace
from types import ModuleType
from typing import Any

import pytest

from blueprints.errors import ComponentArgsError
from components.aws import AwsLocation, WorkloadRole, WorkloadRoleArgs
from components.platform.drift import DriftWatch, DriftWatchArgs, ServedInputs
from components.platform.pipelines import (
    STEPS_DIR,
    ArtifactRepository,
    PipelinesArgs,
    PipelineStagesArgs,
)
from components.platform.served_model import (
    Revision,
    ServedModel,
    ServedModelArgs,
    deployed_revisions,
    inference_service_spec,
)

LOC = AwsLocation(partition="aws", region="eu-west-2", account_id="123456789012")
KEY = "arn:aws:kms:eu-west-2:123456789012:key/k"
ISVC = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
CRON = "kubernetes:argoproj.io/v1alpha1:CronWorkflow"
RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
LOG = "s3://acme-aws-curated/inference-log/chat"


def model(**kw: object) -> ServedModelArgs:
    base = ServedModelArgs(
        model="chat", namespace="serving", pool="infer-l4", runtime="vllm", gateway="serving",
        service_account="model-reader", prometheus_url="http://prometheus:9090",
        current=Revision("v3", "s3://models/chat/3"), team="applied")
    return replace(base, **kw)  # type: ignore[arg-type]


# -- the logger ------------------------------------------------------------------------------


def test_a_watched_model_logs_its_requests_to_the_lakehouse(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: ServedModel("chat", model(request_log=LOG)))
    logger = rec.one(ISVC).inputs["spec"]["predictor"]["logger"]
    # requests only; every field KServe 0.20 requires of a storage, its own service account
    assert logger == {"mode": "request", "url": LOG, "storage": {
        "path": "requests", "parameters": {"type": "s3", "format": "json"}, "key": "default",
        "serviceAccountName": "model-reader"}}


def test_an_unwatched_model_logs_nothing() -> None:
    args = model()
    spec = inference_service_spec(args, deployed_revisions(args)[0])
    assert "logger" not in spec["predictor"]


@pytest.mark.parametrize("url", ["gs://bucket/inference-log/chat", "s3://bucket-only",
                                 "https://collector/log"])
def test_a_log_outside_an_s3_bucket_is_refused(run, url: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ComponentArgsError, match=r"`request_log` .* is not s3://bucket/prefix"):
        run(lambda: ServedModel("chat", model(request_log=url)))


# -- the grants ------------------------------------------------------------------------------


def _policy(rec: Any) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(rec.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    return doc


def role_args(**kw: object) -> WorkloadRoleArgs:
    base = WorkloadRoleArgs(
        location=LOC, role_name="acme-serving", oidc_provider_arn="arn:aws:iam::1:oidc/x",
        oidc_issuer="oidc.eks/x", service_accounts=["serving:model-reader"],
        bucket_arns=["arn:aws:s3:::acme-models"], bucket_key_arns=[KEY], read_only=True)
    return replace(base, **kw)  # type: ignore[arg-type]


def test_the_serving_role_may_only_put_under_the_log_prefix(run) -> None:  # type: ignore[no-untyped-def]
    prefix = "arn:aws:s3:::acme-aws-curated/inference-log/chat/*"
    rec = run(lambda: WorkloadRole("serving", role_args(write_prefixes=[prefix])))
    by_sid = {s["Sid"]: s for s in _policy(rec)["Statement"]}
    assert by_sid["PutLogObjects"]["Action"] == ["s3:PutObject"]
    assert by_sid["PutLogObjects"]["Resource"] == [prefix]
    # the weights stay read-only; the key may now encrypt the log's objects
    assert "s3:PutObject" not in by_sid["ReadLakehouseObjects"]["Action"]
    assert by_sid["UseLakehouseKeysThroughS3"]["Action"] == ["kms:Decrypt",
                                                             "kms:GenerateDataKey"]


def test_a_read_only_role_without_a_log_gets_no_put(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: WorkloadRole("serving", role_args()))
    statements = _policy(rec)["Statement"]
    assert "PutLogObjects" not in {s["Sid"] for s in statements}
    assert next(s for s in statements if s["Sid"] == "UseLakehouseKeysThroughS3")["Action"] == [
        "kms:Decrypt"]


def test_the_pipelines_team_reads_the_logs_and_never_writes_them() -> None:
    from components.aws.iceberg_catalog import CatalogTeam, IcebergCatalogArgs, team_policy
    from components.iceberg import CatalogNamespaceArgs

    logs = "arn:aws:s3:::acme-aws-curated/inference-log/chat/*"
    args = IcebergCatalogArgs(
        location=LOC, factory="acme-aws", name_prefix="acme-aws-prod",
        zone_buckets={"features": "acme-aws-features"}, kms_key_arn=KEY,
        namespaces=(CatalogNamespaceArgs("features", "features", writers=("data-eng",)),),
        teams={"data-eng": CatalogTeam(namespace="team-data-eng", read_prefixes=(logs,))},
        oidc_provider_arn="arn:aws:iam::123456789012:oidc-provider/oidc.eks/x",
        oidc_issuer="oidc.eks.eu-west-2.amazonaws.com/id/X")
    by_sid = {s["Sid"]: s for s in json.loads(team_policy(args, "data-eng", KEY))["Statement"]}
    assert by_sid["ReadRequestLogs"] == {"Sid": "ReadRequestLogs", "Effect": "Allow",
                                         "Action": ["s3:GetObject"], "Resource": [logs]}
    assert by_sid["ListArtifactBuckets"]["Resource"] == ["arn:aws:s3:::acme-aws-curated"]
    assert "ReadWriteArtifacts" not in by_sid
    assert by_sid["UseBucketKeyThroughS3"]["Action"] == ["kms:Decrypt"]


# -- the workflow and its alerts --------------------------------------------------------------


def drift_args(**kw: object) -> DriftWatchArgs:
    pipelines = PipelinesArgs(
        namespace="team-data-eng", team="data-eng", image="r.example/p@sha256:" + "a" * 64,
        artifacts=ArtifactRepository(kind="s3", bucket="acme-aws-curated", region="eu-west-2",
                                     endpoint="s3.eu-west-2.amazonaws.com"),
        stages=PipelineStagesArgs(raw="r", curated="c", features="f", table="events"))
    args = DriftWatchArgs(pipelines=pipelines, schedule="0 * * * *", alert_team="applied",
                          served=(ServedInputs(model="chat", bucket="acme-aws-curated",
                                               prefix="inference-log/chat", team="research",
                                               region="eu-west-2"),))
    return replace(args, **kw)  # type: ignore[arg-type]


def test_each_watched_model_is_a_step_of_the_drift_workflow(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: DriftWatch("drift", drift_args()))
    spec = rec.one(CRON).inputs["spec"]["workflowSpec"]
    assert spec["entrypoint"] == "watch"
    templates = {t["name"]: t for t in spec["templates"]}
    # independent tasks: a model without logged requests does not stop the features' figures
    assert templates["watch"]["dag"]["tasks"] == [
        {"name": "features", "template": "drift"},
        {"name": "served-chat", "template": "served-chat"}]
    step = templates["served-chat"]
    assert step["container"]["command"] == ["python", "/steps/served_drift.py"]
    env = {e["name"]: e.get("value") for e in step["container"]["env"]}
    assert {k: env[k] for k in ("MODEL", "LOG_BUCKET", "LOG_PREFIX", "LOG_REGION")} == {
        "MODEL": "chat", "LOG_BUCKET": "acme-aws-curated", "LOG_PREFIX": "inference-log/chat",
        "LOG_REGION": "eu-west-2"}
    gauges = {m["name"]: m for m in step["metrics"]["prometheus"]}
    assert sorted(gauges) == ["lakehouse_served_input_drift_share", "lakehouse_served_requests"]
    assert gauges["lakehouse_served_input_drift_share"]["labels"] == [
        {"key": "model", "value": "chat"}, {"key": "team", "value": "research"}]


def test_the_models_alerts_go_to_the_models_team(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: DriftWatch("drift", drift_args()))
    groups = {g["name"]: g for g in rec.one(RULE).inputs["spec"]["groups"]}
    served = {r["alert"]: r for r in groups["aifactory-served-input-drift"]["rules"]}
    assert served["ServedInputDrift"]["expr"] == (
        'max(argo_workflows_lakehouse_served_input_drift_share{model="chat"}) > 0.3')
    assert served["ServedInputWatchSilent"]["expr"] == (
        'absent_over_time(argo_workflows_lakehouse_served_input_drift_share{model="chat"}'
        "[180m])")
    assert {r["labels"]["team"] for r in served.values()} == {"research"}
    # the features' alerts keep the watch's own team
    assert {r["labels"]["team"] for r in groups["aifactory-lakehouse-drift"]["rules"]} == {
        "applied"}


def test_without_watched_models_the_workflow_is_the_features_step_alone(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: DriftWatch("drift", drift_args(served=())))
    spec = rec.one(CRON).inputs["spec"]["workflowSpec"]
    assert spec["entrypoint"] == "drift"
    assert [t["name"] for t in spec["templates"]] == ["drift"]
    assert [g["name"] for g in rec.one(RULE).inputs["spec"]["groups"]] == [
        "aifactory-lakehouse-drift"]


def test_every_watched_model_has_its_input_quantiles_recorded(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: DriftWatch("drift", drift_args()))
    groups = {g["name"]: g for g in rec.one(RULE).inputs["spec"]["groups"]}
    shift = groups["aifactory-served-input-shift"]
    records = {(r["record"], r["labels"]["input"], r["labels"]["quantile"]): r["expr"]
               for r in shift["rules"] if "labels" in r}
    assert len(records) == 8  # 2 inputs x 2 quantiles x (current, reference)
    assert records[("aifactory:served_input_quantile:current", "prompt_tokens", "0.5")] == (
        'histogram_quantile(0.5, sum by (le) (rate(vllm:request_prompt_tokens_bucket'
        '{namespace="serving",model_name="chat"}[24h])))')
    # the reference: the 7 days before the current window
    assert records[("aifactory:served_input_quantile:reference", "max_tokens", "0.9")] == (
        'histogram_quantile(0.9, sum by (le) (rate(vllm:request_params_max_tokens_bucket'
        '{namespace="serving",model_name="chat"}[7d] offset 24h)))')
    assert shift["rules"][-1] == {
        "record": "aifactory:served_input_shift",
        "expr": "abs(aifactory:served_input_quantile:current / "
                "aifactory:served_input_quantile:reference - 1)"}
    alerts = {r["alert"]: r for r in groups["aifactory-served-input-drift"]["rules"]}
    assert alerts["ServedInputShift"]["expr"] == (
        'max by (model, input, quantile) (aifactory:served_input_shift{model="chat"}) > 0.3')
    assert alerts["ServedInputShift"]["labels"]["team"] == "research"


def test_a_model_without_a_request_log_is_watched_through_its_histograms_only(run) -> None:  # type: ignore[no-untyped-def]
    histograms_only = (ServedInputs(model="chat", team="research", namespace="models"),)
    rec = run(lambda: DriftWatch("drift", drift_args(served=histograms_only)))
    spec = rec.one(CRON).inputs["spec"]["workflowSpec"]
    assert spec["entrypoint"] == "drift"  # no step reads a log that does not exist
    groups = {g["name"]: g for g in rec.one(RULE).inputs["spec"]["groups"]}
    assert [r["alert"] for r in groups["aifactory-served-input-drift"]["rules"]] == [
        "ServedInputShift"]
    assert 'namespace="models",model_name="chat"' in groups[
        "aifactory-served-input-shift"]["rules"][0]["expr"]


def test_a_model_watched_twice_is_refused(run) -> None:  # type: ignore[no-untyped-def]
    twice = drift_args().served * 2
    with pytest.raises(ComponentArgsError, match=r"`served` names a model twice"):
        run(lambda: DriftWatch("drift", drift_args(served=twice)))


# -- the step's reading of KServe's log -------------------------------------------------------


def _step() -> ModuleType:
    spec = importlib.util.spec_from_file_location("served_drift", STEPS_DIR / "served_drift.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # its heavy imports (Evidently, pyarrow) are in main()
    return module


def _logged(body: dict[str, Any], kind: str = "request", at: str | None = None
            ) -> dict[str, Any]:
    """A LogRequest as KServe 0.20's JSON marshaller writes it (Go's []byte is base64)."""
    record: dict[str, Any] = {
        "url": "http://chat-v3-predictor.serving/v1/chat/completions",
        "bytes": base64.b64encode(json.dumps(body).encode()).decode(),
        "contentType": "application/json", "reqType": f"org.kubeflow.serving.inference.{kind}",
        "id": "0b8e", "inferenceService": "chat-v3", "namespace": "serving",
        "component": "predictor"}
    if at is not None:
        record["occurrenceTime"] = at
    return record


def test_a_chat_request_becomes_the_compared_columns() -> None:
    step = _step()
    row = step.request_row(_logged({"model": "chat", "max_tokens": 256, "temperature": 0.2,
                                    "messages": [{"role": "system", "content": "Be brief."},
                                                 {"role": "user", "content": "Hello"}]}))
    assert row["messages"] == 2.0 and row["prompt_chars"] == len("Be brief.Hello")
    assert row["max_tokens"] == 256.0 and row["temperature"] == 0.2
    assert row["top_p"] != row["top_p"]  # not sent: NaN, dropped when no caller sends it
    assert row["stream"] == 0.0


def test_a_completion_prompt_and_a_body_that_is_not_json() -> None:
    step = _step()
    row = step.request_row(_logged({"prompt": "abc", "stream": True}))
    assert row["messages"] == 0.0 and row["prompt_chars"] == 3.0 and row["stream"] == 1.0
    broken = _logged({})
    broken["bytes"] = base64.b64encode(b"not json").decode()
    assert step.request_row(broken) is None


def test_one_object_or_a_batch_and_only_requests() -> None:
    step = _step()
    one = _logged({"prompt": "a"})
    batch = [one, _logged({"prompt": "b"}), _logged({"choices": []}, kind="response")]
    assert len(list(step.log_records(json.dumps(one).encode()))) == 1
    assert len(list(step.log_records(json.dumps(batch).encode()))) == 2


def test_the_request_time_is_gos_rfc3339_with_nanoseconds() -> None:
    step = _step()
    fallback = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    at = step.when(_logged({}, at="2026-12-02T10:11:12.123456789Z"), fallback)
    assert at == dt.datetime(2026, 12, 2, 10, 11, 12, 123456, tzinfo=dt.UTC)
    assert step.when(_logged({}, at="0001-01-01T00:00:00Z"), fallback) == fallback
    assert step.when(_logged({}), fallback) == fallback


def test_the_step_is_in_the_steps_config_map() -> None:
    from components.platform.pipelines import steps_data

    assert "served_drift.py" in steps_data()



# -- the examples, composed -----------------------------------------------------------------


def test_cloud_aws_logs_assistant_and_grants_put_and_read_only(example_spec) -> None:  # type: ignore[no-untyped-def]
    from aifactory.plan.document import run_program

    registrations = run_program(example_spec("cloud-aws"))
    loggers = {r.inputs["metadata"]["name"]: r.inputs["spec"]["predictor"]["logger"]["url"]
               for r in registrations if r.type == ISVC}
    bucket = "acme-aws-curated-123456789012-eu-west-2"
    assert loggers == {"assistant-v2": f"s3://{bucket}/inference-log/assistant",
                       "assistant-v3": f"s3://{bucket}/inference-log/assistant"}
    grants: dict[str, list[str]] = {}
    for r in registrations:
        if r.type == "aws:iam/rolePolicy:RolePolicy" and isinstance(r.inputs.get("policy"), str):
            for st in json.loads(r.inputs["policy"])["Statement"]:
                if f"arn:aws:s3:::{bucket}/inference-log/assistant/*" in st["Resource"]:
                    grants.setdefault(st["Sid"], []).extend(st["Action"])
    # serving may only put there, the pipelines' team may only read: nobody else reaches it
    assert grants == {"PutLogObjects": ["s3:PutObject"], "ReadRequestLogs": ["s3:GetObject"]}
    [cron] = [r for r in registrations if r.type == CRON and r.name == "aws-prod-drift-schedule"]
    assert [t["name"] for t in cron.inputs["spec"]["workflowSpec"]["templates"]] == [
        "watch", "drift", "served-assistant"]


@pytest.mark.parametrize("example", ["sovereign-eu", "sovereign-onprem"])
def test_the_sovereign_examples_watch_assistant_through_vllm(example_spec, example: str) -> None:  # type: ignore[no-untyped-def]
    from aifactory.plan.document import run_program

    registrations = run_program(example_spec(example))
    assert not [r for r in registrations
                if r.type == ISVC and "logger" in r.inputs["spec"]["predictor"]]
    rules = [r for r in registrations if r.type == RULE and r.inputs["metadata"]["name"]
             == "lakehouse-drift"]
    [rule] = rules
    groups = {g["name"]: g for g in rule.inputs["spec"]["groups"]}
    alerts = groups["aifactory-served-input-drift"]["rules"]
    assert [(a["alert"], a["labels"]["team"]) for a in alerts] == [("ServedInputShift",
                                                                    "applied")]


@pytest.mark.parametrize(("example", "watched"), [
    ("cloud-aws", "logged requests, vLLM histograms"), ("sovereign-onprem", "vLLM histograms"),
    ("pilot", "-")])
def test_the_plan_says_how_each_models_inputs_are_watched(example_spec, example: str,  # type: ignore[no-untyped-def]
                                                          watched: str) -> None:
    from aifactory.plan.document import plan_blueprint
    from aifactory.plan.format import render

    plan = plan_blueprint(example_spec(example), f"blueprints/examples/{example}.yaml")
    assert {m["inputsWatched"] for m in plan["summary"]["servedModels"]} == {watched}
    text = render(plan)
    header = next(line for line in text.splitlines() if line.lstrip().startswith("model "))
    assert header.rstrip().endswith("inputs watched")
    [served] = plan["summary"]["servedModels"]
    [row] = [line for line in text.splitlines()
             if line.lstrip().startswith(f"{served['model']} ")]
    assert row.rstrip().endswith(watched)
