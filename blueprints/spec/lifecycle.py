"""Blueprint spec of the model lifecycle: the model registry (MLflow), serving (KServe with
vLLM), notebooks (JupyterHub), alert receivers and routes, and Grafana.

Secrets are never in the blueprint: a field named `*_secret` (or `secret`) holds the name of a
stack secret (`pulumi config set --secret aifactory:<name> ...`), like a site's kubeconfig.
References to other sections (environments, pools, teams, the lakehouse zone) are checked by
`lifecycle_problems`, which the Blueprint's cross-field validator calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator, model_validator

from blueprints.spec.base import (
    NAME_PATTERN,
    Name,
    ProblemPath,
    Strict,
    check_cidr,
    fail,
    site_only,
)

if TYPE_CHECKING:
    from blueprints.spec.models import Blueprint

SECRET_KEY_PATTERN = r"^([a-z][a-z0-9-]*:)?[a-zA-Z][a-zA-Z0-9_.-]*$"
SecretRef = str
"""Name of a stack secret (`aifactory:` is assumed without a namespace)."""
MODELS_ZONE = "models"
"""The lakehouse zone model weights and MLflow's artifacts live in."""


def _secret_field(description: str) -> SecretRef:
    return Field(pattern=SECRET_KEY_PATTERN, description=description)  # type: ignore[no-any-return]


class OidcLogin(Strict):
    """Login through the factory's OpenID Connect issuer."""

    issuer: str = Field(pattern=r"^https://", description="OIDC issuer URL (https://...); its "
                        "discovery document is <issuer>/.well-known/openid-configuration.")
    client_id: str = Field(min_length=1, description="OAuth client id registered at the issuer.")
    client_secret: SecretRef | None = Field(
        None, pattern=SECRET_KEY_PATTERN,
        description="Stack secret holding the client secret (required).")

    @model_validator(mode="after")
    def _has_secret(self) -> OidcLogin:
        if self.client_secret is None:
            fail([("client_secret", "required: name the stack secret holding the OAuth client "
                   "secret (pulumi config set --secret aifactory:<name> ...), e.g. "
                   "client_secret: oidc-client-secret")])
        return self


class RegistryDatabase(Strict):
    """The model registry's PostgreSQL: RDS on AWS, Cloud SQL on GCP, CloudNativePG on a site
    (instances and backups as environments.<site>.databases says)."""

    instance_class: str | None = Field(
        None, min_length=1, description="Instance class: AWS db.* (default db.t4g.medium), "
        "GCP a Cloud SQL tier (default db-custom-2-7680); none on a site.")
    storage_gb: int = Field(20, ge=20, le=65536, description="Allocated storage, GiB (on a "
                            "site: the volume of each CloudNativePG instance).")
    backup_retention_days: int = Field(
        7, ge=1, le=35, description="Automated backups kept, in the database's own region "
        "(AWS: days; GCP: that many daily backups), with point-in-time recovery; on a site "
        "environments.<site>.databases.backup_retention_days applies.")
    password_secret: SecretRef = _secret_field(
        "Stack secret holding the database user's password.")


class ModelRegistry(Strict):
    """MLflow tracking server and model registry."""

    environment: str = Field(description="Cloud environment whose cluster runs MLflow (the "
                             "lakehouse's environment: artifacts go to its `models` zone).")
    namespace: str = Field("mlflow", pattern=NAME_PATTERN, description="Kubernetes namespace.")
    database: RegistryDatabase = Field(description="The tracking and registry database.")
    login: OidcLogin | None = Field(None, description="OIDC login (or basic_auth_secret).")
    basic_auth_secret: SecretRef | None = Field(
        None, pattern=SECRET_KEY_PATTERN,
        description="Stack secret holding the admin password of MLflow's basic auth (when "
        "there is no OIDC issuer).")
    storage_credentials: SecretRef | None = Field(
        None, pattern=SECRET_KEY_PATTERN,
        description="On a site: stack secret holding 'access_key:secret_key' of the tenant "
        "user MLflow writes the models zone with (created on the site's tenant, allowed that "
        "bucket only); in a cloud MLflow uses its workload identity instead.")

    @model_validator(mode="after")
    def _never_open(self) -> ModelRegistry:
        if self.login is None and self.basic_auth_secret is None:
            fail([("login", "MLflow would be open to anyone who reaches it: give login "
                   "(issuer, client_id, client_secret) or basic_auth_secret")])
        if self.login is not None and self.basic_auth_secret is not None:
            fail([("basic_auth_secret", "give login or basic_auth_secret, not both")])
        return self


class ModelSource(Strict):
    """Where a model's weights come from (exactly one)."""

    lakehouse: str | None = Field(
        None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$",
        description="Path under the lakehouse's `models` zone.")
    mlflow: str | None = Field(
        None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*/[0-9]+$",
        description="A registered model version of the model registry: <name>/<version>; "
        "served from the models zone, where MLflow keeps its artifacts.")
    public: str | None = Field(
        None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$",
        description="A public model id (e.g. Hugging Face org/model) mirrored into the "
        "lakehouse's models zone (mirror/<org>/<model>); never pulled from the internet at "
        "serving time.")

    @model_validator(mode="after")
    def _exactly_one(self) -> ModelSource:
        given = [k for k in ("lakehouse", "mlflow", "public") if getattr(self, k) is not None]
        if len(given) != 1:
            fail([("", f"give exactly one of lakehouse, mlflow, public (given: "
                   f"{', '.join(given) or 'none'})")])
        return self

    def path(self) -> str:
        """The weights' path under the models zone."""
        if self.lakehouse is not None:
            return self.lakehouse.strip("/")
        if self.mlflow is not None:
            return f"mlflow/registered/{self.mlflow}"
        return f"mirror/{self.public}"


class ModelRevision(Strict):
    """A revision of a served model: a label and its weights."""

    revision: str = Field(pattern=NAME_PATTERN, description="Revision label (e.g. v3).")
    source: ModelSource = Field(description="Where this revision's weights come from.")


class ServedModel(Strict):
    """A model served by KServe on a GPU pool, with canary and rollback."""

    pool: str = Field(description="GPU pool its replicas run on (in serving.environment).")
    revision: str = Field(pattern=NAME_PATTERN, description="The revision to roll out (v3).")
    source: ModelSource = Field(description="Where this revision's weights come from.")
    last_good: ModelRevision | None = Field(
        None, description="The last good revision, kept running: a canary splits traffic "
        "with it, a rollback returns all traffic to it.")
    canary_percent: int = Field(
        0, ge=0, le=99, description="Share of traffic the new revision gets while last_good "
        "serves the rest (0: the new revision serves everything; needs last_good).")
    rollback: bool = Field(False, description="Serve last_good only (one field to roll back).")
    gpus_per_replica: int = Field(1, ge=1, le=64, description="GPUs each replica requests.")
    min_replicas: int = Field(1, ge=0, le=1000, description="Fewest replicas (0: scale to zero).")
    max_replicas: int = Field(1, ge=1, le=1000, description="Most replicas.")
    target_concurrency: int = Field(
        8, ge=1, le=10000, description="Autoscaling target: concurrent requests per replica.")
    weights_gb: int = Field(
        16, ge=1, le=10000, description="Size of the weights (GB); from 50 GB they are cached "
        "on the pool's nodes (LocalModelCache).")
    max_model_len: int | None = Field(None, ge=128, le=10_000_000,
                                      description="vLLM --max-model-len (none: the model's).")
    team: str | None = Field(None, description="Owning team (a queueing team): its alerts "
                             "carry the team's label.")

    @model_validator(mode="after")
    def _replicas_and_revisions(self) -> ServedModel:
        problems: list[tuple[ProblemPath, str]] = []
        if self.max_replicas < self.min_replicas:
            problems.append(("max_replicas", f"max_replicas ({self.max_replicas}) is below "
                             f"min_replicas ({self.min_replicas}): raise max_replicas"))
        if self.canary_percent and self.last_good is None:
            problems.append(("canary_percent", f"a canary of {self.canary_percent}% needs the "
                             "previous revision to serve the rest: add last_good (revision and "
                             "source), or set canary_percent: 0"))
        if self.rollback and self.last_good is None:
            problems.append(("rollback", "nothing to roll back to: add last_good"))
        if self.last_good is not None and self.last_good.revision == self.revision:
            problems.append(("last_good.revision", f"{self.revision!r} is also the new "
                             "revision: give the previous revision's label"))
        fail(problems)
        return self


class Serving(Strict):
    """KServe model serving (RawDeployment, vLLM runtime) behind an internal Gateway."""

    environment: str = Field(description="Environment whose cluster serves the models.")
    namespace: str = Field("serving", pattern=NAME_PATTERN,
                           description="Namespace of the models (a team's own namespace is "
                           "not used: serving is one shared service).")
    gateway_addresses: list[str] = Field(
        default_factory=list, description="Site only: the load-balancer addresses the site "
        "announces for the serving Gateway (Envoy Gateway).")
    proxy_subnet_cidr: str | None = Field(
        None, description="GCP only: the proxy-only subnet (a /26 or larger, outside the "
        "VPC's other ranges) GKE's internal Gateway (gke-l7-rilb) runs its proxies in.")
    storage_credentials: SecretRef | None = Field(
        None, pattern=SECRET_KEY_PATTERN,
        description="On a site: stack secret holding 'access_key:secret_key' of the tenant "
        "user KServe's storage initializer reads the models zone with (created on the site's "
        "tenant, allowed to read that bucket only); in a cloud the workload identity instead.")
    models: dict[Name, ServedModel] = Field(min_length=1, description="Models by name.")

    @field_validator("proxy_subnet_cidr")
    @classmethod
    def _cidr(cls, v: str | None) -> str | None:
        return v if v is None else check_cidr(v)


ReceiverKind = Literal["slack", "pagerduty", "email", "webhook"]
SECRET_OF = {"slack": "its webhook URL", "pagerduty": "its Events API v2 routing key",
             "email": "the SMTP password", "webhook": "the webhook URL"}


class Receiver(Strict):
    """Where alerts go."""

    kind: ReceiverKind = Field(description="slack, pagerduty, email or webhook.")
    secret: SecretRef | None = Field(
        None, pattern=SECRET_KEY_PATTERN,
        description="Stack secret holding the receiver's credential: Slack webhook URL, "
        "PagerDuty routing key, SMTP password, webhook URL.")
    channel: str | None = Field(None, description="Slack channel (#name).")
    to: str | None = Field(None, description="E-mail: recipient address.")
    sender: str | None = Field(None, description="E-mail: From address.")
    smarthost: str | None = Field(None, description="E-mail: SMTP host:port.")
    username: str | None = Field(None, description="E-mail: SMTP user.")

    @model_validator(mode="after")
    def _complete(self) -> Receiver:
        problems: list[tuple[ProblemPath, str]] = []
        if self.secret is None:
            problems.append(("secret", f"required: a {self.kind} receiver needs "
                             f"{SECRET_OF[self.kind]} as a stack secret (pulumi config set "
                             "--secret aifactory:<name> ...); name it here"))
        if self.kind == "email":
            problems.extend((f, "required for an email receiver")
                            for f in ("to", "sender", "smarthost")
                            if getattr(self, f) is None)
        fail(problems)
        return self


Severity = Literal["critical", "warning", "info"]


class AlertRoute(Strict):
    """Alerts of a team (and severities) to a receiver."""

    receiver: str = Field(description="A key of alerts.receivers.")
    team: str | None = Field(None, description="Team whose alerts (team label) this route "
                             "takes; none: every alert not routed before.")
    severities: list[Severity] | None = Field(None, description="Severities (none: all).")


class Alerts(Strict):
    """Alertmanager receivers and routes (AlertmanagerConfig), on every cluster."""

    receivers: dict[Name, Receiver] = Field(min_length=1, description="Receivers by name.")
    routes: list[AlertRoute] = Field(
        min_length=1, description="Routes, first match wins; the last takes every alert (no "
        "team, no severities), so every alert reaches someone.")

    @model_validator(mode="after")
    def _catch_all_last(self) -> Alerts:
        last = self.routes[-1]
        if last.team is not None or last.severities is not None:
            fail([(f"routes.{len(self.routes) - 1}", "the last route must take every alert "
                   "(no team, no severities), or alerts it does not match reach no one: add "
                   "a last route with only a receiver")])
        return self


class Grafana(Strict):
    """Grafana with dashboards as code (GPUs, queues, serving)."""

    admin_password_secret: SecretRef = _secret_field(
        "Stack secret holding Grafana's admin password (never the chart's default).")


class Monitoring(Strict):
    """Settings of the monitoring stack on every cluster."""

    grafana: Grafana | None = Field(None, description="Grafana (off without).")


class Notebooks(Strict):
    """JupyterHub: one profile per GPU pool a team may use, each team in its namespace."""

    environment: str = Field(description="Environment whose cluster runs JupyterHub.")
    namespace: str = Field("jupyterhub", pattern=NAME_PATTERN, description="Hub namespace.")
    login: OidcLogin = Field(description="OIDC login.")
    idle_cull_minutes: int | None = Field(
        60, ge=5, le=10080, description="Stop servers idle this long (null: never).")
    gpus_per_notebook: int = Field(1, ge=1, le=8, description="GPUs of a GPU profile.")


def secret_refs(spec: Blueprint) -> list[str]:
    """Every stack secret the lifecycle sections name."""
    refs: list[str] = []
    if spec.model_registry is not None:
        r = spec.model_registry
        refs.append(r.database.password_secret)
        if r.storage_credentials:
            refs.append(r.storage_credentials)
        if r.login is not None and r.login.client_secret:
            refs.append(r.login.client_secret)
        if r.basic_auth_secret:
            refs.append(r.basic_auth_secret)
    if spec.serving is not None and spec.serving.storage_credentials:
        refs.append(spec.serving.storage_credentials)
    if spec.notebooks is not None and spec.notebooks.login.client_secret:
        refs.append(spec.notebooks.login.client_secret)
    if spec.alerts is not None:
        refs.extend(r.secret for r in spec.alerts.receivers.values() if r.secret)
    if spec.monitoring.grafana is not None:
        refs.append(spec.monitoring.grafana.admin_password_secret)
    return sorted(set(refs))


def _site_model_registry(reg: ModelRegistry, lake: object) -> list[tuple[ProblemPath, str]]:
    """MLflow on a site: its artifacts in the site's own lakehouse tenant, its database on
    CloudNativePG there."""
    problems: list[tuple[ProblemPath, str]] = []
    lake_env = getattr(lake, "environment", None)
    if lake is not None and lake_env != reg.environment:
        problems.append(("model_registry.environment", f"{reg.environment!r} is a site, the "
                         f"lakehouse is in {lake_env!r}: MLflow on a site keeps its artifacts "
                         "in that site's tenant; run it where the lakehouse is"))
    if reg.database.instance_class is not None:
        problems.append(("model_registry.database.instance_class", f"{reg.environment!r} is "
                         "a site: its database is a CloudNativePG cluster, which has no "
                         "instance class; remove instance_class"))
    return problems


def _site_serving(s: Serving, lake: object) -> list[tuple[ProblemPath, str]]:
    """Serving on a site: the weights in that site's own tenant, read as a tenant user."""
    problems: list[tuple[ProblemPath, str]] = []
    lake_env = getattr(lake, "environment", None)
    if lake is not None and lake_env != s.environment:
        problems.append(("serving.environment", f"{s.environment!r} is a site, the lakehouse "
                         f"is in {lake_env!r}: a site's models are read from that site's "
                         "tenant; serve where the lakehouse is"))
    return problems


def lifecycle_problems(spec: Blueprint) -> list[tuple[ProblemPath, str]]:
    """References of the lifecycle sections to environments, pools, teams and the lakehouse."""
    problems: list[tuple[ProblemPath, str]] = []
    envs = spec.environments
    teams = sorted(spec.queueing.teams) if spec.queueing is not None else []
    for section, ref, allowed in (
        ("model_registry", spec.model_registry, ("aws", "gcp", "onprem")),
        ("serving", spec.serving, ("aws", "gcp", "onprem")),
        ("notebooks", spec.notebooks, ("aws", "gcp", "onprem")),
    ):
        if ref is None:
            continue
        env = envs.get(ref.environment)
        if env is None:
            problems.append((f"{section}.environment", f"{ref.environment!r} is not an "
                             f"environment: declared are {sorted(envs)}"))
        elif env.kind not in allowed:
            problems.append((f"{section}.environment", f"{ref.environment!r} is {env.kind}: "
                             f"{section} runs on {', '.join(allowed)}"))
    lake = spec.lakehouse
    needs_zone = [s for s, v in (("model_registry", spec.model_registry),
                                 ("serving", spec.serving)) if v is not None]
    for section in needs_zone:
        if lake is None:
            problems.append((section, "needs the lakehouse: its models zone holds the "
                             "weights and MLflow's artifacts; add lakehouse with zones.models"))
        elif MODELS_ZONE not in lake.zones:
            problems.append(("lakehouse.zones", f"{section} keeps weights in the "
                             f"{MODELS_ZONE!r} zone: add `{MODELS_ZONE}: {{}}` to lakehouse.zones"))
    reg = spec.model_registry
    reg_env = envs.get(reg.environment) if reg is not None else None
    if reg is not None and reg_env is not None:
        credentials = site_only(
            "model_registry.storage_credentials", reg.storage_credentials is not None,
            reg.environment, reg_env.kind,
            site="MLflow writes the models zone as a user of the site's tenant; name the "
            "stack secret holding its 'access_key:secret_key'",
            cloud="MLflow reaches its bucket through its workload identity there")
        problems.extend(credentials)
        if reg_env.kind == "onprem":
            problems.extend(_site_model_registry(reg, lake))
        elif not credentials and lake is not None \
                and envs[lake.environment].kind != reg_env.kind:
            problems.append(("model_registry.environment", f"{reg.environment!r} is "
                             f"{reg_env.kind}, the lakehouse is "
                             f"{envs[lake.environment].kind}: run MLflow in the lakehouse's "
                             "cloud"))
    s = spec.serving
    if s is not None:
        env = envs.get(s.environment)
        if env is not None and env.kind == "onprem" and not s.gateway_addresses:
            problems.append(("serving.gateway_addresses", "required on a site: the addresses "
                             "the site's load balancer announces for the serving Gateway"))
        if env is not None:
            problems.extend(site_only(
                "serving.storage_credentials", s.storage_credentials is not None,
                s.environment, env.kind,
                site="KServe reads the models zone as a user of the site's tenant; name the "
                "stack secret holding its 'access_key:secret_key'",
                cloud="KServe reads the weights through the workload's identity there"))
        if env is not None and env.kind == "onprem":
            problems.extend(_site_serving(s, lake))
        if env is not None and env.kind != "onprem" and s.gateway_addresses:
            problems.append(("serving.gateway_addresses", f"{s.environment!r} is {env.kind}: "
                             "its load balancer assigns the address; remove gateway_addresses"))
        if env is not None and env.kind == "gcp" and s.proxy_subnet_cidr is None:
            problems.append(("serving.proxy_subnet_cidr", "required on GCP: GKE's internal "
                             "Gateway needs a proxy-only subnet in the region; give a free /26 "
                             "or larger, e.g. 10.38.0.0/26"))
        if env is not None and env.kind != "gcp" and s.proxy_subnet_cidr is not None:
            problems.append(("serving.proxy_subnet_cidr", f"{s.environment!r} is {env.kind}: "
                             "only GKE's Gateway takes a proxy-only subnet; remove it"))
        if lake is not None and env is not None and env.kind != "onprem" \
                and envs[lake.environment].kind != env.kind:
            problems.append(("serving.environment", f"{s.environment!r} is {env.kind}, the "
                             f"lakehouse is {envs[lake.environment].kind}: serve in the "
                             "lakehouse's cloud (weights are read through the workload's "
                             "identity)"))
        if s.namespace in {t.namespace for t in (spec.queueing.teams.values()
                                                 if spec.queueing else ())}:
            problems.append(("serving.namespace", f"{s.namespace!r} is a team's namespace: "
                             "give serving its own"))
        for name, m in s.models.items():
            where = f"serving.models.{name}"
            pool = spec.pools.get(m.pool)
            if pool is None:
                import difflib

                close = difflib.get_close_matches(m.pool, list(spec.pools), n=1, cutoff=0.6)
                hint = f"did you mean {close[0]!r}? " if close else ""
                problems.append((f"{where}.pool", f"{m.pool!r} is not a pool: {hint}pools are "
                                 f"{sorted(spec.pools)}"))
            elif pool.environment != s.environment:
                problems.append((f"{where}.pool", f"pool {m.pool!r} runs in "
                                 f"{pool.environment!r}, not in serving.environment "
                                 f"{s.environment!r}: pick a pool of that cluster"))
            if m.team is not None and m.team not in teams:
                problems.append((f"{where}.team", f"{m.team!r} is not a team: teams are "
                                 f"{teams} (queueing.teams)"))
    a = spec.alerts
    if a is not None:
        for i, route in enumerate(a.routes):
            if route.receiver not in a.receivers:
                problems.append((f"alerts.routes.{i}.receiver", f"{route.receiver!r} is not a "
                                 f"receiver: declared are {sorted(a.receivers)}"))
            if route.team is not None and route.team not in teams:
                problems.append((f"alerts.routes.{i}.team", f"{route.team!r} is not a team: "
                                 f"teams are {teams} (queueing.teams)"))
    mirrored = spec.sovereignty is not None and spec.sovereignty.mirror is not None
    unmirrored = {"notebooks": "JupyterHub's"}
    for section, whose in unmirrored.items():
        if mirrored and getattr(spec, section) is not None:
            problems.append((section, f"{whose} images are not in the mirror's lock yet: a "
                             "mirrored factory cannot run it; remove it"))
    if spec.sovereignty is not None and spec.monitoring.grafana is not None \
            and spec.sovereignty.mirror is not None:
        problems.append(("monitoring.grafana", "Grafana's images are not in the mirror's lock "
                         "yet (its chart is a dependency of kube-prometheus-stack): leave "
                         "grafana off in a mirrored factory"))
    return problems
