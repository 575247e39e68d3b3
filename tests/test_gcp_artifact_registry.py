"""ArtifactRegistry: regional Docker (and, when asked, Python) repositories, CMEK, immutable
tags, protected."""

from __future__ import annotations

from typing import Any

import pytest

from blueprints.errors import ComponentArgsError
from components.gcp import ArtifactRegistry, ArtifactRegistryArgs

REPO = "gcp:artifactregistry/repository:Repository"
KEY = "projects/p/locations/europe-west4/keyRings/r/cryptoKeys/registry"
LABELS = {"factory": "acme-gcp"}


def args(**overrides: Any) -> ArtifactRegistryArgs:
    values: dict[str, Any] = dict(
        region="europe-west4", docker_repositories=["acme-training", "acme-serving"],
        python_repository="acme-pypi", kms_key_id=KEY, labels=LABELS)
    values.update(overrides)
    return ArtifactRegistryArgs(**values)


def test_docker_repositories_are_cmek_immutable_scanned_and_protected(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: ArtifactRegistry("reg", args()))
    docker = [r for r in rec.of_type(REPO) if r.inputs["format"] == "DOCKER"]
    assert sorted(r.inputs["repositoryId"] for r in docker) == ["acme-serving", "acme-training"]
    for repo in docker:
        assert repo.protect
        assert repo.inputs["location"] == "europe-west4"
        assert repo.inputs["kmsKeyName"] == KEY
        assert repo.inputs["dockerConfig"] == {"immutableTags": True}
        assert repo.inputs["mode"] == "STANDARD_REPOSITORY"
        assert repo.inputs["vulnerabilityScanningConfig"] == {"enablementConfig": "INHERITED"}
        assert repo.inputs["labels"] == LABELS


def test_one_python_repository_under_the_same_key(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: ArtifactRegistry("reg", args()))
    python = rec.one(REPO, "reg-acme-pypi")
    assert python.protect
    assert python.inputs["format"] == "PYTHON"
    assert python.inputs["kmsKeyName"] == KEY
    assert python.inputs["location"] == "europe-west4"
    assert "dockerConfig" not in python.inputs


def test_mutable_tags_and_no_scanning_only_when_asked(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: ArtifactRegistry("reg", args(immutable_tags=False, scan_on_push=False)))
    repo = rec.one(REPO, "reg-acme-training").inputs
    assert repo["dockerConfig"] == {"immutableTags": False}
    assert repo["vulnerabilityScanningConfig"] == {"enablementConfig": "DISABLED"}


@pytest.mark.parametrize(("overrides", "message"), [
    ({"python_repository": "acme-training"}, "ArtifactRegistry reg: repository ids "
     "['acme-training', 'acme-serving', 'acme-training'] repeat one: the Python repository "
     "('acme-training') needs a name of its own"),
    ({"docker_repositories": ["Acme"]}, "ArtifactRegistry reg: repository id 'Acme' must be "
     "1-63 lower-case letters, digits and '-', starting with a letter"),
    ({"docker_repositories": []}, "ArtifactRegistry reg: docker_repositories is empty: name at "
     "least one"),
])
def test_bad_args_are_refused(run, overrides, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ComponentArgsError) as e:
        run(lambda: ArtifactRegistry("reg", args(**overrides)))
    assert str(e.value) == message


def test_no_python_repository_unless_asked(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: ArtifactRegistry("reg", args(python_repository=None)))
    assert sorted((r.name, r.inputs["format"]) for r in rec.of_type(REPO)) == [
        ("reg-acme-serving", "DOCKER"), ("reg-acme-training", "DOCKER")]


def test_the_blueprint_asks_for_the_python_repository() -> None:
    from conftest import EXAMPLES

    from aifactory.plan.document import plan_blueprint
    from blueprints.spec import load

    def formats(text: str) -> list[str]:
        from conftest import spec_from_yaml

        plan = plan_blueprint(spec_from_yaml(text), "gcp.yaml")
        return sorted(r["inputs"]["format"] for r in plan["resources"] if r["type"] == REPO)

    text = (EXAMPLES / "cloud-gcp.yaml").read_text()
    assert load(EXAMPLES / "cloud-gcp.yaml").registry.python_repository is False  # type: ignore[union-attr]
    assert formats(text) == ["DOCKER", "DOCKER", "DOCKER"]
    asked = text.replace("  repositories: [training, serving, notebooks]\n",
                         "  repositories: [training, serving, notebooks]\n"
                         "  python_repository: true\n")
    assert asked != text
    assert formats(asked) == ["DOCKER", "DOCKER", "DOCKER", "PYTHON"]
