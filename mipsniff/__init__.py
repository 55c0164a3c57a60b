"""mipsniff: a packet-capture analyzer for Mobile IPv6 handovers (RFC 6275, RFC 5213, RFC 3963, RFC 5568)."""

__version__ = "0.1.0"

__all__ = ["__version__", "load", "read_report"]


def __getattr__(name: str) -> object:
    # `import mipsniff` stays light (the CLI starts fast); pandas and friends load on first use of the API.
    if name in ("load", "read_report"):
        from mipsniff import analysis

        return getattr(analysis, name)
    raise AttributeError(f"module 'mipsniff' has no attribute {name!r}")
