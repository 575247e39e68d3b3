"""Run a Pulumi program in-process under mocks and record every registration.

The same monitor serves the offline plan, the unit tests and the benchmark: each registration
becomes a `Registration` with its type token, name, parent, inputs (secrets masked, numbers
normalised), the protect flag and dependencies, which live on the registration request rather
than on `MockResourceArgs`.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import config as pulumi_config
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import resource as pulumi_resource
from pulumi.runtime import rpc
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.proto import resource_pb2, source_pb2
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

SECRET_MASK = "[secret]"
STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass
class Registration:
    """One resource as the engine would see it at registration."""

    urn: str
    type: str
    name: str
    parent: str | None
    custom: bool
    protect: bool
    inputs: dict[str, Any]
    dependencies: list[str] = field(default_factory=list)
    provider: str | None = None
    retain_on_delete: bool = False

    def to_json(self) -> dict[str, Any]:
        """The plan's JSON form of this resource (stable key order)."""
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "custom": self.custom,
            "protect": self.protect,
            "retainOnDelete": self.retain_on_delete,
            "provider": self.provider,
            "dependencies": self.dependencies,
            "inputs": self.inputs,
        }


def normalise(value: Any) -> Any:
    """Masks secrets, turns whole floats into ints (the wire has only doubles), sorts keys."""
    if rpc.is_rpc_secret(value):
        inner = value.get("value") if isinstance(value, dict) else None
        if isinstance(inner, dict):
            # a secret map (a Secret's data): its keys are names, not secrets; keep them
            return {str(k): SECRET_MASK for k in sorted(inner)}
        return SECRET_MASK
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, dict):
        return {k: normalise(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    return value


def _service_of(type_token: str) -> str:
    # "aws:kms/key:Key" -> "kms"; "gcp:storage/bucket:Bucket" -> "storage"
    module = type_token.split(":")[1] if type_token.count(":") >= 2 else type_token
    return module.split("/")[0]


def mock_outputs(type_token: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """Deterministic outputs for a resource: its inputs plus the ids others refer to."""
    outputs = dict(inputs)
    provider = type_token.split(":")[0]
    if provider == "aws":
        outputs.setdefault("arn", f"arn:aws:{_service_of(type_token)}:::{name}")
    elif provider == "gcp":
        outputs.setdefault("selfLink", f"projects/mock/{_service_of(type_token)}/{name}")
    outputs.setdefault("name", name)
    return outputs


class NoInvokes(pulumi_mocks.Mocks):
    """Resources are answered by the monitor; invokes are refused so none sneaks in."""

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", mock_outputs(args.typ, args.name, args.inputs)

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict[str, Any], None]:
        raise RuntimeError(
            f"{args.token} is a live cloud look-up: components take such values from the "
            "blueprint instead, so plans work offline"
        )


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """A mock resource monitor that records every registration, with options, in memory."""

    def __init__(self) -> None:
        super().__init__(NoInvokes())
        self.registrations: list[Registration] = []
        self._lock = threading.Lock()
        self._stack_urn: str | None = None

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == STACK_TYPE:
            self._stack_urn = urn
            return resource_pb2.RegisterResourceResponse(urn=urn)
        pulumi_mocks._ensure_event_loop()
        inputs = rpc.deserialize_properties(request.object)
        custom = bool(request.custom)
        parent = request.parent or None
        if parent == self._stack_urn:
            parent = None
        provider = request.provider.rsplit("::", 1)[0] if request.provider else None
        record = Registration(
            urn=urn,
            type=request.type,
            name=request.name,
            parent=parent,
            custom=custom,
            protect=bool(request.protect),
            inputs=normalise(inputs),
            dependencies=sorted(set(request.dependencies)),
            provider=provider,
            retain_on_delete=bool(request.retainOnDelete),
        )
        with self._lock:
            self.registrations.append(record)
        state = mock_outputs(request.type, request.name, inputs) if custom else {}
        id_ = f"{request.name}-id" if custom else ""
        obj = _sync_await(rpc.serialize_properties(state, {}))
        self.resources[urn] = pulumi_mocks.MockMonitor.ResourceRegistration(urn, id_, state)
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_, object=obj)


@contextmanager
def few_full_collections() -> Iterator[None]:
    """Hold off the garbage collector's full passes (young ones still run) inside the block.

    Every registration leaves futures and Outputs that live until the program ends, so each full
    pass walks an ever larger heap and frees next to nothing: they were ~40% of a plan's CPU.
    """
    threshold = gc.get_threshold()
    gc.set_threshold(threshold[0], threshold[1], max(threshold[2], 1_000_000))
    try:
        yield
    finally:
        gc.set_threshold(*threshold)


def _discard(_value: object) -> None:
    """Drop what the program returns (the SDK wants a callable returning None)."""


def record(program: Callable[[], object], *, project: str = "ai-factory",
           stack: str = "offline", config: dict[str, str] | None = None,
           secret_keys: list[str] | None = None) -> list[Registration]:
    """Run `program` under recording mocks; return its registrations sorted by URN.

    `config` ("namespace:key" -> value) is the stack config the program sees while it runs
    (`secret_keys` are marked secret, as `pulumi config set --secret` would); the previous
    config is restored afterwards.
    """
    monitor = RecordingMonitor()
    pulumi_settings.ROOT.set(None)
    pulumi.runtime.set_mocks(monitor.mocks, project=project, stack=stack, preview=False,
                             monitor=monitor)
    saved = (dict(pulumi_config.CONFIG.get()), set(pulumi_config._SECRET_KEYS.get()))
    if config is not None:
        pulumi_config.set_all_config(config, list(secret_keys or []))
    # The SDK walks the Python stack of every registration to send the engine source positions;
    # nothing offline reads them, and the walk is ~10% of a plan (deeper for components).
    stack_trace = pulumi_resource._get_stack_trace
    pulumi_resource._get_stack_trace = source_pb2.StackTrace
    try:
        with few_full_collections():
            _sync_await(run_pulumi_func(lambda: _discard(program())))
    finally:
        pulumi_resource._get_stack_trace = stack_trace
        if config is not None:
            pulumi_config.set_all_config(saved[0], list(saved[1]))
    return sorted(monitor.registrations, key=lambda r: r.urn)
