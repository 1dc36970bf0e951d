"""One canonical form for an IP address, so that no spelling of an address escapes a rule or a rate bucket."""

from __future__ import annotations

import ipaddress

# RFC 6052's well-known NAT64 prefix: 64:ff9b::c000:242 is 192.0.2.66 reached through a NAT64 gateway.
NAT64 = ipaddress.ip_network("64:ff9b::/96")


def canonical_ip(text: str) -> str:
    """Return the address in canonical form, IPv4 for an IPv4-mapped, NAT64 or 6to4 IPv6 address; ValueError if none."""
    address = ipaddress.ip_address(text.strip())
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            address = ipaddress.IPv6Address(str(address).split("%", 1)[0])
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        if address in NAT64:
            return str(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if address.sixtofour:
            return str(address.sixtofour)
    return str(address)
