"""The blueprint spec: pydantic v2 models, one reviewed YAML file describes a whole AI factory.

Pydantic stops here: `blueprints.compose` turns a validated `Blueprint` into component args.
Catalog look-ups (instance types, server and GPU models) are validated here too, so that a
blueprint naming something the catalog does not know fails at load time, with its line.
"""

from __future__ import annotations

import difflib
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)

import catalog
from blueprints.spec.base import NAME_PATTERN, Name, ProblemPath, Strict, check_cidr, fail
from blueprints.spec.clouds import AwsEnvironment, AwsQuotas, GcpEnvironment
from blueprints.spec.fabric import fabric_charts, fabric_manifests
from blueprints.spec.lakehouse import LakehouseCatalog, Pipelines, lakehouse_problems
from blueprints.spec.lifecycle import (
    Alerts,
    ModelRegistry,
    Monitoring,
    Notebooks,
    Serving,
    lifecycle_problems,
)
from blueprints.spec.policy import ImageMirror, PolicySettings, Sovereignty, Tags, Waiver
from blueprints.spec.pools import GPU_TAINT, GpuPool, GpuSharing, Taint
from blueprints.spec.site import (
    BootNetwork,
    CommandHook,
    Equipment,
    Feeds,
    Host,
    Netboot,
    OnPremSite,
    Provisioning,
    Rack,
    SiteCluster,
)
from blueprints.spec.site_services import (
    SiteRegistry,
    postgres_services,
    site_database_problems,
    site_lakehouse_problems,
    site_registry_problems,
)
from blueprints.spec.training_storage import TrainingStorage, training_storage_problems
from catalog import cloud as cloud_catalog
from catalog import mig
from catalog.charts import (
    MANIFEST_IMAGES,
    VLLM_RUNTIME,
    default_tags,
    upstream_images,
    version_of,
)
from catalog.workloads import WORKLOAD_OPERATORS

__all__ = [
    "GPU_TAINT", "NAME_PATTERN", "AwsEnvironment", "AwsQuotas", "Blueprint", "BootNetwork",
    "CommandHook", "Environment", "Equipment", "Feeds", "GcpEnvironment", "GpuPool",
    "GpuSharing", "Host", "ImageMirror", "Lakehouse", "LakehouseZone", "Name", "Netboot",
    "OnPremSite", "PolicySettings", "Provisioning", "Queueing", "Rack", "Registry", "Replication",
    "SiteCluster", "Sovereignty", "Strict", "Tags", "Taint", "Team", "Waiver", "check_cidr",
    "fail",
]

Environment = Annotated[
    AwsEnvironment | GcpEnvironment | OnPremSite, Field(discriminator="kind")
]


# ---------------------------------------------------------------------------------------------
# The lakehouse, registries, queueing, and the blueprint that holds them all


class LakehouseZone(Strict):
    """One zone of the lakehouse (raw, curated, features, ...): a bucket of its own."""

    retention_days: int | None = Field(
        None, ge=1, le=36500, description="Delete objects after this many days (none: keep)."
    )
    noncurrent_retention_days: int = Field(
        30, ge=1, le=3650, description="Delete superseded object versions after this many days."
    )
    archive_after_days: int | None = Field(
        None, ge=1, le=36500, description="Move objects to archive storage after this many days."
    )

    @model_validator(mode="after")
    def _archive_before_expiry(self) -> LakehouseZone:
        if self.retention_days is not None and self.archive_after_days is not None \
                and self.archive_after_days >= self.retention_days:
            fail([("archive_after_days", f"archive_after_days ({self.archive_after_days}) is "
                   f"not below retention_days ({self.retention_days}): objects would be deleted "
                   "before they are archived; lower archive_after_days or raise retention_days")])
        return self


class Replication(Strict):
    """Copy every zone to a second region."""

    region: str = Field(
        description="Destination region (same cloud as the lakehouse). AWS: a replica bucket "
        "there with its own key; GCP: each bucket becomes a dual-region of the lakehouse's "
        "region and this one (same multi-region), under a key in that multi-region.")


class Lakehouse(Strict):
    """The object-storage lakehouse: a bucket per zone."""

    environment: str = Field(description="Environment holding the buckets: a cloud (S3, "
                             "Cloud Storage) or a site (a MinIO tenant, with `site`).")
    zones: dict[str, LakehouseZone] = Field(min_length=1, description="Zones by name.")
    replication: Replication | None = Field(None, description="Cross-region replication.")
    catalog: LakehouseCatalog | None = Field(
        None, description="Iceberg catalog over the zones, with namespaces and grants per team.")


class Registry(Strict):
    """Container (and model) registry."""

    environment: str = Field(description="Environment holding the registry: a cloud (ECR, "
                             "Artifact Registry) or a site (Harbor, with `site`).")
    repositories: list[Name] = Field(min_length=1, description="Repositories to create.")
    immutable_tags: bool = Field(True, description="Tags cannot be moved once pushed.")
    scan_on_push: bool = Field(True, description="Scan images for vulnerabilities on push.")
    python_repository: bool = Field(
        False, description="GCP: also a Python (PyPI) repository, <factory>-pypi, under the "
        "same key and rules (ECR holds container images only).")
    site: SiteRegistry | None = Field(
        None, description="On a site: Harbor's address, certificates, secrets, offline "
        "vulnerability database and proxy caches (required there, refused in a cloud).")

    @field_validator("repositories")
    @classmethod
    def _each_once(cls, v: list[str]) -> list[str]:
        first: dict[str, int] = {}
        problems = [(f"{i}", f"{r!r} repeats repositories[{first[r]}]: list each repository "
                     "once") for i, r in enumerate(v) if first.setdefault(r, i) != i]
        fail(problems)
        return v


Workload = Literal["jobset", "leaderworkerset", "ray"]
"""Workload operators the platform can install: the keys of catalog.workloads."""
DEFAULT_PRIORITIES = {"production": 1000, "research": 100}


class TeamQuota(Strict):
    """A team's GPUs on a pool (or on every pool of a GPU model): Kueue quota of its queue."""

    nominal: int = Field(
        ge=0, le=100_000,
        description="GPUs the team is guaranteed (Kueue nominalQuota); others may borrow "
        "them while idle, unless lending_limit says otherwise.",
    )
    borrowing_limit: int | None = Field(
        None, ge=0, le=100_000,
        description="Most GPUs the team may borrow beyond nominal from the cohort (none: as "
        "many as are idle).",
    )
    lending_limit: int | None = Field(
        None, ge=0, le=100_000,
        description="Most of its idle nominal GPUs the team lends to others (none: all).",
    )

    @model_validator(mode="after")
    def _lend_within_nominal(self) -> TeamQuota:
        if self.lending_limit is not None and self.lending_limit > self.nominal:
            fail([("lending_limit", f"lending_limit ({self.lending_limit}) is above nominal "
                   f"({self.nominal}): a team can lend only GPUs it holds; lower it")])
        return self


class Team(Strict):
    """A team that submits jobs: a namespace, its own ClusterQueue, quotas and a weight."""

    namespace: str = Field(pattern=NAME_PATTERN, description="Kubernetes namespace of the team.")
    quotas: dict[str, TeamQuota] = Field(
        default_factory=dict,
        description="GPU quotas by pool name or by GPU model: a model's nominal and lending "
        "quota is split over its pools in flavor order (own hardware first, each pool filled "
        "to its GPUs), its borrowing limit applies on each. In GPUs; on a shared pool Kueue "
        "counts each GPU as the MIG instances or time-shared replicas it exposes. A team "
        "without a quota only borrows idle GPUs.",
    )
    weight: float = Field(
        1.0, gt=0, le=1000,
        description="Fair-sharing weight: idle GPUs are shared between borrowing teams in "
        "proportion to their weights.",
    )
    priority: str | None = Field(
        None, pattern=NAME_PATTERN,
        description="Highest workload priority class the team's jobs may use (a key of "
        "queueing.priorities); jobs asking for a higher one are refused at admission. "
        "None: any.",
    )


class Queueing(Strict):
    """Kueue job queueing across pools."""

    environment: str = Field(description="Cluster where Kueue runs (the management cluster).")
    teams: dict[Name, Team] = Field(min_length=1, description="Teams by name.")
    cohort: Name = Field("ai-factory", description="Cohort the teams' ClusterQueues share.")
    integrations: list[Workload] | None = Field(
        None,
        description="Workload kinds Kueue manages besides batch Jobs and pods; each needs its "
        "operator in platform.workloads. Default: every installed workload operator.",
    )
    priorities: dict[Name, int] = Field(
        default_factory=lambda: dict(DEFAULT_PRIORITIES), min_length=1,
        description="Workload priority classes (name: value); higher may preempt lower.",
    )

    @field_validator("integrations")
    @classmethod
    def _integrations_once(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return v
        first: dict[str, int] = {}
        fail([(f"{i}", f"{w!r} repeats integrations[{first[w]}]: list each once")
              for i, w in enumerate(v) if first.setdefault(w, i) != i])
        return v

    @model_validator(mode="after")
    def _team_priorities(self) -> Queueing:
        fail([(f"teams.{n}.priority", f"{t.priority!r} is not a priority class: declared are "
               f"{sorted(self.priorities)} (queueing.priorities)")
              for n, t in self.teams.items()
              if t.priority is not None and t.priority not in self.priorities])
        return self


class Platform(Strict):
    """What the platform layer installs on the clusters besides the defaults."""

    workloads: list[Workload] = Field(
        default_factory=list,
        description="Workload operators to install on every cluster that runs GPU jobs: "
        "jobset (JobSet), leaderworkerset (LeaderWorkerSet), ray (KubeRay); each a chart "
        "pinned in catalog/charts.py.",
    )

    @field_validator("workloads")
    @classmethod
    def _each_once(cls, v: list[str]) -> list[str]:
        first: dict[str, int] = {}
        fail([(f"{i}", f"{w!r} repeats workloads[{first[w]}]: list each once")
              for i, w in enumerate(v) if first.setdefault(w, i) != i])
        return v


class Blueprint(Strict):
    """An AI factory: environments, GPU pools, the lakehouse, registries and policies."""

    name: Name = Field(description="Factory name; prefixes every resource name.")
    description: str = Field("", max_length=500, description="What this factory is for.")
    tags: Tags = Field(description="Tags put on every taggable resource.")
    environments: dict[Name, Environment] = Field(
        min_length=1, description="Clouds and sites by name."
    )
    pools: dict[Name, GpuPool] = Field(default_factory=dict, description="GPU pools by name.")
    lakehouse: Lakehouse | None = Field(None, description="Object-storage lakehouse.")
    registry: Registry | None = Field(None, description="Container registry.")
    training_storage: dict[Name, TrainingStorage] = Field(
        default_factory=dict, description="Training file systems by name, one an environment "
        "(FSx for Lustre, Managed Lustre, GCS FUSE, a site's NFS/Lustre/GPFS).")
    queueing: Queueing | None = Field(None, description="Kueue job queueing.")
    platform: Platform = Field(
        default_factory=lambda: Platform(), description="Workload operators and other extras."
    )
    model_registry: ModelRegistry | None = Field(
        None, description="MLflow tracking and model registry.")
    serving: Serving | None = Field(None, description="KServe model serving (vLLM).")
    notebooks: Notebooks | None = Field(None, description="JupyterHub notebooks.")
    pipelines: Pipelines | None = Field(
        None, description="Argo Workflows pipelines over the lakehouse, and the drift watch.")
    alerts: Alerts | None = Field(None, description="Alert receivers and routes.")
    monitoring: Monitoring = Field(
        default_factory=lambda: Monitoring(), description="Monitoring settings (Grafana).")
    sovereignty: Sovereignty | None = Field(None, description="Declared jurisdiction.")
    policy: PolicySettings = Field(
        default_factory=lambda: PolicySettings(), description="Policy settings and waivers."
    )

    @model_validator(mode="wrap")
    @classmethod
    def _references_even_when_broken(cls, data: Any,
                                     handler: ValidatorFunctionWrapHandler) -> Blueprint:
        """When some field is wrong, the references between sections are still checked on the
        raw values, so one run reports a type error and a dangling reference together."""
        try:
            bp: Blueprint = handler(data)
        except ValidationError as e:
            problems = raw_reference_problems(data) if isinstance(data, dict) else []
            if not problems:
                raise
            found = ValueError("\n".join(f"@{path}|{message}" for path, message in problems))
            raise ValidationError.from_exception_data(e.title, [
                *e.errors(),  # type: ignore[list-item]
                {"type": "value_error", "loc": (), "input": data, "ctx": {"error": found}},
            ]) from None
        return bp

    @model_validator(mode="after")
    def _references(self) -> Blueprint:
        problems: list[tuple[ProblemPath, str]] = []
        for name, pool in self.pools.items():
            env = self.environments.get(pool.environment)
            where = f"pools.{name}"
            if env is None:
                problems.append((f"{where}.environment", f"{pool.environment!r} is not an "
                                 f"environment: declared are {sorted(self.environments)}"))
                continue
            problems.extend(_pool_fits_environment(where, pool, env))
        claimed: dict[tuple[str, str], str] = {}
        for name, pool in self.pools.items():
            env = self.environments.get(pool.environment)
            if not isinstance(env, OnPremSite):
                continue
            listed = pool.hosts is not None
            names = pool.hosts if pool.hosts is not None else [x.hostname for x in env.gpu_hosts]
            for i, h in enumerate(names):
                owner = claimed.setdefault((pool.environment, h), name)
                if owner != name:
                    problems.append((f"pools.{name}.hosts" + (f".{i}" if listed else ""),
                                     f"{h!r} is already in pool {owner!r}: a host belongs to "
                                     "one pool; list the hosts of each pool"))
        for section, ref, allowed in (
            ("lakehouse", self.lakehouse, ("aws", "gcp", "onprem")),
            ("registry", self.registry, ("aws", "gcp", "onprem")),
            ("queueing", self.queueing, ("aws", "gcp", "onprem")),
        ):
            if ref is None:
                continue
            env = self.environments.get(ref.environment)
            if env is None:
                problems.append((f"{section}.environment", f"{ref.environment!r} is not an "
                                 f"environment: declared are {sorted(self.environments)}"))
            elif env.kind not in allowed:
                problems.append((f"{section}.environment", f"{ref.environment!r} is "
                                 f"{env.kind}: {section} needs one of {', '.join(allowed)}"))
        for env_name, env in self.environments.items():
            if isinstance(env, OnPremSite) and env.cluster.storage_class is None:
                users = " and ".join(volume_users(self, env_name))
                problems.append((f"environments.{env_name}.cluster.storage_class",
                                 f"required: {users} needs a persistent volume on the site's "
                                 "cluster, and the factory installs no storage there; name "
                                 "the cluster's existing StorageClass (kubectl get "
                                 "storageclass), e.g. storage_class: ceph-rbd"))
        if self.queueing is not None:
            problems.extend(_queueing_problems(self, self.queueing))
        problems.extend(_gcp_replication(self))
        problems.extend(lifecycle_problems(self))
        problems.extend(training_storage_problems(self))
        problems.extend(site_lakehouse_problems(self.lakehouse, self.environments))
        problems.extend(site_registry_problems(self.registry, self.environments))
        problems.extend(site_database_problems(self))
        problems.extend(lakehouse_problems(self))
        reg = self.registry
        if reg is not None and reg.python_repository and getattr(
                self.environments.get(reg.environment), "kind", None) == "aws":
            problems.append(("registry.python_repository", "ECR holds container images only: "
                             "a Python repository needs a GCP registry (Artifact Registry); "
                             "remove python_repository"))
        fail(problems)
        return self

    def platform_charts(self) -> list[str]:
        """The upstream charts the platform layer installs for this blueprint: monitoring
        always, the GPU operator with GPU pools, Kueue with queueing, Karpenter where an EKS
        pool is elastic, the workload operators the blueprint names, MinIO's operator (with the
        images of its Tenant, pinned by MinIO's tenant chart) for a site's object storage,
        Harbor for a site registry, and CloudNativePG where a service keeps its database on
        a site."""
        charts = ["kube-prometheus-stack"]
        if self.pools:
            charts.append("gpu-operator")
        if self.queueing is not None:
            charts.append("kueue")
        if self.karpenter_environments():
            charts += ["karpenter-crd", "karpenter"]
        charts += [WORKLOAD_OPERATORS[w].chart.name for w in self.platform.workloads]
        if self.serving is not None:
            charts += ["cert-manager", "keda", "kserve-crd", "kserve-resources"]
            if self.environments[self.serving.environment].kind != "gcp":
                charts.append("gateway-helm")  # GKE's own gateway controller elsewhere
            charts.append(VLLM_RUNTIME)  # the image of our ServingRuntime
        if self.model_registry is not None:
            charts.append("mlflow")
        if self.notebooks is not None:
            charts.append("jupyterhub")
        if any(isinstance(e, OnPremSite) and e.object_storage is not None
               for e in self.environments.values()):
            charts += ["operator", "tenant"]  # MinIO's: the operator, the Tenant's images
        if self.registry is not None and self.registry.site is not None:
            charts.append("harbor")
        if postgres_services(self):
            charts.append("cloudnative-pg")
        if self.pipelines is not None:
            charts.append("argo-workflows")
        charts += fabric_charts(self)
        if any(s.kind == "fsx-lustre" for s in self.training_storage.values()):
            charts.append("aws-fsx-csi-driver")
        return charts

    def platform_image_sets(self) -> list[str]:
        """The charts, and the upstream manifests built as our own objects (GPUDirect's NCCL
        installer), whose images a sovereign mirror holds."""
        return [*self.platform_charts(), *fabric_manifests(self)]

    @model_validator(mode="after")
    def _mirror_lock_complete(self) -> Blueprint:
        mirror = self.sovereignty.mirror if self.sovereignty else None
        if mirror is None:
            return self
        charts = self.platform_image_sets()
        wanted = default_tags(charts)
        locked = {ref.rpartition(":")[0]: ref.rpartition(":")[2] for ref in mirror.images}
        where = "sovereignty.mirror"
        fix = "`aifactory mirror lock` prints the lock"
        problems: list[tuple[ProblemPath, str]] = []
        for repo in upstream_images(charts):
            tag, chart = wanted[repo]
            if repo not in locked:
                problems.append((f"{where}.images", f"no entry for {repo} ({_puller(chart)} "
                                 f"pulls {repo}:{tag}): mirror it to {mirror.registry}/{repo} "
                                 f"and add '{repo}:{tag}: sha256:<digest>' ({fix})"))
            elif locked[repo] != tag and repo not in mirror.tag_overrides:
                problems.append((("sovereignty", "mirror", "images", f"{repo}:{locked[repo]}"),
                                 f"{repo} is locked at {locked[repo]}, but {_puller(chart)} "
                                 f"{version_of(chart)} pulls {tag}: mirror {repo}:{tag} and "
                                 "lock that, or name the repository under "
                                 f"{where}.tag_overrides with the reason ({fix})"))
        for repo, tag in sorted(locked.items()):
            if repo not in wanted:
                problems.append((("sovereignty", "mirror", "images", f"{repo}:{tag}"),
                                 f"{repo} is not an image the "
                                 f"factory's {_pullers(charts)} pull: remove it from "
                                 f"the lock ({fix})"))
        for repo in sorted(mirror.tag_overrides):
            if repo not in wanted:
                problems.append((("sovereignty", "mirror", "tag_overrides", repo),
                                 f"{repo} is not an image the "
                                 f"factory's charts pull: remove the override"))
        fail(problems)
        return self

    def environment_of(self, pool: GpuPool) -> AwsEnvironment | GcpEnvironment | OnPremSite:
        """The environment a pool runs in."""
        return self.environments[pool.environment]

    def gpu_model_of(self, pool: GpuPool) -> str:
        """The GPU model of a pool: its instance type's, or its site's servers'."""
        env = self.environment_of(pool)
        if isinstance(env, OnPremSite):
            chosen = set(pool.hosts) if pool.hosts is not None else {h.hostname
                                                                     for h in env.gpu_hosts}
            host = next(h for h in env.hosts if h.hostname in chosen)
            return catalog.server(host.server_model).gpu
        return catalog.instance(pool.types[0]).gpu

    def karpenter_environments(self) -> list[str]:
        """AWS environments whose cluster runs Karpenter: every one with an elastic pool."""
        return sorted({p.environment for p in self.pools.values() if p.elastic
                       and self.environments[p.environment].kind == "aws"})

    def job_environments(self) -> list[str]:
        """Clusters that run GPU jobs (get the workload operators): every one with GPU pools,
        and the queueing cluster."""
        envs = {p.environment for p in self.pools.values()}
        if self.queueing is not None:
            envs.add(self.queueing.environment)
        return sorted(envs)

    def integrations(self) -> list[str]:
        """Workload kinds Kueue manages beyond batch Jobs and pods."""
        q = self.queueing
        if q is not None and q.integrations is not None:
            return list(q.integrations)
        return list(self.platform.workloads)


def volume_users(spec: Blueprint, env_name: str) -> list[str]:
    """What claims a persistent volume on an environment's cluster (the platform layer's
    monitoring on every cluster; later building blocks add theirs here)."""
    del spec, env_name  # every cluster runs the monitoring stack
    return ["Prometheus (monitoring)"]


def _gpu_model_or_none(spec: Blueprint, pool: GpuPool) -> str | None:
    try:
        return spec.gpu_model_of(pool)
    except (KeyError, StopIteration, IndexError, catalog.UnknownCatalogEntryError):
        return None  # reported where the pool is checked


def _queueing_problems(spec: Blueprint, q: Queueing) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    installed = set(spec.platform.workloads)
    for i, w in enumerate(q.integrations or []):
        if w not in installed:
            problems.append((f"queueing.integrations[{i}]", f"{w!r} needs its operator "
                             f"({WORKLOAD_OPERATORS[w].title}) on the clusters: add {w} to "
                             "platform.workloads, or remove it here"))
    models: dict[str, list[str]] = {}
    for name, pool in spec.pools.items():
        model = _gpu_model_or_none(spec, pool)
        if model is not None:
            models.setdefault(model, []).append(name)
    for team_name, team in q.teams.items():
        for key in team.quotas:
            where = f"queueing.teams.{team_name}.quotas.{key}"
            if key in spec.pools:
                model = _gpu_model_or_none(spec, spec.pools[key])
                if model is not None and model in team.quotas:
                    problems.append((where, f"pool {key!r} is also covered by the team's "
                                     f"quota on GPU model {model!r}: give one of them"))
            elif key not in models:
                known = sorted(spec.pools) + sorted(models)
                close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
                hint = f"did you mean {close[0]!r}? " if close else ""
                problems.append((where, f"{key!r} is neither a pool nor the GPU model of a "
                                 f"pool: {hint}pools are {sorted(spec.pools)}, GPU models "
                                 f"{sorted(models)}"))
    return problems


def _gcp_replication(bp: Blueprint) -> list[tuple[str, str]]:
    """A GCS lakehouse replicates into a configurable dual-region: a second region of the same
    multi-region."""
    lake = bp.lakehouse
    env = bp.environments.get(lake.environment) if lake is not None else None
    if lake is None or lake.replication is None or not isinstance(env, GcpEnvironment):
        return []
    to = lake.replication.region
    if cloud_catalog.gcp_dual_region(env.region, to) is not None:
        return []
    group = next((g for g, (_, regions) in cloud_catalog.GCP_DUAL_REGION_GROUPS.items()
                  if env.region in regions), None)
    others = sorted(cloud_catalog.GCP_DUAL_REGION_GROUPS[group][1] - {env.region}) \
        if group else []
    fix = f"use another region of the {group} multi-region: {', '.join(others)}" if group \
        else f"{env.region} is in no Cloud Storage multi-region: remove replication"
    what = "the lakehouse's own region" if to == env.region else \
        f"not a region that pairs with {env.region} in a Cloud Storage dual-region"
    return [("lakehouse.replication.region", f"{to!r} is {what}: {fix}")]


def raw_reference_problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    """References between sections, read from raw blueprint data (what is sound of it): each
    pool's and section's environment, and the hosts a pool lists."""
    envs = data.get("environments")
    if not isinstance(envs, dict):
        return []
    declared = sorted(str(k) for k in envs)
    problems: list[tuple[str, str]] = []
    pools = data.get("pools")
    for name, pool in (pools.items() if isinstance(pools, dict) else ()):
        if not isinstance(pool, dict) or not isinstance(pool.get("environment"), str):
            continue
        env = envs.get(pool["environment"])
        if env is None:
            problems.append((f"pools.{name}.environment", f"{pool['environment']!r} is not an "
                             f"environment: declared are {declared}"))
            continue
        raw_hosts = env.get("hosts") if isinstance(env, dict) else None
        if isinstance(raw_hosts, list) and isinstance(pool.get("hosts"), list):
            known = {h.get("hostname") for h in raw_hosts if isinstance(h, dict)}
            problems.extend((f"pools.{name}.hosts.{i}", f"{h!r} is not in the inventory of "
                             f"{pool['environment']!r}")
                            for i, h in enumerate(pool["hosts"]) if h not in known)
    for section, allowed in (("lakehouse", ("aws", "gcp", "onprem")),
                             ("registry", ("aws", "gcp", "onprem")),
                             ("queueing", ("aws", "gcp", "onprem"))):
        ref = data.get(section)
        if not isinstance(ref, dict) or not isinstance(ref.get("environment"), str):
            continue
        env = envs.get(ref["environment"])
        if env is None:
            problems.append((f"{section}.environment", f"{ref['environment']!r} is not an "
                             f"environment: declared are {declared}"))
        elif isinstance(env, dict) and env.get("kind") in ("aws", "gcp", "onprem") \
                and env["kind"] not in allowed:
            problems.append((f"{section}.environment", f"{ref['environment']!r} is "
                             f"{env['kind']}: {section} needs one of {', '.join(allowed)}"))
    return problems


def _pool_fits_hosts(where: str, pool: GpuPool, env: OnPremSite) -> list[tuple[str, str]]:
    """An on-prem pool cannot hold more nodes than it has hosts."""
    known = {h.hostname for h in env.gpu_hosts}
    hosts = [h for h in pool.hosts if h in known] if pool.hosts is not None else sorted(known)
    which = (f"the {len(hosts)} hosts it lists" if pool.hosts is not None
             else f"the {len(hosts)} hosts of {pool.environment}")
    problems: list[tuple[str, str]] = []
    for field, value in (("min_nodes", pool.min_nodes), ("max_nodes", pool.max_nodes)):
        if value > len(hosts):
            problems.append((f"{where}.{field}", f"{field} ({value}) is more than {which}: "
                             f"lower {field} to {len(hosts)} or add hosts to the inventory "
                             "and the pool"))
    if pool.desired_nodes is not None and pool.desired_nodes > len(hosts):
        problems.append((f"{where}.desired_nodes", f"desired_nodes ({pool.desired_nodes}) is "
                         f"more than {which}: lower it to {len(hosts)} or add hosts"))
    return problems


def _pullers(names: list[str]) -> str:
    """The charts (and manifest sets) that pull a factory's images, in words."""
    charts = [n for n in names if n not in MANIFEST_IMAGES]
    sets = [n for n in names if n in MANIFEST_IMAGES]
    out = f"charts ({', '.join(charts)})"
    return f"{out} and manifests ({', '.join(sets)})" if sets else out


def _puller(name: str) -> str:
    """What pulls an image, in words: a chart, or an upstream manifest set we build."""
    return f"manifests {name}" if name in MANIFEST_IMAGES else f"chart {name}"


def _pool_zones(where: str, pool: GpuPool, env: AwsEnvironment | GcpEnvironment,
                itype: catalog.InstanceType) -> list[tuple[str, str]]:
    """A GCP pool's zones are zones of its environment; AWS pools take none."""
    if pool.zones is None:
        return []
    if isinstance(env, AwsEnvironment):
        return [(f"{where}.zones", "AWS pools span the environment's availability_zones: "
                 "remove zones (compact_placement puts the nodes in one zone)")]
    problems = []
    for i, zone in enumerate(pool.zones):
        if zone not in env.zones:
            problems.append((f"{where}.zones.{i}", f"{zone!r} is not one of the environment's "
                             f"zones {list(env.zones)}: pick from them, or add it to "
                             f"environments.{pool.environment}.zones"))
    if len(set(pool.zones)) != len(pool.zones):
        problems.append((f"{where}.zones", f"{pool.zones} repeat a zone: name each zone once"))
    return problems


def _pool_fits_environment(
    where: str, pool: GpuPool, env: AwsEnvironment | GcpEnvironment | OnPremSite
) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if isinstance(env, OnPremSite):
        if pool.types:
            field = "instance_types" if pool.instance_types is not None else "instance_type"
            problems.append((f"{where}.{field}", "on-prem pools take `hosts`, not instance types"))
        known = {h.hostname for h in env.hosts}
        roles = {h.hostname: h.role for h in env.hosts}
        for i, h in enumerate(pool.hosts or []):
            if h not in known:
                problems.append((f"{where}.hosts.{i}",
                                 f"{h!r} is not in the inventory of {pool.environment!r}"))
            elif roles[h] != "gpu":
                problems.append((f"{where}.hosts.{i}",
                                 f"{h!r} is a {roles[h]} host: a GPU pool runs on gpu hosts"))
        known = {h.hostname for h in env.gpu_hosts}
        if pool.capacity != "on-demand":
            problems.append((f"{where}.capacity", "owned hosts are always on-demand"))
        if pool.zones is not None:
            problems.append((f"{where}.zones", "only GCP pools take zones: an on-prem pool "
                             "runs on its hosts"))
        problems.extend(_pool_fits_hosts(where, pool, env))
        chosen = set(pool.hosts) if pool.hosts is not None else known
        gpus = sorted({catalog.server(h.server_model).gpu for h in env.gpu_hosts
                       if h.hostname in chosen})
        if pool.accelerator is not None:
            for host in env.gpu_hosts:  # another role is refused above
                gpu = catalog.server(host.server_model).gpu
                if host.hostname in chosen and gpu != pool.accelerator:
                    problems.append((f"{where}.accelerator", f"{pool.accelerator!r} does not "
                                     f"match host {host.hostname} ({host.server_model}, {gpu})"))
        if pool.gpu_sharing is not None and len(gpus) == 1:
            problems.extend(_sharing_problems(where, pool.gpu_sharing, gpus[0]))
        return problems
    if not pool.types:
        return [(f"{where}.instance_type", f"required for a {env.kind} pool")]
    if pool.hosts is not None:
        return [(f"{where}.hosts", "only on-prem pools take hosts")]
    field = "instance_types" if pool.instance_types is not None else "instance_type"
    if pool.instance_types is not None and env.kind != "aws":
        return [(f"{where}.instance_types", f"a {env.kind} node pool has one machine type: "
                 "use instance_type (several types per pool are an AWS/Karpenter feature)")]
    types = [catalog.instance(t) for t in pool.types]
    for i, itype in enumerate(types):
        at = f"{where}.{field}" + (f"[{i}]" if pool.instance_types is not None else "")
        if itype.cloud != env.kind:
            problems.append((at, f"{itype.name!r} is a {itype.cloud} type, but environment "
                             f"{pool.environment!r} is {env.kind}"))
    if problems:
        return problems
    first = types[0]
    for i, itype in enumerate(types[1:], start=1):
        if (itype.gpu, itype.quota_class) != (first.gpu, first.quota_class):
            problems.append((f"{where}.instance_types[{i}]", f"{itype.name} has {itype.gpu} "
                             f"(quota class {itype.quota_class}), but {first.name} has "
                             f"{first.gpu} ({first.quota_class}): a pool's types share one GPU "
                             "model and quota class; make another pool for it"))
    # Whether the type is offered in the region is the policy rule
    # capacity-instance-availability's to report (waivable, named in the check report).
    problems.extend(_pool_zones(where, pool, env, first))
    if catalog.gpu(first.gpu).vendor != "nvidia":
        problems.append((f"{where}.{field}", f"{first.name} carries "
                         f"{first.gpus} x {first.accelerator} ({catalog.gpu(first.gpu).vendor}), "
                         "which pools cannot run yet: the platform layer installs NVIDIA's GPU "
                         "operator and schedules nvidia.com/gpu; choose an NVIDIA type "
                         "(`aifactory catalog instances --cloud aws`)"))
    if pool.accelerator is not None:
        for itype in types:
            if pool.accelerator != itype.gpu:
                at = f"{where}.accelerator"
                problems.append((at, f"{pool.accelerator!r} does not match {itype.name}, "
                                 f"which has {itype.gpus} x {itype.gpu}"))
    if pool.capacity == "capacity-block" and env.kind != "aws":
        problems.append((f"{where}.capacity", "'capacity-block' is an AWS purchase option; "
                         "on GCP use `reservation` with on-demand"))
    if pool.gpu_sharing is not None:
        sharing = _sharing_problems(where, pool.gpu_sharing, first.gpu)
        problems.extend(sharing)
        if not sharing and env.kind == "aws" and pool.elastic \
                and pool.gpu_sharing.strategy == "mig":
            problems.append((f"{where}.gpu_sharing", "MIG on an elastic EKS pool: Karpenter "
                             "knows an instance type's nvidia.com/gpu, not the "
                             "nvidia.com/mig-* resources MIG exposes, so it would never launch "
                             "a node for a job asking for them; give the pool a fixed size "
                             f"(min_nodes = max_nodes = {pool.max_nodes}), or use "
                             "time-sharing"))
    return problems


def _sharing_problems(where: str, sharing: GpuSharing, gpu: str) -> list[tuple[str, str]]:
    """`gpu_sharing` against the pool's GPU model: MIG only where the GPU has it."""
    if sharing.strategy != "mig":
        return []
    offered = mig.profiles(gpu)
    if not offered:
        return [(f"{where}.gpu_sharing.strategy", f"{gpu} has no MIG (GPUs with MIG: "
                 f"{', '.join(mig.mig_gpus())}): use strategy: time-sharing with "
                 "max_shared_clients_per_gpu, or a pool of a MIG-capable GPU")]
    if sharing.profile not in offered:
        return [(f"{where}.gpu_sharing.partition_size", f"{sharing.partition_size!r} is not a "
                 f"MIG profile of {gpu}: use one of {', '.join(offered)}")]
    return []
