"""The URL policy on its own: schemes, numeric hosts, special-purpose ranges, the allow-list."""

from __future__ import annotations

import pytest

from bot.core.errors import AddressNotAllowed, ConfigError
from bot.ingest.safety import AddressPolicy, normalise_url, safe_url


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  https://Example.COM/feed?x=1 \n", "https://example.com/feed?x=1"),
        ("feed:http://example.com/rss", "http://example.com/rss"),
        ("feed:https://example.com/rss", "https://example.com/rss"),
        ("feed://example.com/rss", "http://example.com/rss"),
        ("FEED:HTTPS://example.com/", "https://example.com/"),
        ("HTTP://example.com:8080/a b", "http://example.com:8080/a%20b"),
        ("http://bücher.example/", "http://xn--bcher-kva.example/"),
        ("http://[2606:4700::1111]/", "http://[2606:4700::1111]/"),
    ],
)
def test_normalise_url_canonicalises_http_urls(raw: str, expected: str) -> None:
    assert normalise_url(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "file:///etc/passwd",
        "/app/.env",
        "ftp://example.com/",
        "gopher://example.com/",
        "javascript:alert(1)",
        "data:text/xml,<rss/>",
        "feed:example.com/rss",
        "example.com/rss",
        "http://user:secret@example.com/",
        "http://user@example.com/",
        "http:///rss",
        "http://exa mple.com/",
        "http://%31%32%37.0.0.1/",
        "http://example.com:0/",
        "http://example.com:99999/",
        "",
    ],
)
def test_normalise_url_refuses_everything_but_plain_http(raw: str) -> None:
    with pytest.raises(AddressNotAllowed, match=r"^address not allowed: "):
        normalise_url(raw)


def test_refusal_of_credentials_does_not_echo_them() -> None:
    with pytest.raises(AddressNotAllowed) as info:
        normalise_url("https://bob:hunter2@example.com/feed")
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize(
    "ip",
    [
        "127.0.0.1",
        "127.255.0.9",
        "::1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "100.127.255.255",
        "0.0.0.0",
        "0.1.2.3",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "192.0.0.8",
        "192.0.2.1",
        "198.18.0.1",
        "198.51.100.7",
        "203.0.113.9",
        "::",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "fe80::1%eth0",
        "fec0::1",
        "ff02::1",
        "2001:db8::1",
        "3fff::1",
        "2001::1",
        "64:ff9b:1::1",
        "100::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "::ffff:0:10.0.0.1",
        "::127.0.0.1",
        "64:ff9b::10.0.0.1",
        "2002:7f00:1::",
        "2002:a9fe:a9fe::1",
    ],
)
def test_special_purpose_addresses_are_refused(ip: str) -> None:
    assert not AddressPolicy().ip_allowed(ip)


@pytest.mark.parametrize(
    "ip",
    [
        "8.8.8.8",
        "93.184.216.34",
        "100.128.0.1",
        "2606:4700::1111",
        "::ffff:8.8.8.8",
        "64:ff9b::8.8.8.8",
        "2002:808:808::1",
    ],
)
def test_public_addresses_are_allowed(ip: str) -> None:
    assert AddressPolicy().ip_allowed(ip)


def test_allow_list_opens_ips_cidrs_and_their_ipv6_forms() -> None:
    policy = AddressPolicy(["127.0.0.1", " 10.0.0.0/8 ", "[fd00::1]", ""])
    assert policy.ip_allowed("127.0.0.1")
    assert policy.ip_allowed("::ffff:127.0.0.1")
    assert not policy.ip_allowed("127.0.0.2")
    assert policy.ip_allowed("10.200.0.1")
    assert policy.ip_allowed("fd00::1")
    assert not policy.ip_allowed("192.168.0.1")
    assert not policy.ip_allowed("::1")


def test_hosts_allowed_by_name_skip_the_address_check() -> None:
    policy = AddressPolicy(["Feeds.Internal"])
    assert policy.host_allowed("feeds.internal.")
    policy.check_resolved("feeds.internal", ["10.0.0.5"])
    with pytest.raises(AddressNotAllowed, match=r"other\.internal resolves to 10\.0\.0\.5"):
        policy.check_resolved("other.internal", ["93.184.216.34", "10.0.0.5"])


@pytest.mark.parametrize("entry", ["not a host!", "10.0.0.0/33", "1.2.3.999", "http://x/", "0x7f"])
def test_malformed_allow_entries_are_a_config_error(entry: str) -> None:
    with pytest.raises(ConfigError, match="neither a host name"):
        AddressPolicy([entry])


@pytest.mark.parametrize(
    "url",
    [
        "http://2130706433/",
        "http://0x7f000001/",
        "http://0177.0.0.1/",
        "http://017700000001/",
        "http://127.1/",
        "http://0x7f.1/",
        "http://127.0.0.0x1/",
        "http://example.123/",
    ],
)
def test_non_canonical_numeric_hosts_are_refused_even_when_allowed(url: str) -> None:
    with pytest.raises(AddressNotAllowed, match="non-canonical numeric IP address"):
        AddressPolicy(["127.0.0.0/8"]).check_url(url)


def test_check_url_judges_literal_ips_now_and_leaves_names_to_connect_time() -> None:
    policy = AddressPolicy()
    assert policy.check_url("http://93.184.216.34/rss") == "http://93.184.216.34/rss"
    assert policy.check_url("http://localhost/rss") == "http://localhost/rss"
    with pytest.raises(AddressNotAllowed, match=r"169\.254\.169\.254 \(link-local\)") as info:
        policy.check_url("http://169.254.169.254/latest/meta-data/?token=s3cret")
    assert info.value.url == "http://169.254.169.254/latest/meta-data/"


def test_a_remembered_verdict_never_lets_a_refused_url_or_a_redirect_hop_through() -> None:
    policy = AddressPolicy(["127.0.0.1"])
    url = "http://127.0.0.1:8001/f"
    assert policy.check_url(" HTTP://127.0.0.1:8001/f") == url
    assert policy.check_url(" HTTP://127.0.0.1:8001/f") == url
    # The same URL reached by a redirect from another port is judged as a hop, not remembered.
    policy.check_url(url)
    with pytest.raises(AddressNotAllowed, match="a redirect may not move to"):
        policy.check_url(url, redirected_from="http://127.0.0.1:8000/f")
    for _ in range(2):
        with pytest.raises(AddressNotAllowed, match="loopback"):
            AddressPolicy().check_url(url)


def test_safe_url_drops_query_fragment_and_credentials() -> None:
    assert safe_url("https://u:p@example.com/rss?token=abc#top") == "https://example.com/rss"


# --- 14.5: ports in the allow list ------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "allowed", "refused"),
    [
        ("127.0.0.1:8000", "http://127.0.0.1:8000/f", "http://127.0.0.1:8001/f"),
        ("[::1]:8080", "http://[::1]:8080/f", "http://[::1]:8081/f"),
        ("localhost:8000", "http://localhost:8000/f", "http://localhost:9000/f"),
    ],
)
def test_an_entry_with_a_port_allows_only_that_port(entry: str, allowed: str, refused: str) -> None:
    policy = AddressPolicy([entry])
    assert policy.check_url(allowed) == allowed
    if "localhost" in entry:
        assert policy.host_allowed("localhost", 8000)
        assert not policy.host_allowed("localhost", 9000)
    else:
        with pytest.raises(AddressNotAllowed, match="loopback"):
            policy.check_url(refused)


def test_a_bare_entry_keeps_allowing_every_port() -> None:
    policy = AddressPolicy(["127.0.0.1", "intranet.test"])
    assert policy.check_url("http://127.0.0.1:1234/") == "http://127.0.0.1:1234/"
    assert policy.host_allowed("intranet.test", 9999)


@pytest.mark.parametrize(
    ("start", "target"),
    [
        ("http://127.0.0.1:8000/f", "http://127.0.0.1:8001/f"),
        ("http://127.0.0.1:8000/f", "http://127.0.0.2:8000/f"),
        ("http://127.0.0.1:8000/f", "http://[::1]:8000/f"),
        ("http://127.0.0.1:8000/f", "http://[::ffff:127.0.0.1]:8000/f"),
    ],
)
@pytest.mark.parametrize("entries", [["127.0.0.1", "::1", "127.0.0.2"], ["127.0.0.0/8", "::1"]])
def test_a_redirect_may_not_move_to_an_implicitly_allowed_address(
    start: str, target: str, entries: list[str]
) -> None:
    policy = AddressPolicy(entries)
    policy.check_url(start)
    with pytest.raises(AddressNotAllowed, match="a redirect may not move to"):
        policy.check_url(target, redirected_from=start)


def test_a_redirect_keeping_host_and_port_is_allowed() -> None:
    policy = AddressPolicy(["127.0.0.1"])
    start, target = "http://127.0.0.1:8000/f", "http://127.0.0.1:8000/g"
    assert policy.check_url(target, redirected_from=start) == target


def test_a_moved_name_resolving_to_an_implicit_address_is_refused_at_connect() -> None:
    policy = AddressPolicy(["127.0.0.1", "localhost"])
    policy.check_resolved("localhost", ["127.0.0.1"], 8000)
    with pytest.raises(AddressNotAllowed, match="a redirect may not move to localhost:8000"):
        policy.check_resolved("localhost", ["127.0.0.1"], 8000, moved=True)
    AddressPolicy(["localhost:8000"]).check_resolved("localhost", ["127.0.0.1"], 8000, moved=True)
    policy.check_resolved("news.test", ["93.184.216.34"], 443, moved=True)


@pytest.mark.parametrize(
    "entry", ["127.0.0.1:0", "127.0.0.1:70000", "[::1]x", "10.0.0.0/8:80", "h:p"]
)
def test_malformed_port_entries_are_a_config_error(entry: str) -> None:
    with pytest.raises(ConfigError, match="allowed host"):
        AddressPolicy([entry])


def test_an_over_long_url_is_refused_in_one_sentence() -> None:
    url = "https://news.example/" + "a" * 2_100
    with pytest.raises(
        AddressNotAllowed, match=r"2,121 characters long; newsbot fetches URLs of at most 2,048"
    ):
        AddressPolicy().check_url(url)
