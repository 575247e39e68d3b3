"""The recording monitor: parents, protect, secrets, numbers, determinism."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pytest

from aifactory.plan.recorder import SECRET_MASK, normalise
from components.base import FactoryComponent


class Demo(FactoryComponent):
    def __init__(self, name: str) -> None:
        super().__init__("aifactory:test:Demo", name, {"gpus": 8, "powerKw": 10.2})
        key = aws.kms.Key(f"{name}-key", enable_key_rotation=True, opts=self.data_opts())
        aws.secretsmanager.SecretVersion(
            f"{name}-secret", secret_id="s", secret_string=pulumi.Output.secret("hunter2"),
            opts=self.child_opts())
        aws.s3.Bucket(f"{name}-bucket", tags={"k": key.arn}, opts=self.data_opts())
        self.register_outputs({})


def test_records_parent_protect_and_facts(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: Demo("demo"))
    component = rec.one("aifactory:test:Demo")
    assert component.parent is None and not component.custom
    assert component.inputs == {"gpus": 8, "powerKw": 10.2}
    key = rec.one("aws:kms/key:Key")
    assert key.parent == component.urn and key.protect and key.custom
    assert key.inputs == {"enableKeyRotation": True}
    bucket = rec.one("aws:s3/bucket:Bucket")
    assert bucket.dependencies == [key.urn]
    assert bucket.inputs["tags"] == {"k": "arn:aws:kms:::demo-key"}


def test_secrets_are_masked(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: Demo("demo"))
    secret = rec.one("aws:secretsmanager/secretVersion:SecretVersion")
    assert secret.inputs["secretString"] == SECRET_MASK
    assert "hunter2" not in repr([r.to_json() for r in rec.all])


def test_runs_are_independent_and_deterministic(run) -> None:  # type: ignore[no-untyped-def]
    first = [r.to_json() for r in run(lambda: Demo("demo")).all]
    second = [r.to_json() for r in run(lambda: Demo("demo")).all]
    assert first == second


def test_invokes_are_refused(run) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Exception, match="live cloud look-up"):
        run(lambda: aws.get_caller_identity())


@pytest.mark.parametrize(("raw", "expected"), [
    (8.0, 8), (0.5, 0.5), ({"b": 1.0, "a": [2.0, "x"]}, {"a": [2, "x"], "b": 1}),
])
def test_normalise(raw: object, expected: object) -> None:
    assert normalise(raw) == expected
