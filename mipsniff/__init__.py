"""mipsniff: a packet-capture analyzer for Mobile IPv6 handovers (RFC 6275, RFC 5213, RFC 3963, RFC 5568)."""

__version__ = "0.1.0"
