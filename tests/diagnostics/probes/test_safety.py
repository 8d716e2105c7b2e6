from __future__ import annotations

import asyncio
import ipaddress
import socket

import pytest

from diagnostics.probes.safety import (
    AddressPolicy,
    BlockedAddressError,
    check_address,
    refusal_reason,
    resolve_checked,
)

DEFAULT = AddressPolicy()
LOOPBACK_OK = AddressPolicy(allow_loopback=True)
PRIVATE_OK = AddressPolicy(allow_private=True)
BOTH_OK = AddressPolicy(allow_loopback=True, allow_private=True)

# address, refused by default, allowed with allow_loopback, allowed with allow_private
TABLE = [
    ("127.0.0.1", True, True, False),
    ("127.0.0.2", True, True, False),
    ("::1", True, True, False),
    ("::ffff:127.0.0.1", True, True, False),
    ("10.0.0.1", True, False, True),
    ("172.16.0.1", True, False, True),
    ("172.31.255.254", True, False, True),
    ("192.168.1.1", True, False, True),
    ("100.64.0.1", True, False, True),
    ("::ffff:10.0.0.1", True, False, True),
    ("fd12:3456::1", True, False, True),
    ("169.254.169.254", True, False, False),
    ("fd00:ec2::254", True, False, False),
    ("100.100.100.200", True, False, False),
    ("169.254.1.1", True, False, False),
    ("fe80::1", True, False, False),
    ("0.0.0.0", True, False, False),
    ("::", True, False, False),
    ("224.0.0.1", True, False, False),
    ("ff02::1", True, False, False),
    ("240.0.0.1", True, False, False),
    ("1.1.1.1", False, True, True),
    ("8.8.8.8", False, True, True),
    ("2606:4700:4700::1111", False, True, True),
    ("172.32.0.1", False, True, True),  # just outside 172.16/12
]


@pytest.mark.parametrize(("address", "refused", "loopback_ok", "private_ok"), TABLE)
def test_it_sorts_each_address(address, refused, loopback_ok, private_ok):
    assert (refusal_reason(address, DEFAULT) is not None) is refused
    assert (refusal_reason(address, LOOPBACK_OK) is None) is loopback_ok
    assert (refusal_reason(address, PRIVATE_OK) is None) is private_ok


@pytest.mark.parametrize("address", ["169.254.169.254", "fd00:ec2::254", "100.100.100.200"])
def test_it_refuses_metadata_addresses_whatever_the_policy(address):
    assert refusal_reason(address, BOTH_OK) == "a cloud metadata address"


def test_it_accepts_parsed_addresses_too():
    assert refusal_reason(ipaddress.ip_address("10.0.0.1"), DEFAULT) is not None
    assert refusal_reason(ipaddress.ip_address("1.1.1.1"), DEFAULT) is None


def test_check_address_raises_with_a_reason():
    with pytest.raises(BlockedAddressError, match="loopback"):
        check_address("127.0.0.1", DEFAULT)
    check_address("127.0.0.1", LOOPBACK_OK)
    check_address("1.1.1.1", DEFAULT)


def resolve(host: str, policy: AddressPolicy = DEFAULT) -> list[str]:
    return asyncio.run(resolve_checked(host, 80, policy))


# Numeric spellings are turned into addresses by the C resolver itself, without a DNS query.
@pytest.mark.parametrize(
    "spelling", ["2130706433", "0177.0.0.1", "0x7f000001", "127.1", "::ffff:127.0.0.1"]
)
def test_it_refuses_odd_spellings_of_loopback(spelling):
    with pytest.raises(BlockedAddressError):
        resolve(spelling)
    address = ipaddress.ip_address(resolve(spelling, LOOPBACK_OK)[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    assert address.is_loopback


@pytest.mark.parametrize("spelling", ["012.0.0.1", "167772161"])
def test_it_refuses_odd_spellings_of_private_addresses(spelling):
    with pytest.raises(BlockedAddressError, match="private"):
        resolve(spelling)


def test_it_returns_the_literal_public_address_without_a_lookup():
    assert resolve("1.1.1.1") == ["1.1.1.1"]


def test_it_drops_refused_addresses_from_a_mixed_answer(monkeypatch):
    # A name with one public and one private address: only the public one may be used.
    def mixed(host, port, *args, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("1.1.1.1", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("1.1.1.1", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", mixed)
    assert resolve("mixed.example") == ["1.1.1.1"]


def test_it_refuses_a_name_that_resolves_only_to_internal_addresses(monkeypatch):
    def internal(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", port))]

    monkeypatch.setattr(socket, "getaddrinfo", internal)
    with pytest.raises(BlockedAddressError, match="metadata"):
        resolve("metadata.example", BOTH_OK)


def test_it_lets_a_failed_lookup_through_as_gaierror(monkeypatch):
    def no_such_name(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_name)
    with pytest.raises(socket.gaierror):
        resolve("no-such-name.invalid")


def test_the_default_policy_refuses_loopback_and_private():
    assert DEFAULT.allow_loopback is False
    assert DEFAULT.allow_private is False
