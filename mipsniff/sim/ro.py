"""Scripted route optimisation for the `route-optimization` scenario (RFC 6275 §5.2, §6.1.3-§6.1.6, §9.4,
§11.6, §11.3.1, §9.3.1-§9.3.2).

**Simulator-side stand-in, not part of the agent.** The agent's mobile node does not implement return
routability yet (mipsniff/agent/mn.py says so), so this module wraps the agent's `MobileNode` and `Host`
with the minimum the scenario needs, as two transparent sans-I/O machines:

- `RoMobileNode`: once the home registration for a care-of address is accepted, sends a HoTI through the
  reverse tunnel and a CoTI directly; with the HoT and the CoT, a BU to the CN (no A flag, Nonce Indices
  and Binding Authorization Data options, Kbm = SHA1(home keygen token | care-of keygen token), §5.2.5)
  from the CoA with a Home Address option; then its applications' packets to the CN leave directly from
  the CoA with a HAO (§11.3.1), and packets from the CN with a type 2 routing header are delivered.
- `RoHost`: the CN side: HoT / CoT with keygen tokens = First(64, HMAC_SHA1(Kcn, address | nonce | 0|1))
  (§5.2.5), a binding cache entry from a valid BU, and echo replies sent to the CoA with a type 2
  routing header (§9.3.2).
Everything else goes to the wrapped machine unchanged.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from ipaddress import IPv6Address
from typing import Any

from scapy.layers.inet6 import (
    HAO,
    MIP6MH_BU,
    ICMPv6EchoReply,
    ICMPv6EchoRequest,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrRouting,
    MIP6MH_CoT,
    MIP6MH_CoTI,
    MIP6MH_HoT,
    MIP6MH_HoTI,
    MIP6OptBindingAuthData,
    MIP6OptNonceIndices,
)

from mipsniff.agent import api
from mipsniff.agent.api import BindingState, GtKind, gt
from mipsniff.sim.view import PROTO_IPV6, PROTO_MH, read

MH_HOTI, MH_COTI, MH_HOT, MH_COT, MH_BU = 1, 2, 3, 4, 5
RO_LIFETIME_S = 420  # MnMaxCnBindingLife (field notes 1.4)


def _keygen(kcn: bytes, address: IPv6Address, nonce: bytes, which: int) -> bytes:
    # §5.2.5: First(64, HMAC_SHA1(Kcn, (address | nonce | 0))) for home, | 1 for care-of.
    return hmac.new(kcn, address.packed + nonce + bytes([which]), hashlib.sha1).digest()[:8]


def _mh_body(packet: bytes) -> tuple[int, bytes]:
    """Offset and bytes of the Mobility Header of a packet (after its extension headers)."""
    nh, off = packet[6], 40
    while nh in (0, 43, 60):
        nh, off = packet[off], off + (packet[off + 1] + 1) * 8
    return off, packet[off:]


class RoMobileNode:
    """A `MobileNode` plus return routability and route-optimised traffic to one CN."""

    def __init__(self, inner: Any, cn: IPv6Address, seq: int = 1) -> None:
        self.inner = inner
        self.cn = cn
        self.seq = seq
        self.ro_coa: IPv6Address | None = None  # the CoA the CN has a binding for
        self.rr_coa: IPv6Address | None = None  # the CoA of the RR in progress
        self.home_cookie = b"\x11" * 8
        self.careof_cookie = b"\x22" * 8
        self.hot: tuple[int, bytes] | None = None  # (home nonce index, home keygen token)
        self.cot: tuple[int, bytes] | None = None

    @property
    def config(self) -> Any:
        return self.inner.config

    def next_deadline(self) -> int | None:
        return self.inner.next_deadline()

    def _registered_coa(self) -> IPv6Address | None:
        bul = self.inner.bul
        if bul is None or bul.state != BindingState.READY or bul.dereg or self.inner.coa is None:
            return None
        return bul.care_of_address if bul.care_of_address == self.inner.coa else None

    def _next_hop(self) -> IPv6Address | None:
        router = self.inner.router
        return router.link_local if router is not None else None

    def handle(self, event: api.Event, now_ns: int) -> list[api.Action]:
        hoa = self.config.home_address
        coa = self._registered_coa()
        if coa != self.ro_coa:
            self.ro_coa = None if coa != self.ro_coa else self.ro_coa
        if isinstance(event, api.AppSend) and self.ro_coa is not None and coa == self.ro_coa:
            view = read(event.packet)
            if view.dst == self.cn and view.icmp_type == 128:
                return self._send_ro_echo(event, coa)
        if isinstance(event, api.Received):
            out = self._on_received(event)
            if out is not None:
                return out
        actions = self.inner.handle(event, now_ns)
        coa = self._registered_coa()
        if coa is not None and coa != self.ro_coa and coa != self.rr_coa:
            actions = [*actions, *self._start_rr(coa, hoa)]
        return actions

    def _start_rr(self, coa: IPv6Address, hoa: IPv6Address) -> list[api.Action]:
        self.rr_coa, self.hot, self.cot = coa, None, None
        ha = self.config.home_agent
        hoti = IPv6(src=str(hoa), dst=str(self.cn)) / MIP6MH_HoTI(cookie=self.home_cookie)
        tunnelled = IPv6(src=str(coa), dst=str(ha)) / hoti  # §5.2.3: HoTI via the HA (reverse tunnel)
        coti = IPv6(src=str(coa), dst=str(self.cn)) / MIP6MH_CoTI(cookie=self.careof_cookie)
        nh = self._next_hop()
        return [api.Send(iface=self.config.iface, packet=bytes(tunnelled), next_hop=nh),
                api.Send(iface=self.config.iface, packet=bytes(coti), next_hop=nh),
                api.Log(text="ro: HoTI and CoTI sent (simulator stand-in)")]

    def _on_received(self, event: api.Received) -> list[api.Action] | None:
        view = read(event.packet)
        packet = event.packet
        if view.protocol == PROTO_IPV6 and view.inner is not None and view.inner.mh_type == MH_HOT:
            packet, view = packet[40:], view.inner
        if view.mh_type == MH_HOT:
            _, mh = _mh_body(packet)
            # §6.1.5: Home Nonce Index (2 bytes), Home Init Cookie (8), Home Keygen Token (8).
            index = struct.unpack_from("!H", mh, 6)[0]
            if mh[8:16] == self.home_cookie:
                self.hot = (index, mh[16:24])
            return self._maybe_bu()
        if view.mh_type == MH_COT:
            _, mh = _mh_body(packet)
            index = struct.unpack_from("!H", mh, 6)[0]
            if mh[8:16] == self.careof_cookie:
                self.cot = (index, mh[16:24])
            return self._maybe_bu()
        if view.rh2 == self.config.home_address and view.src == self.cn and self.ro_coa is not None:
            # §9.3.2 at the MN: RH2 processed, the packet is for the home address.
            return [api.Deliver(packet=packet)]
        return None

    def _maybe_bu(self) -> list[api.Action]:
        if self.hot is None or self.cot is None or self.rr_coa is None:
            return []
        coa, hoa = self.rr_coa, self.config.home_address
        kbm = hashlib.sha1(self.hot[1] + self.cot[1]).digest()  # §5.2.5
        seq = self.seq & 0xFFFF
        self.seq += 1

        def bu(auth: bytes) -> Any:
            mh = MIP6MH_BU(seq=seq, flags=0, mhtime=RO_LIFETIME_S >> 2, options=[
                MIP6OptNonceIndices(olen=4, hni=self.hot[0], coni=self.cot[0]),  # type: ignore[index]
                MIP6OptBindingAuthData(olen=12, authenticator=int.from_bytes(auth, "big"))])
            return IPv6(src=str(coa), dst=str(self.cn)) / IPv6ExtHdrDestOpt(options=[HAO(hoa=str(hoa))]) / mh

        # §6.2.7: First(96, HMAC_SHA1(Kbm, (care-of address | correspondent | MH Data))), the MH Data
        # with a zero checksum and without the authenticator itself.
        raw = bytearray(bytes(bu(bytes(12))))
        off, _ = _mh_body(bytes(raw))
        raw[off + 4 : off + 6] = b"\x00\x00"
        mh_data = bytes(raw[off:-12])
        auth = hmac.new(kbm, coa.packed + self.cn.packed + mh_data, hashlib.sha1).digest()[:12]
        self.ro_coa, self.rr_coa = coa, None
        return [api.Send(iface=self.config.iface, packet=bytes(bu(auth)), next_hop=self._next_hop()),
                gt(GtKind.BU_SENT, home_address=hoa, care_of_address=coa, peer=self.cn, seq=seq,
                   lifetime_s=RO_LIFETIME_S, flags="", retransmission=0),
                api.Log(text="ro: BU sent to the CN (simulator stand-in)")]

    def _send_ro_echo(self, event: api.AppSend, coa: IPv6Address) -> list[api.Action]:
        p = IPv6(event.packet)
        echo = p[ICMPv6EchoRequest]
        pkt = IPv6(src=str(coa), dst=str(self.cn), hlim=p.hlim) / IPv6ExtHdrDestOpt(
            options=[HAO(hoa=str(self.config.home_address))]) / ICMPv6EchoRequest(id=echo.id, seq=echo.seq,
                                                                                 data=echo.data)
        out: list[api.Action] = [api.Send(iface=self.config.iface, packet=bytes(pkt), next_hop=self._next_hop())]
        if event.seq is not None:
            out.append(gt(GtKind.DATA_SENT, flow=event.flow, seq=event.seq, iface=self.config.iface, path="ro"))
        return out


class RoHost:
    """A `Host` plus the correspondent-node side of return routability and route optimisation."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.kcn = b"mipsniff-sim-kcn"  # §5.2.3: the CN's secret, fixed for reproducible captures
        self.nonce = b"\x5a" * 8
        self.nonce_index = 1
        self.bindings: dict[IPv6Address, IPv6Address] = {}  # home address -> care-of address

    @property
    def config(self) -> Any:
        return self.inner.config

    def next_deadline(self) -> int | None:
        return self.inner.next_deadline()

    def _me(self) -> IPv6Address:
        return self.config.interface.addresses[0].ip  # type: ignore[no-any-return]

    def _send(self, pkt: Any) -> api.Send:
        return api.Send(iface=self.config.interface.name, packet=bytes(pkt), next_hop=self.config.default_router)

    def handle(self, event: api.Event, now_ns: int) -> list[api.Action]:
        if isinstance(event, api.Received):
            view = read(event.packet)
            me = self._me()
            if view.dst == me and view.protocol == PROTO_MH:
                _, mh = _mh_body(event.packet)
                if view.mh_type == MH_HOTI:
                    token = _keygen(self.kcn, view.src, self.nonce, 0)
                    return [self._send(IPv6(src=str(me), dst=str(view.src)) / MIP6MH_HoT(
                        index=self.nonce_index, cookie=mh[8:16], token=token))]
                if view.mh_type == MH_COTI:
                    token = _keygen(self.kcn, view.src, self.nonce, 1)
                    return [self._send(IPv6(src=str(me), dst=str(view.src)) / MIP6MH_CoT(
                        index=self.nonce_index, cookie=mh[8:16], token=token))]
                if view.mh_type == MH_BU and view.hao is not None:
                    self.bindings[view.hao] = view.src
                    return [gt(GtKind.BU_RECEIVED, home_address=view.hao, care_of_address=view.src,
                               seq=view.mh_seq, lifetime_s=view.mh_lifetime_s, flags="")]
            if view.dst == me and view.icmp_type == 128 and view.hao in self.bindings:
                p = IPv6(event.packet)
                echo = p[ICMPv6EchoRequest]
                reply = IPv6(src=str(me), dst=str(self.bindings[view.hao])) / IPv6ExtHdrRouting(
                    type=2, segleft=1, addresses=[str(view.hao)]) / ICMPv6EchoReply(id=echo.id, seq=echo.seq,
                                                                                     data=echo.data)
                return [api.Deliver(packet=event.packet), self._send(reply)]
        return self.inner.handle(event, now_ns)  # type: ignore[no-any-return]
