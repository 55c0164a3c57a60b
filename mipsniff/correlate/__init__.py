"""The correlator: dissected packets -> mobile nodes, bindings and handover timelines (RFC 6275 §9-§11).

`Correlator` is the streaming, sans-I/O state machine (machine.py, with its theory of operation);
`correlate(...)` runs one over an iterable of `(frame_index, ts_ns, packet)`; the records are in
records.py; observe.py says which packets are evidence of what.
"""

from mipsniff.correlate.machine import TRANSITIONS, Correlator, CorrelatorConfig, Phase, Signal, correlate
from mipsniff.correlate.records import (
    Binding,
    BindingKind,
    Correlation,
    CorrelationWeird,
    Handover,
    HandoverKind,
    HandoverResult,
    L2Record,
    MobileNode,
    PacketRecord,
    Vantage,
)

__all__ = [
    "TRANSITIONS",
    "Binding",
    "BindingKind",
    "Correlation",
    "CorrelationWeird",
    "Correlator",
    "CorrelatorConfig",
    "Handover",
    "HandoverKind",
    "HandoverResult",
    "L2Record",
    "MobileNode",
    "PacketRecord",
    "Phase",
    "Signal",
    "Vantage",
    "correlate",
]
