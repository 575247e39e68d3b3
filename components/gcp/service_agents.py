"""Google-managed service agents, named from the project number (no look-up needed).

A customer-managed key is used by the service that encrypts with it, not by the caller: each
service acts through its own service agent, which must hold
`roles/cloudkms.cryptoKeyEncrypterDecrypter` on the key before the encrypted resource can be
created. The agents' e-mail addresses follow fixed patterns documented per service
("Using customer-managed encryption keys" pages of GKE, Compute Engine, Cloud Storage and
Artifact Registry; "Configure CMEK for log buckets" of Cloud Logging).
"""

from __future__ import annotations

import re

ENCRYPTER_DECRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"


def _check(project_number: str) -> str:
    if not re.fullmatch(r"\d{6,20}", project_number):
        raise ValueError(f"project number {project_number!r} must be 6-20 digits")
    return project_number


def _agent(project_number: str, domain: str) -> str:
    return f"serviceAccount:service-{_check(project_number)}@{domain}"


def gke(project_number: str) -> str:
    """Kubernetes Engine service agent: encrypts the cluster's secrets in etcd."""
    return _agent(project_number, "container-engine-robot.iam.gserviceaccount.com")


def compute(project_number: str) -> str:
    """Compute Engine service agent: creates the nodes' CMEK-encrypted boot disks."""
    return _agent(project_number, "compute-system.iam.gserviceaccount.com")


def storage(project_number: str) -> str:
    """Cloud Storage service agent: encrypts objects with a bucket's default key."""
    return _agent(project_number, "gs-project-accounts.iam.gserviceaccount.com")


def artifact_registry(project_number: str) -> str:
    """Artifact Registry service agent: encrypts repository contents."""
    return _agent(project_number, "gcp-sa-artifactregistry.iam.gserviceaccount.com")


def logging(project_number: str) -> str:
    """Cloud Logging service agent: encrypts a project's log buckets with their keys.

    Projects whose Logging settings predate this name use cmek-p<number>@gcp-sa-logging...;
    the blueprint can name that one instead (`logging_service_agent`).
    """
    return _agent(project_number, "gcp-sa-logging.iam.gserviceaccount.com")


def service_account_email(account_id: str, project: str) -> str:
    """E-mail of a user-managed service account: deterministic, so no output is awaited."""
    return f"{account_id}@{project}.iam.gserviceaccount.com"


def cloud_sql(project_number: str) -> str:
    """Cloud SQL service agent: encrypts an instance's disks and backups with its key."""
    return _agent(project_number, "gcp-sa-cloud-sql.iam.gserviceaccount.com")


def lustre(project_number: str) -> str:
    """Managed Lustre service agent: encrypts an instance's data with its key."""
    return _agent(project_number, "gcp-sa-lustre.iam.gserviceaccount.com")
