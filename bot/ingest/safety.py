"""URL policy for everything newsbot fetches: http(s) only, public addresses only (A1-A3)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from typing import TypeAlias

from yarl import URL

from bot.core.errors import AddressNotAllowed, ConfigError

IPAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network

# IANA special-purpose IPv4 ranges a feed can never legitimately live in.
_BLOCKED_V4: tuple[tuple[ipaddress.IPv4Network, str], ...] = tuple(
    (ipaddress.IPv4Network(net), why)
    for net, why in (
        ("0.0.0.0/8", "'this network'"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "carrier-grade NAT"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "IETF protocol"),
        ("192.0.2.0/24", "documentation"),
        ("192.88.99.0/24", "6to4 relay"),
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"),
        ("255.255.255.255/32", "broadcast"),
        ("240.0.0.0/4", "reserved"),
    )
)

# Only global unicast (2000::/3) is public; these carve-outs inside it are not.
_GLOBAL_V6 = ipaddress.IPv6Network("2000::/3")
_BLOCKED_V6: tuple[tuple[ipaddress.IPv6Network, str], ...] = tuple(
    (ipaddress.IPv6Network(net), why)
    for net, why in (
        ("2001::/23", "IETF protocol"),
        ("2001:db8::/32", "documentation"),
        ("3fff::/20", "documentation"),
    )
)
_V6_LABELS: tuple[tuple[ipaddress.IPv6Network, str], ...] = tuple(
    (ipaddress.IPv6Network(net), why)
    for net, why in (
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("fc00::/7", "private"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local"),
        ("ff00::/8", "multicast"),
    )
)

# IPv6 forms that carry an IPv4 address in their low 32 bits (mapped, SIIT, compat, NAT64).
_EMBEDS_V4_LOW = tuple(
    ipaddress.IPv6Network(net)
    for net in ("::ffff:0:0/96", "::ffff:0:0:0/96", "::/96", "64:ff9b::/96")
)
_SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")

# A last label that is a number (decimal, octal or 0x-hex) makes the resolver read the host as IPv4.
_NUMERIC_LABEL = re.compile(r"(0x[0-9a-f]*|[0-9]+)", re.IGNORECASE)
_HOST_NAME = re.compile(r"[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*\.?")


def normalise_url(url: str) -> str:
    """Return the canonical http(s) form of a user's URL, refusing anything else before any I/O."""
    text = url.strip()
    lowered = text.lower()
    if lowered.startswith("feed://"):
        text = "http://" + text[len("feed://") :]
    elif lowered.startswith("feed:"):
        text = text[len("feed:") :]
    try:
        parsed = URL(text)
    except (TypeError, ValueError) as exc:
        raise AddressNotAllowed("address not allowed: the URL cannot be parsed") from exc
    if parsed.scheme not in ("http", "https"):
        raise AddressNotAllowed("address not allowed: only http and https URLs can be fetched")
    if parsed.raw_user is not None or parsed.raw_password is not None:
        raise AddressNotAllowed("address not allowed: URLs with credentials are refused")
    host = parsed.raw_host
    if not host:
        raise AddressNotAllowed("address not allowed: the URL has no host")
    if _parse_ip(host) is None and not _HOST_NAME.fullmatch(host):
        raise AddressNotAllowed(f"address not allowed: {host!r} is not a valid host name")
    if parsed.explicit_port == 0:
        raise AddressNotAllowed("address not allowed: port 0 cannot be fetched")
    return str(parsed)


def safe_url(url: str) -> str:
    """Return ``url`` without query, fragment or credentials: queries may hold tokens."""
    try:
        parsed = URL(url)
    except (TypeError, ValueError):
        return "<invalid URL>"
    return str(parsed.with_user(None).with_query(None).with_fragment(None))


def _parse_ip(host: str) -> IPAddress | None:
    """Parse a canonical IP literal (IPv6 possibly bracketed), or return None for a name."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """Return the IPv4 address an IPv6 form routes to, which is what the policy must judge."""
    if ip in _SIX_TO_FOUR:
        return ip.sixtofour
    for net in _EMBEDS_V4_LOW:
        # :: and ::1 sit inside ::/96 but are IPv6 addresses of their own.
        if ip in net and int(ip) > 1:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _refusal(ip: IPAddress) -> str | None:
    """Say why ``ip`` is not a public unicast address, or None when it is."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_v4(ip)
        if inner is not None:
            why = _refusal(inner)
            return None if why is None else f"{why}, embedded in IPv6"
        for net, why in _V6_LABELS:
            if ip in net:
                return why
        if ip not in _GLOBAL_V6:
            return "reserved"
        for net, why in _BLOCKED_V6:
            if ip in net:
                return why
        return None
    for net4, why in _BLOCKED_V4:
        if ip in net4:
            return why
    return None


class AddressPolicy:
    """Which hosts newsbot may connect to: public addresses plus an explicit operator allow-list."""

    def __init__(self, allow: Sequence[str] = ()) -> None:
        """Build from host names, IPs or CIDRs (e.g. NEWSBOT_ALLOW_HOSTS split on commas)."""
        networks: list[IPNetwork] = []
        names: set[str] = set()
        for raw in allow:
            entry = raw.strip().lower()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
                continue
            except ValueError:
                pass
            if not _HOST_NAME.fullmatch(entry) or _NUMERIC_LABEL.fullmatch(entry.split(".")[-1]):
                raise ConfigError(f"allowed host {raw!r} is neither a host name, an IP nor a CIDR")
            names.add(entry.rstrip("."))
        self._networks = tuple(networks)
        self._names = frozenset(names)

    def host_allowed(self, host: str) -> bool:
        """Hosts the operator named explicitly skip the address check (e.g. an internal server)."""
        return host.lower().rstrip(".") in self._names

    def ip_allowed(self, ip: IPAddress | str) -> bool:
        """True for public unicast addresses and for addresses inside an allowed IP or CIDR."""
        return self._ip_refusal(ip) is None

    def check_url(self, url: str) -> str:
        """Normalise ``url`` and refuse a literal-IP host now: aiohttp never resolves those."""
        normal = normalise_url(url)
        host = URL(normal).raw_host or ""
        if self.host_allowed(host):
            return normal
        ip = _parse_ip(host)
        if ip is None:
            if _NUMERIC_LABEL.fullmatch(host.rstrip(".").rsplit(".", 1)[-1]):
                # glibc reads 2130706433, 0x7f000001, 0177.0.0.1 and 127.1 as 127.0.0.1.
                raise AddressNotAllowed(
                    f"address not allowed: {host} is a non-canonical numeric IP address",
                    url=safe_url(normal),
                )
            return normal
        why = self._ip_refusal(ip)
        if why is not None:
            raise AddressNotAllowed(
                f"address not allowed: {ip} ({why}) is not a public address", url=safe_url(normal)
            )
        return normal

    def check_resolved(self, host: str, ips: Iterable[str]) -> None:
        """Refuse ``host`` if any address DNS returned for it is not allowed (run on connect)."""
        if self.host_allowed(host):
            return
        for text in ips:
            why = self._ip_refusal(text)
            if why is not None:
                raise AddressNotAllowed(
                    f"address not allowed: {host} resolves to {text} ({why}), not a public address"
                )

    def _ip_refusal(self, ip: IPAddress | str) -> str | None:
        """Say why ``ip`` is refused under this policy, or None when it may be connected to."""
        address = _parse_ip(ip) if isinstance(ip, str) else ip
        if address is None:
            return "unparseable"
        if isinstance(address, ipaddress.IPv6Address):
            # A zone id ("fe80::1%eth0") changes nothing about where the address points.
            address = ipaddress.IPv6Address(int(address))
        targets: list[IPAddress] = [address]
        if isinstance(address, ipaddress.IPv6Address):
            inner = _embedded_v4(address)
            if inner is not None:
                targets.append(inner)
        if any(target in net for target in targets for net in self._networks):
            return None
        return _refusal(address)
