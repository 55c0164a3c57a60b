"""Minimal Mobile IPv6 agent (RFC 6275): MN, HA, access router, CN and traffic as sans-I/O machines.

Start with `mipsniff.agent.api`: the events, actions and the `Machine` protocol every machine implements.
"""
