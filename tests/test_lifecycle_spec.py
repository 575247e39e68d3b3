"""The lifecycle sections of the blueprint: each refusal with the whole message a user sees,
and the CLI's exit 2 at `file:line: field: message`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES, ROOT

from blueprints.spec import BlueprintError, load
from blueprints.spec.lifecycle import ModelSource

CLOUD_AWS = (EXAMPLES / "cloud-aws.yaml").read_text(encoding="utf-8")
LAST_GOOD = """\
      last_good:                                 # kept: the canary splits traffic with it
        revision: v2
        source: {mlflow: assistant/2}
"""


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "bp.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BlueprintError) as e:
        load(path)
    return [str(p).replace(str(path), "bp.yaml") for p in e.value.problems]


def line_of(text: str, needle: str, after: str | None = None) -> int:
    """The first line holding `needle` (below the first line holding `after`)."""
    start = line_of(text, after) if after else 0
    return next(i for i, line in enumerate(text.splitlines(), start=1)
                if i > start and needle in line)


def test_examples_with_the_lifecycle_load() -> None:
    spec = load(EXAMPLES / "cloud-aws.yaml")
    assert spec.serving is not None and spec.model_registry is not None
    model = spec.serving.models["assistant"]
    assert (model.revision, model.canary_percent, model.last_good.revision) == (  # type: ignore[union-attr]
        "v3", 10, "v2")
    pilot = load(EXAMPLES / "pilot.yaml")
    assert pilot.serving is not None and sorted(pilot.serving.models) == ["chat"]
    assert pilot.pools["l4"].min_nodes == 0


def test_model_on_a_pool_that_does_not_exist(tmp_path: Path) -> None:
    text = CLOUD_AWS.replace("      pool: infer-l4\n", "      pool: infer-l5\n")
    assert problems(tmp_path, text) == [
        f"bp.yaml:{line_of(text, 'pool: infer-l5')}: serving.models.assistant.pool: "
        "'infer-l5' is not a pool: did you mean 'infer-l4'? pools are ['batch-l4-spot', "
        "'infer-l4', 'train-h100']"]


def test_canary_without_a_previous_revision(tmp_path: Path) -> None:
    text = CLOUD_AWS.replace(LAST_GOOD, "")
    assert problems(tmp_path, text) == [
        f"bp.yaml:{line_of(text, 'canary_percent: 10')}: "
        "serving.models.assistant.canary_percent: a canary of 10% needs the previous "
        "revision to serve the rest: add last_good (revision and source), or set "
        "canary_percent: 0"]


def test_rollback_without_a_previous_revision(tmp_path: Path) -> None:
    text = CLOUD_AWS.replace(LAST_GOOD, "").replace("canary_percent: 10", "rollback: true")
    assert problems(tmp_path, text) == [
        f"bp.yaml:{line_of(text, 'rollback: true')}: serving.models.assistant.rollback: "
        "nothing to roll back to: add last_good"]


def test_receiver_without_its_secret(tmp_path: Path) -> None:
    text = CLOUD_AWS.replace("      secret: alerts-pagerduty-routing-key\n", "")
    assert problems(tmp_path, text) == [
        f"bp.yaml:{line_of(text, 'platform-pager:')}: alerts.receivers.platform-pager.secret: "
        "required: a pagerduty receiver needs its Events API v2 routing key as a stack secret "
        "(pulumi config set --secret aifactory:<name> ...); name it here"]


def test_the_cli_exits_2_with_file_line_field_message(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(CLOUD_AWS.replace("      pool: infer-l4\n", "      pool: nowhere\n"),
                   encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "aifactory.cli", "plan", str(bad)],
                         capture_output=True, text=True, cwd=ROOT, check=False)
    assert run.returncode == 2
    assert run.stderr.splitlines()[0] == (
        f"{bad}:{line_of(bad.read_text(), 'pool: nowhere')}: serving.models.assistant.pool: "
        "'nowhere' is not a pool: pools are ['batch-l4-spot', 'infer-l4', 'train-h100']")
    assert "Traceback" not in run.stderr


def test_model_registry_is_never_open(tmp_path: Path) -> None:
    text = CLOUD_AWS.replace("""  login:
    issuer: https://login.acme.example/realms/ml
    client_id: mlflow
    client_secret: mlflow-oidc-client-secret
""", "")
    assert problems(tmp_path, text) == [
        f"bp.yaml:{line_of(text, 'model_registry:')}: model_registry.login: MLflow would be "
        "open to anyone who reaches it: give login (issuer, client_id, client_secret) or "
        "basic_auth_secret"]


def test_oidc_login_needs_its_client_secret(tmp_path: Path) -> None:
    text = CLOUD_AWS.replace("    client_secret: jupyterhub-oidc-client-secret\n", "")
    assert problems(tmp_path, text) == [
        f"bp.yaml:{line_of(text, 'login:', after='notebooks:')}: "
        "notebooks.login.client_secret: required: name the stack secret holding the OAuth "
        "client secret (pulumi config set --secret aifactory:<name> ...), e.g. "
        "client_secret: oidc-client-secret"]


def test_alerts_need_a_last_route_for_everything(tmp_path: Path) -> None:
    text = CLOUD_AWS.replace("    - {receiver: platform-pager}                 # everything "
                             "else, to the platform on-call\n", "")
    assert problems(tmp_path, text) == [
        f"bp.yaml:{line_of(text, '- {team: applied')}: alerts.routes[0]: the last route must "
        "take every alert (no team, no severities), or alerts it does not match reach no one: "
        "add a last route with only a receiver"]


def test_serving_needs_the_models_zone(tmp_path: Path) -> None:
    text = CLOUD_AWS.replace("    models: {noncurrent_retention_days: 90}   # weights, MLflow "
                             "artifacts, mirrored public models\n", "")
    found = problems(tmp_path, text)
    assert found == [
        f"bp.yaml:{line_of(text, '  zones:')}: lakehouse.zones: model_registry keeps weights "
        "in the 'models' zone: add `models: {}` to lakehouse.zones",
        f"bp.yaml:{line_of(text, '  zones:')}: lakehouse.zones: serving keeps weights in the "
        "'models' zone: add `models: {}` to lakehouse.zones"]


def test_source_is_exactly_one() -> None:
    assert ModelSource(public="meta-llama/Llama-3.1-8B-Instruct").path() == \
        "mirror/meta-llama/Llama-3.1-8B-Instruct"
    assert ModelSource(mlflow="assistant/3").path() == "mlflow/registered/assistant/3"
    assert ModelSource(lakehouse="llama/v1/").path() == "llama/v1"
    with pytest.raises(ValueError, match="give exactly one of lakehouse, mlflow, public"):
        ModelSource(lakehouse="a", public="b/c")
