"""WorkloadAccess: lakehouse object access for the jobs' Kubernetes identities, nothing more."""

from __future__ import annotations

import pytest

from blueprints.errors import ComponentArgsError
from components.gcp import WorkloadAccess, WorkloadAccessArgs

MEMBER = "gcp:storage/bucketIAMMember:BucketIAMMember"


def args(namespaces: list[str]) -> WorkloadAccessArgs:
    return WorkloadAccessArgs(project="acme-ml-prod", project_number="314159265358",
                              namespaces=namespaces, service_account="training",
                              buckets={"raw": "acme-raw", "curated": "acme-curated"})


def test_each_team_job_identity_gets_object_user_on_each_bucket(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: WorkloadAccess("access", args(["team-a", "team-b"])))
    grants = {m.name: m.inputs for m in rec.of_type(MEMBER)}
    assert sorted(grants) == ["access-curated-team-a", "access-curated-team-b",
                              "access-raw-team-a", "access-raw-team-b"]
    assert grants["access-raw-team-b"] == {
        "bucket": "acme-raw", "role": "roles/storage.objectUser",
        "member": "principal://iam.googleapis.com/projects/314159265358/locations/global/"
                  "workloadIdentityPools/acme-ml-prod.svc.id.goog/subject/ns/team-b/sa/training"}
    assert {g["role"] for g in grants.values()} == {"roles/storage.objectUser"}


def test_namespaces_must_be_kubernetes_names(run) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ComponentArgsError) as e:
        run(lambda: WorkloadAccess("access", args(["Team_A"])))
    assert str(e.value) == ("WorkloadAccess access: 'Team_A' is not a Kubernetes name "
                            "(lower-case letters, digits and '-', at most 63)")
