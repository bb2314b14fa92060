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
# The longest URL newsbot fetches or stores (the feed URL column and its index).
MAX_URL_LENGTH = 2048
# URLs that passed check_url remembered per policy (more than a bot's feeds; then forgotten).
_MAX_PASSED = 10_000
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


def is_ip_literal(host: str) -> bool:
    """True for an IP address written as the host (aiohttp connects to it without DNS)."""
    return _parse_ip(host) is not None


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


def _split_port(entry: str) -> tuple[str, int | None]:
    """Split ``host:port`` or ``[v6]:port`` (a bare IPv6 address keeps its colons)."""
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        if not rest:
            return host, None
        port_text = rest.removeprefix(":")
        if rest[:1] != ":" or not port_text:
            raise ValueError("expected [address]:port")
    elif entry.count(":") == 1:
        host, port_text = entry.split(":")
    else:
        return entry, None
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError("the port must be a number from 1 to 65535")
    return host, int(port_text)


class AddressPolicy:
    """Which hosts newsbot may connect to: public addresses plus an explicit operator allow-list.

    An entry is a host name, an IP, a CIDR, ``host:port`` or ``[v6]:port``; one without a port
    allows every port. A redirect that changes host or port must land on a public address or
    on a ``host:port`` the operator named exactly: a bare entry, a CIDR or a name that merely
    resolves into one allows the URL a user gave, never a hop a server chose.
    """

    def __init__(self, allow: Sequence[str] = ()) -> None:
        """Build from the entries (e.g. NEWSBOT_ALLOW_HOSTS split on commas)."""
        networks: list[tuple[IPNetwork, int | None]] = []
        names: set[tuple[str, int | None]] = set()
        for raw in allow:
            entry = raw.strip().lower()
            if not entry:
                continue
            try:
                host, port = _split_port(entry)
            except ValueError as exc:
                raise ConfigError(
                    f"allowed host {raw!r} is neither a host name, an IP, a CIDR nor host:port "
                    f"({exc})"
                ) from None
            try:
                network = ipaddress.ip_network(host.strip("[]"), strict=False)
            except ValueError:
                pass
            else:
                if port is not None and network.num_addresses != 1:
                    raise ConfigError(f"allowed host {raw!r}: a port needs one address, not a CIDR")
                networks.append((network, port))
                continue
            if not _HOST_NAME.fullmatch(host) or _NUMERIC_LABEL.fullmatch(host.split(".")[-1]):
                raise ConfigError(
                    f"allowed host {raw!r} is neither a host name, an IP, a CIDR nor host:port"
                )
            names.add((host.rstrip("."), port))
        self._networks = tuple(networks)
        self._names = frozenset(names)
        self._passed: dict[str, str] = {}

    def host_allowed(self, host: str, port: int | None = None) -> bool:
        """Hosts the operator named explicitly skip the address check (e.g. an internal server)."""
        name = host.lower().rstrip(".")
        return (name, None) in self._names or (port is not None and (name, port) in self._names)

    def named_exactly(self, host: str, port: int) -> bool:
        """True when an entry names this very host and port (what a redirect may move to)."""
        name = host.lower().rstrip(".")
        if (name, port) in self._names:
            return True
        ip = _parse_ip(name)
        return ip is not None and any(
            allowed == port and ip in network for network, allowed in self._networks
        )

    def ip_allowed(self, ip: IPAddress | str, port: int | None = None) -> bool:
        """True for public unicast addresses and for addresses inside an allowed IP or CIDR."""
        return self._ip_refusal(ip, port) is None

    def check_url(self, url: str, *, redirected_from: str | None = None) -> str:
        """Normalise ``url`` and refuse a literal-IP host now: aiohttp never resolves those.

        ``redirected_from`` is the hop that sent us here; see the class docstring. The verdict
        depends on the string and this (immutable) policy alone, so a URL that passed once,
        like a feed polled every interval, is not parsed again.
        """
        if redirected_from is None:
            passed = self._passed.get(url)
            if passed is not None:
                return passed
        normal = self._checked(url, redirected_from)
        if redirected_from is None:
            if len(self._passed) >= _MAX_PASSED:
                self._passed.clear()
            self._passed[url] = normal
        return normal

    def _checked(self, url: str, redirected_from: str | None) -> str:
        """The check itself, run once per URL that passes."""
        normal = normalise_url(url)
        if len(normal) > MAX_URL_LENGTH:
            raise AddressNotAllowed(
                f"address not allowed: the URL is {len(normal):,} characters long; newsbot "
                f"fetches URLs of at most {MAX_URL_LENGTH:,}",
                url=safe_url(normal)[:200],
            )
        parsed = URL(normal)
        host, port = parsed.raw_host or "", parsed.port or 0
        if self.moves(redirected_from, normal):
            return self._check_moved(normal, host, port)
        if self.host_allowed(host, port):
            return normal
        ip = _parse_ip(host)
        if ip is None:
            _refuse_numeric_name(host, normal)
            return normal
        why = self._ip_refusal(ip, port)
        if why is not None:
            raise AddressNotAllowed(
                f"address not allowed: {ip} ({why}) is not a public address", url=safe_url(normal)
            )
        return normal

    @staticmethod
    def moves(previous: str | None, url: str) -> bool:
        """True when ``url`` is a redirect target on another host or port than ``previous``."""
        if previous is None:
            return False
        before, after = URL(previous), URL(url)
        return (before.raw_host, before.port) != (after.raw_host, after.port)

    def _check_moved(self, normal: str, host: str, port: int) -> str:
        """A redirect to another host or port: public, or a host:port named exactly."""
        if self.named_exactly(host, port):
            return normal
        ip = _parse_ip(host)
        if ip is None:
            _refuse_numeric_name(host, normal)
            return normal  # its addresses are checked at connect time, as a moved hop
        why = _refusal(ip)
        if why is not None:
            raise AddressNotAllowed(
                _moved_refusal(host, port, f"{ip} ({why})"), url=safe_url(normal)
            )
        return normal

    def check_resolved(
        self, host: str, ips: Iterable[str], port: int = 0, *, moved: bool = False
    ) -> None:
        """Refuse ``host`` if any address DNS returned for it is not allowed (run on connect).

        ``moved`` marks a redirect hop to another host or port (see the class docstring).
        """
        if moved:
            if self.named_exactly(host, port):
                return
            for text in ips:
                address = _parse_ip(text)
                why = "unparseable" if address is None else _refusal(_without_zone(address))
                if why is not None:
                    raise AddressNotAllowed(
                        _moved_refusal(host, port, f"it resolves to {text} ({why})")
                    )
            return
        if self.host_allowed(host, port):
            return
        for text in ips:
            why = self._ip_refusal(text, port)
            if why is not None:
                raise AddressNotAllowed(
                    f"address not allowed: {host} resolves to {text} ({why}), not a public address"
                )

    def _ip_refusal(self, ip: IPAddress | str, port: int | None = None) -> str | None:
        """Say why ``ip`` is refused under this policy, or None when it may be connected to."""
        address = _parse_ip(ip) if isinstance(ip, str) else ip
        if address is None:
            return "unparseable"
        address = _without_zone(address)
        targets: list[IPAddress] = [address]
        if isinstance(address, ipaddress.IPv6Address):
            inner = _embedded_v4(address)
            if inner is not None:
                targets.append(inner)
        for network, allowed in self._networks:
            if (allowed is None or allowed == port) and any(t in network for t in targets):
                return None
        return _refusal(address)


def _without_zone(address: IPAddress) -> IPAddress:
    """A zone id ("fe80::1%eth0") changes nothing about where the address points."""
    if isinstance(address, ipaddress.IPv6Address):
        return ipaddress.IPv6Address(int(address))
    return address


def _moved_refusal(host: str, port: int, why: str) -> str:
    return (
        f"address not allowed: a redirect may not move to {host}:{port}, {why} is not public; "
        f"allow it by naming {host}:{port} in NEWSBOT_ALLOW_HOSTS"
    )


def _refuse_numeric_name(host: str, url: str) -> None:
    """Refuse a name that is a number: glibc reads 2130706433, 0x7f000001 and 127.1 as 127.0.0.1."""
    if _NUMERIC_LABEL.fullmatch(host.rstrip(".").rsplit(".", 1)[-1]):
        raise AddressNotAllowed(
            f"address not allowed: {host} is a non-canonical numeric IP address",
            url=safe_url(url),
        )
