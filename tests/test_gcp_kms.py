"""KmsKeys: a protected regional ring, rotating protected keys, narrow service-agent grants."""

from __future__ import annotations

from typing import Any

import pytest

from blueprints.errors import ComponentArgsError
from components.gcp import KmsKeys, KmsKeysArgs, service_agents

NUMBER = "314159265358"
LABELS = {"factory": "acme", "data-residency": "eu"}
KEY = "gcp:kms/cryptoKey:CryptoKey"
GRANT = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"


def args(**overrides: Any) -> KmsKeysArgs:
    values: dict[str, Any] = dict(
        project="acme-ml-prod", location="europe-west4", ring_name="acme-gcp-prod",
        keys={"gke": [service_agents.gke(NUMBER)],
              "lakehouse": [service_agents.storage(NUMBER)]},
        labels=LABELS)
    values.update(overrides)
    return KmsKeysArgs(**values)


def test_ring_lives_in_the_region_of_the_data_and_is_protected(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: KmsKeys("kms", args()))
    ring = rec.one("gcp:kms/keyRing:KeyRing", "kms-ring")
    assert ring.inputs == {"location": "europe-west4", "name": "acme-gcp-prod",
                           "project": "acme-ml-prod"}
    assert ring.protect
    assert ring.parent == rec.one("aifactory:gcp:KmsKeys").urn


def test_keys_rotate_every_90_days_are_protected_and_labelled(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: KmsKeys("kms", args()))
    keys = {k.name: k for k in rec.of_type(KEY)}
    assert sorted(keys) == ["kms-gke", "kms-lakehouse"]
    for purpose, key in (("gke", keys["kms-gke"]), ("lakehouse", keys["kms-lakehouse"])):
        assert key.protect
        assert key.inputs["rotationPeriod"] == "7776000s"  # 90 x 86,400 s
        assert key.inputs["purpose"] == "ENCRYPT_DECRYPT"
        assert key.inputs["keyRing"] == "kms-ring-id"
        assert key.inputs["destroyScheduledDuration"] == "2592000s"
        assert key.inputs["labels"] == {**LABELS, "purpose": purpose}


def test_each_service_agent_may_use_only_its_own_key(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: KmsKeys("kms", args()))
    grants = {g.name: g.inputs for g in rec.of_type(GRANT)}
    assert grants == {
        "kms-gke-container-engine-robot": {
            "cryptoKeyId": "kms-gke-id",
            "member": f"serviceAccount:service-{NUMBER}@container-engine-robot.iam."
                      "gserviceaccount.com",
            "role": "roles/cloudkms.cryptoKeyEncrypterDecrypter"},
        "kms-lakehouse-gs-project-accounts": {
            "cryptoKeyId": "kms-lakehouse-id",
            "member": f"serviceAccount:service-{NUMBER}@gs-project-accounts.iam."
                      "gserviceaccount.com",
            "role": "roles/cloudkms.cryptoKeyEncrypterDecrypter"},
    }


def test_service_agents_are_named_from_the_project_number() -> None:
    assert service_agents.compute(NUMBER) == (
        f"serviceAccount:service-{NUMBER}@compute-system.iam.gserviceaccount.com")
    assert service_agents.artifact_registry(NUMBER) == (
        f"serviceAccount:service-{NUMBER}@gcp-sa-artifactregistry.iam.gserviceaccount.com")
    with pytest.raises(ValueError, match="project number 'acme' must be 6-20 digits"):
        service_agents.gke("acme")


@pytest.mark.parametrize(("overrides", "message"), [
    ({"rotation_days": 0}, "KmsKeys kms: rotation_days (0) must lie between 1 and 3650: use 90 "
     "unless a baseline asks for less"),
    ({"location": "global"}, "KmsKeys kms: location ('global') must be the region of the data "
     "the keys protect, e.g. europe-west4; regional resources reject global keys"),
    ({"keys": {"gke key": []}}, "KmsKeys kms: key purpose 'gke key' is not a key id (1-63 "
     "letters, digits, '_' or '-'): rename it"),
    ({"keys": {}}, "KmsKeys kms: keys is empty: name at least one purpose"),
])
def test_bad_args_are_refused_before_anything_is_created(run, overrides, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ComponentArgsError) as e:
        run(lambda: KmsKeys("kms", args(**overrides)))
    assert str(e.value) == message
