"""Blueprint spec of the lakehouse's tables and what moves and watches their data: the Iceberg
catalog with its namespaces and grants, the pipelines (Argo Workflows) and the drift watch.

`lakehouse.catalog` puts an Iceberg REST catalog over the zone buckets (the Glue Data Catalog on
AWS, the BigLake metastore on GCP); each namespace keeps its tables' files in one zone and names
the teams that write and read it. `pipelines` runs the workflow engine and the example
raw -> curated -> features template in one team's namespace, admitted by that team's Kueue
queue. References to teams, zones and namespaces are checked by `lakehouse_problems`, which the
Blueprint's cross-field validator calls.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from pydantic import Field, field_validator, model_validator

from blueprints.spec.base import ProblemPath, Strict, fail

if TYPE_CHECKING:
    from blueprints.spec.models import Blueprint

NAMESPACE_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"
"""An Iceberg namespace (a Glue database, a BigLake namespace): lower-case letters, digits and
'_', as engines (Spark, Trino, Athena, BigQuery) accept it unquoted."""
TABLE_PATTERN = NAMESPACE_PATTERN
IMAGE_BY_DIGEST = r"^[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+(:[A-Za-z0-9._-]+)?@sha256:[0-9a-f]{64}$"
CRON_PATTERN = r"^(\S+\s+){4}\S+$"


def _each_once(values: list[str], what: str) -> list[str]:
    first: dict[str, int] = {}
    fail([(f"{i}", f"{v!r} repeats {what}[{first[v]}]: list each team once")
          for i, v in enumerate(values) if first.setdefault(v, i) != i])
    return values


class CatalogNamespace(Strict):
    """An Iceberg namespace: its tables' files live in one lakehouse zone; the teams it names
    write (create, change, drop tables) or only read them."""

    zone: str = Field(description="Lakehouse zone (a key of lakehouse.zones) holding the "
                      "namespace's table files, under <zone bucket>/<namespace>/.")
    writers: list[str] = Field(
        min_length=1, description="Teams (queueing.teams) that create, write and drop the "
        "namespace's tables; they read them too.")
    readers: list[str] = Field(
        default_factory=list, description="Teams (queueing.teams) that only read the tables.")

    @field_validator("writers")
    @classmethod
    def _writers_once(cls, v: list[str]) -> list[str]:
        return _each_once(v, "writers")

    @field_validator("readers")
    @classmethod
    def _readers_once(cls, v: list[str]) -> list[str]:
        return _each_once(v, "readers")

    @model_validator(mode="after")
    def _read_or_write(self) -> CatalogNamespace:
        fail([(f"readers.{i}", f"{t!r} is a writer already (writers read too): remove it "
               "from readers") for i, t in enumerate(self.readers) if t in self.writers])
        return self


class LakehouseCatalog(Strict):
    """An Iceberg REST catalog over the lakehouse zones: the Glue Data Catalog (its Iceberg
    REST endpoint, Lake Formation grants) on AWS, the BigLake metastore on GCP, in the
    lakehouse's own region. Engines (Spark, Trino, DuckDB, PyIceberg) reach it through the
    workload's identity (IRSA, Workload Identity) and get credentials vended for the
    namespaces they are granted."""

    namespaces: dict[str, CatalogNamespace] = Field(
        min_length=1, description="Namespaces by name (lower-case letters, digits, '_').")

    @field_validator("namespaces")
    @classmethod
    def _names(cls, v: dict[str, CatalogNamespace]) -> dict[str, CatalogNamespace]:
        import re

        fail([(name, f"{name!r} is not a namespace name: lower-case letters, digits and '_', "
               "starting with a letter (e.g. curated_events)")
              for name in v if not re.fullmatch(NAMESPACE_PATTERN, name)])
        return v


class PipelineStages(Strict):
    """The example pipeline: a table read from the raw namespace, cleaned into curated,
    aggregated into features."""

    raw: str = Field("raw", description="Catalog namespace the pipeline reads.")
    curated: str = Field("curated", description="Catalog namespace it writes cleaned rows to.")
    features: str = Field("features", description="Catalog namespace it writes features to.")
    table: str = Field("events", pattern=TABLE_PATTERN,
                       description="Table name in each of the three namespaces.")
    schedule: str | None = Field(
        None, pattern=CRON_PATTERN, description="Cron schedule that runs the pipeline "
        "(a CronWorkflow); none: submitted by hand or by an event.")


class DriftWatch(Strict):
    """Data drift of the features table, computed with Evidently on a schedule: its metrics go
    to the factory's Prometheus, its alerts to the owning team."""

    schedule: str = Field("0 * * * *", pattern=CRON_PATTERN,
                          description="Cron schedule of the drift job.")
    reference_days: int = Field(7, ge=1, le=365, description="Days of rows before the "
                                "current window that are the reference.")
    current_hours: int = Field(24, ge=1, le=8760,
                               description="Hours of the newest rows compared to it.")
    threshold: float = Field(0.3, gt=0, le=1, description="Share of drifted columns that "
                             "fires the alert (Evidently's DataDriftPreset).")
    team: str | None = Field(None, description="Team the alerts go to (queueing.teams); "
                             "none: the pipelines' team.")


class Pipelines(Strict):
    """Argo Workflows (pinned chart) running in one team's namespace: its pods are admitted by
    the team's Kueue queue, its artifacts go to a lakehouse zone, and it carries the example
    raw -> curated -> features WorkflowTemplate and the drift watch."""

    environment: str = Field(description="Cluster running the workflow engine: the queueing "
                             "environment, in the lakehouse's cloud.")
    team: str = Field(description="Team (queueing.teams) whose namespace and Kueue queue the "
                      "workflows run in; it needs write on the curated and features "
                      "namespaces and read on raw.")
    image: str = Field(pattern=IMAGE_BY_DIGEST, description="Image of the pipeline steps, by "
                       "digest (the factory's registry): Python with pyiceberg, pandas and "
                       "evidently.")
    artifacts_zone: str = Field("curated", description="Lakehouse zone the workflows' "
                                "artifacts and logs go to (under argo/).")
    stages: PipelineStages = Field(default_factory=lambda: PipelineStages(),
                                   description="The example pipeline's namespaces and table.")
    drift: DriftWatch | None = Field(None, description="Drift watch of the features table.")


def _team_problem(where: ProblemPath, team: str, teams: list[str]) -> tuple[ProblemPath, str]:
    close = difflib.get_close_matches(team, teams, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return (where, f"{team!r} is not a team: {hint}teams are {teams} (queueing.teams)")


def catalog_problems(spec: Blueprint) -> list[tuple[ProblemPath, str]]:
    """The catalog's zones and teams."""
    lake = spec.lakehouse
    cat = lake.catalog if lake is not None else None
    if lake is None or cat is None:
        return []
    teams = sorted(spec.queueing.teams) if spec.queueing is not None else []
    problems: list[tuple[ProblemPath, str]] = []
    q = spec.queueing
    lake_env = spec.environments.get(lake.environment)
    if lake_env is not None and lake_env.kind == "onprem":
        problems.append(("lakehouse.catalog", f"{lake.environment!r} is a site: its catalog "
                         "(an Iceberg REST server, Lakekeeper or Polaris, with its database "
                         "on CloudNativePG and grants per team) is not built yet; catalogs "
                         "run on AWS (Glue) and GCP (BigLake); remove catalog for now"))
    if q is None:
        problems.append(("lakehouse.catalog", "needs queueing.teams: namespaces are granted to "
                         "teams; add queueing with the teams that write and read them"))
    elif q.environment in spec.environments and lake.environment in spec.environments:
        qenv, lenv = spec.environments[q.environment], spec.environments[lake.environment]
        if qenv.kind != lenv.kind:
            problems.append(("lakehouse.catalog", f"the teams' namespaces are in "
                             f"queueing.environment {q.environment!r} ({qenv.kind}), the "
                             f"lakehouse in {lake.environment!r} ({lenv.kind}): the catalog "
                             "grants the teams' cloud identities (IRSA, Workload Identity); "
                             "queue in the lakehouse's cloud"))
        elif getattr(qenv, "account_id", None) != getattr(lenv, "account_id", None):
            problems.append(("lakehouse.catalog", f"queueing.environment {q.environment!r} is "
                             f"in AWS account {getattr(qenv, 'account_id', None)}, the lakehouse "
                             f"in {getattr(lenv, 'account_id', None)}: the teams' IRSA roles "
                             "trust their cluster's OIDC provider, which must be in the "
                             "catalog's account; queue in the lakehouse's account"))
    for name, ns in cat.namespaces.items():
        where = f"lakehouse.catalog.namespaces.{name}"
        if ns.zone not in lake.zones:
            problems.append((f"{where}.zone", f"{ns.zone!r} is not a lakehouse zone: zones "
                             f"are {sorted(lake.zones)}"))
        for field_name, members in (("writers", ns.writers), ("readers", ns.readers)):
            for i, team in enumerate(members):
                if team not in teams:
                    problems.append(_team_problem(f"{where}.{field_name}.{i}", team, teams))
    return problems


def pipelines_problems(spec: Blueprint) -> list[tuple[ProblemPath, str]]:
    """The pipelines' cluster, team, zone and namespaces."""
    p = spec.pipelines
    if p is None:
        return []
    problems: list[tuple[ProblemPath, str]] = []
    q = spec.queueing
    teams = sorted(q.teams) if q is not None else []
    lake = spec.lakehouse
    cat = lake.catalog if lake is not None else None
    if q is None:
        return [("pipelines", "needs queueing: the workflows run in a team's namespace and "
                 "Kueue admits their pods through the team's queue; add queueing.teams")]
    if p.team not in teams:
        problems.append(_team_problem("pipelines.team", p.team, teams))
    if p.drift is not None and p.drift.team is not None and p.drift.team not in teams:
        problems.append(_team_problem("pipelines.drift.team", p.drift.team, teams))
    if p.environment not in spec.environments:
        problems.append(("pipelines.environment", f"{p.environment!r} is not an environment: "
                         f"declared are {sorted(spec.environments)}"))
    elif p.environment != q.environment:
        problems.append(("pipelines.environment", f"{p.environment!r} is not the queueing "
                         f"environment {q.environment!r}: the team namespaces and their Kueue "
                         f"queues are there; set pipelines.environment: {q.environment}"))
    if lake is None or cat is None:
        problems.append(("pipelines", "needs lakehouse.catalog: the pipeline reads and writes "
                         "Iceberg tables through it; add lakehouse.catalog.namespaces"))
        return problems
    env = spec.environments.get(p.environment)
    lake_env = spec.environments.get(lake.environment)
    if env is not None and lake_env is not None and env.kind != lake_env.kind:
        problems.append(("pipelines.environment", f"{p.environment!r} is {env.kind}, the "
                         f"lakehouse is {lake_env.kind}: run the pipelines in the lakehouse's "
                         "cloud (they reach the catalog through the workload's identity)"))
    if p.artifacts_zone not in lake.zones:
        problems.append(("pipelines.artifacts_zone", f"{p.artifacts_zone!r} is not a lakehouse "
                         f"zone: zones are {sorted(lake.zones)}"))
    stages = p.stages
    for stage, ns_name, write in (("raw", stages.raw, False), ("curated", stages.curated, True),
                                  ("features", stages.features, True)):
        ns = cat.namespaces.get(ns_name)
        where = f"pipelines.stages.{stage}"
        if ns is None:
            problems.append((where, f"{ns_name!r} is not a catalog namespace: declared are "
                             f"{sorted(cat.namespaces)} (lakehouse.catalog.namespaces)"))
            continue
        may = ns.writers if write else [*ns.writers, *ns.readers]
        if p.team in teams and p.team not in may:
            verb, field_name = ("write", "writers") if write else ("read", "readers")
            problems.append((where, f"the pipelines' team {p.team!r} cannot {verb} namespace "
                             f"{ns_name!r}: add it to lakehouse.catalog.namespaces.{ns_name}."
                             f"{field_name}"))
    return problems


def lakehouse_problems(spec: Blueprint) -> list[tuple[ProblemPath, str]]:
    """References of the catalog and the pipelines to zones, teams and namespaces."""
    return [*catalog_problems(spec), *pipelines_problems(spec)]
