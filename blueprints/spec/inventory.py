"""A site's host inventory: BMC addresses, and the checks that span hosts.

Pure functions over plain values, so the checks run on a validated site and also, when some
field of the site is wrong, on whatever raw values are sound: a blueprint with a bad PUE still
learns that two hosts share a MAC address (every error reported at once).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

MAC = r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$"
BMC_SCHEMES = ("redfish", "redfish+http", "redfish+https", "ipmi", "idrac-redfish",
               "ilo5-redfish")
"""BMC address schemes the provisioning hooks understand (Metal3's driver prefixes)."""
BMC = (r"^(redfish(\+https?)?|ipmi|idrac-redfish|ilo5-redfish)://[A-Za-z0-9.\-\[\]:]+"
       r"(/\S*)?$")
"""The outline of a BMC address (the JSON Schema pattern); `parse_bmc` checks the rest."""

_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


@dataclass(frozen=True)
class BmcAddress:
    """A parsed BMC address."""

    scheme: str
    """How the BMC is driven: redfish, ipmi, ..."""
    host: str
    """IP address or DNS name, lower case (IPv6 without brackets)."""
    port: int | None
    """Port, when the address gives one."""

    @property
    def endpoint(self) -> str:
        """Host and port, independent of the scheme: two addresses with the same endpoint
        reach the same BMC (ipmi://10.0.0.5 and redfish+https://10.0.0.5/redfish/v1/...)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port is None else f"{host}:{self.port}"


def _check_host(host: str) -> str:
    if re.fullmatch(r"[0-9.]+", host):
        try:
            return str(ipaddress.IPv4Address(host))
        except ValueError:
            raise ValueError(f"host {host!r} is not an IPv4 address (four numbers 0-255, such "
                             "as 10.20.8.12) nor a DNS name") from None
    if ":" in host:
        try:
            return str(ipaddress.IPv6Address(host))
        except ValueError:
            raise ValueError(f"host {host!r} is not an IPv6 address") from None
    labels = host.rstrip(".").split(".")
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels) \
            or labels[-1].isdigit():
        raise ValueError(f"host {host!r} is not a DNS name (labels of letters, digits and '-', "
                         "at most 63 characters each) nor an IP address")
    return host.rstrip(".").lower()


def parse_bmc(address: str) -> BmcAddress:
    """Parse a BMC address such as redfish://10.0.0.5/redfish/v1/Systems/1; ValueError when
    the scheme, host or port is not sound (the message says which)."""
    scheme, sep, _ = address.partition("://")
    if not sep or scheme not in BMC_SCHEMES:
        raise ValueError(f"{address!r} does not start with a BMC scheme: use one of "
                         f"{', '.join(s + '://' for s in BMC_SCHEMES)}")
    parts = urlsplit(address)
    if "@" in parts.netloc:
        raise ValueError(f"{address!r} carries credentials: remove them; bmc_credentials names "
                         "the secret that holds them")
    if not parts.hostname:
        raise ValueError(f"{address!r} names no host: add the BMC's IP address or DNS name")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port is not None and not 1 <= port <= 65535:
        raise ValueError(f"{address!r} has a port that is not a number from 1 to 65535")
    if parts.query or parts.fragment:
        raise ValueError(f"{address!r} has a query or fragment: a BMC address has none")
    try:
        host = _check_host(parts.hostname)
    except ValueError as e:
        raise ValueError(f"{address!r}: {e}") from None
    return BmcAddress(scheme, host, port)


@dataclass(frozen=True)
class HostEntry:
    """The values of one host the cross-host checks read (None: absent or not sound)."""

    index: int
    hostname: str | None
    rack: str | None
    boot_mac: str | None
    bmc_address: str | None
    boot_ip: str | None


def _sound_ip(value: Any) -> str | None:
    try:
        return str(ipaddress.IPv4Address(value)) if isinstance(value, str) else None
    except ValueError:
        return None


def _sound_bmc(value: Any) -> str | None:
    try:
        return value if isinstance(value, str) and parse_bmc(value) else None
    except ValueError:
        return None


def raw_hosts(hosts: Any) -> list[HostEntry]:
    """Host entries from raw blueprint data, keeping only the values that are sound."""
    out: list[HostEntry] = []
    for i, h in enumerate(hosts if isinstance(hosts, list) else []):
        if not isinstance(h, Mapping):
            continue

        def text(key: str, h: Mapping[Any, Any] = h) -> str | None:
            value = h.get(key)
            return value if isinstance(value, str) else None

        mac = text("boot_mac")
        out.append(HostEntry(
            index=i, hostname=text("hostname"), rack=text("rack"),
            boot_mac=mac if mac is not None and re.fullmatch(MAC, mac) else None,
            bmc_address=_sound_bmc(h.get("bmc_address")), boot_ip=_sound_ip(h.get("boot_ip"))))
    return out


def raw_boot_cidr(boot_network: Any) -> str | None:
    """The boot network's CIDR from raw data, when it is sound."""
    cidr = boot_network.get("cidr") if isinstance(boot_network, Mapping) else None
    try:
        return str(ipaddress.IPv4Network(cidr)) if isinstance(cidr, str) else None
    except ValueError:
        return None


def inventory_problems(hosts: Sequence[HostEntry], racks: Collection[str] | None,
                       has_boot_network: bool, boot_cidr: str | None) -> list[tuple[str, str]]:
    """Problems across a site's hosts, each as (path relative to the site, message).

    `racks` None: the racks are not known (their data is broken), so rack membership is not
    checked; `boot_cidr` None with a boot network: its CIDR is broken, containment unchecked.
    """
    problems: list[tuple[str, str]] = []
    for h in hosts:
        label = h.hostname or f"hosts[{h.index}]"
        if racks is not None and h.rack is not None and h.rack not in racks:
            problems.append((f"hosts.{h.index}.rack", f"{label} is in rack {h.rack!r}, which "
                             f"is not declared: racks are {sorted(racks)}"))
        if h.boot_ip is None:
            continue
        if not has_boot_network:
            problems.append((f"hosts.{h.index}.boot_ip", f"{label} has boot_ip {h.boot_ip} but "
                             "the site declares no boot_network"))
        elif boot_cidr is not None and ipaddress.IPv4Address(h.boot_ip) not in \
                ipaddress.IPv4Network(boot_cidr):
            problems.append((f"hosts.{h.index}.boot_ip", f"{h.boot_ip} is outside the boot "
                             f"network {boot_cidr}"))
    for field in ("hostname", "boot_mac", "boot_ip"):
        seen: dict[str, int] = {}
        for h in hosts:
            value = getattr(h, field)
            if value is None:
                continue
            if value in seen:
                problems.append((f"hosts.{h.index}.{field}",
                                 f"{value!r} repeats hosts[{seen[value]}].{field}: "
                                 f"each host needs its own {field}"))
            seen.setdefault(value, h.index)
    endpoints: dict[str, HostEntry] = {}
    for h in hosts:
        if h.bmc_address is None:
            continue
        endpoint = parse_bmc(h.bmc_address).endpoint
        first = endpoints.setdefault(endpoint, h)
        if first is not h:
            what = "repeats" if first.bmc_address == h.bmc_address else \
                f"reaches the same BMC ({endpoint}) as"
            problems.append((f"hosts.{h.index}.bmc_address",
                             f"{h.bmc_address!r} {what} hosts[{first.index}].bmc_address: "
                             "each host needs its own bmc_address"))
    return problems
