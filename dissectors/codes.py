"""IANA registries used by the dissectors, as IntEnum / IntFlag (STYLE §3).

Sources: IANA "Mobile IPv6 parameters" (MH types, status codes, mobility options; RFC 6275 §6.1,
§6.1.8, §6.1.9, §6.2, RFC 5568, RFC 5142, RFC 5847, RFC 5846, RFC 6705, RFC 5213, RFC 3963,
RFC 5555, RFC 5844 ...), "ICMPv6 parameters" (RFC 4443, RFC 4861 §4, RFC 6275 §6.5-§6.8, RFC 5568
§6.1, RFC 6106/8106 RDNSS/DNSSL, RFC 4191). Unknown wire values are never forced into a member:
`enum_or_int()` keeps them as plain `int`.

Flag types are declared in wire order (most significant bit first) so that `flags.letters` renders
the letters in the order the RFC figures and tcpdump show them (unlike scapy, STYLE "what to avoid").
"""

from __future__ import annotations

from enum import IntEnum, IntFlag
from typing import TypeVar

E = TypeVar("E", bound=IntEnum)


def enum_or_int(enum_cls: type[E], value: int) -> E | int:
    """The member of `enum_cls` for `value`, or `value` itself when the registry has no such code."""
    member = enum_cls._value2member_map_.get(value)
    return member if member is not None else value  # type: ignore[return-value]


def code_name(value: int) -> str:
    """`NAME` for an enum member, the decimal number for an unknown code."""
    return value.name if isinstance(value, IntEnum) and value.name else str(int(value))


class _LetterFlag(IntFlag):
    """IntFlag whose single-letter members, declared in wire order, render as `letters` ("AH")."""

    @property
    def letters(self) -> str:
        # __members__ keeps declaration order, i.e. wire order (MSB first); multi-letter members
        # (such as RA preference bits) are not flag letters.
        return "".join(
            name for name, member in type(self).__members__.items() if len(name) == 1 and member & self
        )


class MhType(IntEnum):
    """Mobility Header types (IANA "Mobility Header Types - for the MH Type field")."""

    BRR = 0  # Binding Refresh Request, RFC 6275 §6.1.2
    HOTI = 1  # Home Test Init, RFC 6275 §6.1.3
    COTI = 2  # Care-of Test Init, RFC 6275 §6.1.4
    HOT = 3  # Home Test, RFC 6275 §6.1.5
    COT = 4  # Care-of Test, RFC 6275 §6.1.6
    BU = 5  # Binding Update, RFC 6275 §6.1.7
    BA = 6  # Binding Acknowledgement, RFC 6275 §6.1.8
    BE = 7  # Binding Error, RFC 6275 §6.1.9
    FBU = 8  # Fast Binding Update, RFC 5568 §6.3.1
    FBACK = 9  # Fast Binding Acknowledgment, RFC 5568 §6.3.2
    FNA = 10  # Fast Neighbor Advertisement, RFC 5568 §6.3.3
    EXPERIMENTAL = 11  # Experimental Mobility Header, RFC 5096
    HAS = 12  # Home Agent Switch, RFC 5142
    HB = 13  # Heartbeat, RFC 5847
    HI = 14  # Handover Initiate, RFC 5568 §6.2.1
    HACK = 15  # Handover Acknowledge, RFC 5568 §6.2.2
    BR = 16  # Binding Revocation (BRI / BRA by its B.R. Type), RFC 5846
    LRI = 17  # Localized Routing Initiation, RFC 6705
    LRA = 18  # Localized Routing Acknowledgment, RFC 6705
    UPN = 19  # Update Notification, RFC 7077
    UPA = 20  # Update Notification Acknowledgement, RFC 7077
    FLOW_BINDING = 21  # Flow Binding Message, RFC 7864
    SUBSCRIPTION_QUERY = 22  # RFC 7161
    SUBSCRIPTION_RESPONSE = 23  # RFC 7161


class BaStatus(IntEnum):
    """Binding Acknowledgement status codes; < 128 accepted, >= 128 rejected (RFC 6275 §6.1.8)."""

    ACCEPTED = 0
    ACCEPTED_PREFIX_DISCOVERY_NECESSARY = 1
    GRE_KEY_OPTION_NOT_REQUIRED = 2  # RFC 5845
    GRE_TUNNELING_BUT_TLV_HEADER_NOT_SUPPORTED = 3  # RFC 5845
    MCOA_NOTCOMPLETE = 4  # RFC 5648
    MCOA_RETURNHOME_WO_NDP = 5  # RFC 5648
    PBU_ACCEPTED_TB_IGNORED_SETTINGSMISMATCH = 6  # RFC 7109
    REASON_UNSPECIFIED = 128
    ADMINISTRATIVELY_PROHIBITED = 129
    INSUFFICIENT_RESOURCES = 130
    HOME_REGISTRATION_NOT_SUPPORTED = 131
    NOT_HOME_SUBNET = 132
    NOT_HOME_AGENT = 133
    DUPLICATE_ADDRESS_DETECTION_FAILED = 134
    SEQUENCE_OUT_OF_WINDOW = 135
    EXPIRED_HOME_NONCE_INDEX = 136
    EXPIRED_CARE_OF_NONCE_INDEX = 137
    EXPIRED_NONCES = 138
    REGISTRATION_TYPE_CHANGE_DISALLOWED = 139
    MOBILE_ROUTER_OPERATION_NOT_PERMITTED = 140  # RFC 3963
    INVALID_PREFIX = 141  # RFC 3963
    NOT_AUTHORIZED_FOR_PREFIX = 142  # RFC 3963
    FORWARDING_SETUP_FAILED = 143  # RFC 3963
    MIPV6_ID_MISMATCH = 144  # RFC 4285
    MIPV6_MESG_ID_REQD = 145  # RFC 4285
    MIPV6_AUTH_FAIL = 146  # RFC 4285
    PERMANENT_HOME_KEYGEN_TOKEN_UNAVAILABLE = 147  # RFC 4866
    CGA_AND_SIGNATURE_VERIFICATION_FAILED = 148  # RFC 4866
    PERMANENT_HOME_KEYGEN_TOKEN_EXISTS = 149  # RFC 4866
    NON_NULL_HOME_NONCE_INDEX_EXPECTED = 150  # RFC 4866
    SERVICE_AUTHORIZATION_FAILED = 151  # RFC 5149
    PROXY_REG_NOT_ENABLED = 152  # RFC 5213
    NOT_LMA_FOR_THIS_MOBILE_NODE = 153  # RFC 5213
    MAG_NOT_AUTHORIZED_FOR_PROXY_REG = 154  # RFC 5213
    NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX = 155  # RFC 5213
    TIMESTAMP_MISMATCH = 156  # RFC 5213
    TIMESTAMP_LOWER_THAN_PREV_ACCEPTED = 157  # RFC 5213
    MISSING_HOME_NETWORK_PREFIX_OPTION = 158  # RFC 5213
    BCE_PBU_PREFIX_SET_DO_NOT_MATCH = 159  # RFC 5213
    MISSING_MN_IDENTIFIER_OPTION = 160  # RFC 5213
    MISSING_HANDOFF_INDICATOR_OPTION = 161  # RFC 5213
    MISSING_ACCESS_TECH_TYPE_OPTION = 162  # RFC 5213
    GRE_KEY_OPTION_REQUIRED = 163  # RFC 5845
    MCOA_MALFORMED = 164  # RFC 5648
    MCOA_NON_MCOA_BINDING_EXISTS = 165  # RFC 5648
    MCOA_PROHIBITED = 166  # RFC 5648
    MCOA_UNKNOWN_COA = 167  # RFC 5648
    MCOA_BULK_REGISTRATION_PROHIBITED = 168  # RFC 5648
    MCOA_SIMULTANEOUS_HOME_AND_FOREIGN_PROHIBITED = 169  # RFC 5648
    NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE = 170  # RFC 5844
    NOT_AUTHORIZED_FOR_IPV4_HOME_ADDRESS = 171  # RFC 5844
    NOT_AUTHORIZED_FOR_IPV6_MOBILITY_SERVICE = 172  # RFC 5844
    MULTIPLE_IPV4_HOA_NOT_SUPPORTED = 173  # RFC 5844
    INVALID_CARE_OF_ADDRESS = 174  # RFC 6275 (erratum) / RFC 6602
    INVALID_MOBILE_NODE_GROUP_IDENTIFIER = 175  # RFC 6602
    REINIT_SA_WITH_HAC = 176  # RFC 6618
    NOT_AUTHORIZED_FOR_DELEGATED_MNP = 177  # RFC 7148
    REQUESTED_DMNP_IN_USE = 178  # RFC 7148
    CANNOT_MEET_QOS_SERVICE_REQUEST = 179  # RFC 7222

    @property
    def accepted(self) -> bool:
        return self.value < 128


class BeStatus(IntEnum):
    """Binding Error status (RFC 6275 §6.1.9)."""

    UNKNOWN_BINDING_FOR_HOME_ADDRESS_DESTINATION_OPTION = 1
    UNRECOGNIZED_MH_TYPE = 2


class BrType(IntEnum):
    """Binding Revocation B.R. Type (RFC 5846 §6.1)."""

    BRI = 1
    BRA = 2


class MobilityOptionType(IntEnum):
    """Mobility Options (IANA "Mobility Options"; RFC 6275 §6.2 and later RFCs)."""

    PAD1 = 0
    PADN = 1
    BINDING_REFRESH_ADVICE = 2
    ALTERNATE_CARE_OF_ADDRESS = 3
    NONCE_INDICES = 4
    BINDING_AUTHORIZATION_DATA = 5
    MOBILE_NETWORK_PREFIX = 6  # RFC 3963
    LINK_LAYER_ADDRESS = 7  # RFC 5568
    MN_IDENTIFIER = 8  # RFC 4283
    AUTHENTICATION = 9  # RFC 4285
    MESSAGE_ID = 10  # RFC 4285
    CGA_PARAMETERS_REQUEST = 11  # RFC 4866
    CGA_PARAMETERS = 12  # RFC 4866
    SIGNATURE = 13  # RFC 4866
    PERMANENT_HOME_KEYGEN_TOKEN = 14  # RFC 4866
    CARE_OF_TEST_INIT = 15  # RFC 4866
    CARE_OF_TEST = 16  # RFC 4866
    DNS_UPDATE = 17  # RFC 5026
    EXPERIMENTAL = 18  # RFC 5096
    VENDOR_SPECIFIC = 19  # RFC 5094
    SERVICE_SELECTION = 20  # RFC 5149
    BINDING_AUTHORIZATION_DATA_FMIPV6 = 21  # RFC 5568
    HOME_NETWORK_PREFIX = 22  # RFC 5213
    HANDOFF_INDICATOR = 23  # RFC 5213
    ACCESS_TECHNOLOGY_TYPE = 24  # RFC 5213
    MN_LINK_LAYER_IDENTIFIER = 25  # RFC 5213
    LINK_LOCAL_ADDRESS = 26  # RFC 5213
    TIMESTAMP = 27  # RFC 5213
    RESTART_COUNTER = 28  # RFC 5847
    IPV4_HOME_ADDRESS = 29  # RFC 5555
    IPV4_ADDRESS_ACKNOWLEDGEMENT = 30  # RFC 5555
    NAT_DETECTION = 31  # RFC 5555
    IPV4_CARE_OF_ADDRESS = 32  # RFC 5555
    GRE_KEY = 33  # RFC 5845
    IPV6_ADDRESS_PREFIX = 34  # RFC 5568
    BINDING_IDENTIFIER = 35  # RFC 5648
    IPV4_HOME_ADDRESS_REQUEST = 36  # RFC 5844
    IPV4_HOME_ADDRESS_REPLY = 37  # RFC 5844
    IPV4_DEFAULT_ROUTER_ADDRESS = 38  # RFC 5844
    IPV4_DHCP_SUPPORT_MODE = 39  # RFC 5844
    CONTEXT_REQUEST = 40  # RFC 5949
    LOCAL_MOBILITY_ANCHOR_ADDRESS = 41  # RFC 5949
    MN_LINK_LOCAL_ADDRESS_INTERFACE_IDENTIFIER = 42  # RFC 5949
    TRANSIENT_BINDING = 43  # RFC 6058
    FLOW_SUMMARY = 44  # RFC 6089
    FLOW_IDENTIFICATION = 45  # RFC 6089
    REDIRECT_CAPABILITY = 46  # RFC 6463
    REDIRECT = 47  # RFC 6463
    LOAD_INFORMATION = 48  # RFC 6463
    ALTERNATE_IPV4_CARE_OF_ADDRESS = 49  # RFC 6463
    MOBILE_NODE_GROUP_IDENTIFIER = 50  # RFC 6602
    MAG_IPV6_ADDRESS = 51  # RFC 6705
    ACCESS_NETWORK_IDENTIFIER = 52  # RFC 6757
    IPV4_TRAFFIC_OFFLOAD_SELECTOR = 53  # RFC 6909
    DYNAMIC_IP_MULTICAST_SELECTOR = 54  # RFC 7028
    DELEGATED_MOBILE_NETWORK_PREFIX = 55  # RFC 7148
    ACTIVE_MULTICAST_SUBSCRIPTION_IPV4 = 56  # RFC 7161
    ACTIVE_MULTICAST_SUBSCRIPTION_IPV6 = 57  # RFC 7161
    QUALITY_OF_SERVICE = 58  # RFC 7222
    LMA_USER_PLANE_ADDRESS = 59  # RFC 7389
    MULTICAST_MOBILITY = 60  # RFC 7411
    MULTICAST_ACKNOWLEDGEMENT = 61  # RFC 7411


class HandoffIndicator(IntEnum):
    """Handoff Indicator option values (RFC 5213 §8.4)."""

    RESERVED = 0
    ATTACHMENT_OVER_NEW_INTERFACE = 1
    HANDOFF_BETWEEN_DIFFERENT_INTERFACES = 2
    HANDOFF_BETWEEN_SAME_INTERFACE = 3
    HANDOFF_STATE_UNKNOWN = 4
    HANDOFF_STATE_NOT_CHANGED = 5


class AccessTechnologyType(IntEnum):
    """Access Technology Type option values (RFC 5213 §8.5)."""

    RESERVED = 0
    VIRTUAL = 1
    PPP = 2
    IEEE_802_3 = 3
    IEEE_802_11 = 4
    IEEE_802_16E = 5
    THREEGPP_GERAN = 6
    THREEGPP_UTRAN = 7
    THREEGPP_E_UTRAN = 8
    THREEGPP2_EHRPD = 9
    THREEGPP2_HRPD = 10
    THREEGPP2_1XRTT = 11
    THREEGPP2_UMB = 12


class IcmpV6Type(IntEnum):
    """ICMPv6 types (RFC 4443 §2.1, RFC 4861 §4, RFC 6275 §6.5-§6.8, RFC 5568 §6.1)."""

    DESTINATION_UNREACHABLE = 1
    PACKET_TOO_BIG = 2
    TIME_EXCEEDED = 3
    PARAMETER_PROBLEM = 4
    ECHO_REQUEST = 128
    ECHO_REPLY = 129
    MLD_QUERY = 130
    MLD_REPORT = 131
    MLD_DONE = 132
    ROUTER_SOLICITATION = 133
    ROUTER_ADVERTISEMENT = 134
    NEIGHBOR_SOLICITATION = 135
    NEIGHBOR_ADVERTISEMENT = 136
    REDIRECT = 137
    ROUTER_RENUMBERING = 138
    MLDV2_REPORT = 143
    HOME_AGENT_ADDRESS_DISCOVERY_REQUEST = 144
    HOME_AGENT_ADDRESS_DISCOVERY_REPLY = 145
    MOBILE_PREFIX_SOLICITATION = 146
    MOBILE_PREFIX_ADVERTISEMENT = 147
    FMIPV6 = 154


class ParameterProblemCode(IntEnum):
    """ICMPv6 Parameter Problem codes (RFC 4443 §3.4)."""

    ERRONEOUS_HEADER_FIELD = 0
    UNRECOGNIZED_NEXT_HEADER = 1
    UNRECOGNIZED_IPV6_OPTION = 2
    FIRST_FRAGMENT_INCOMPLETE_HEADER_CHAIN = 3


class Fmipv6Subtype(IntEnum):
    """FMIPv6 ICMPv6 subtypes (RFC 5568 §6.1)."""

    RTSOLPR = 2
    PRRTADV = 3


class NdOptionType(IntEnum):
    """IPv6 Neighbor Discovery option types (IANA "IPv6 Neighbor Discovery Option Formats")."""

    SOURCE_LINK_LAYER_ADDRESS = 1
    TARGET_LINK_LAYER_ADDRESS = 2
    PREFIX_INFORMATION = 3
    REDIRECTED_HEADER = 4
    MTU = 5
    NBMA_SHORTCUT_LIMIT = 6
    ADVERTISEMENT_INTERVAL = 7  # RFC 6275 §7.3
    HOME_AGENT_INFORMATION = 8  # RFC 6275 §7.4
    SOURCE_ADDRESS_LIST = 9
    TARGET_ADDRESS_LIST = 10
    CGA = 11
    RSA_SIGNATURE = 12
    TIMESTAMP = 13
    NONCE = 14
    TRUST_ANCHOR = 15
    CERTIFICATE = 16
    IP_ADDRESS_PREFIX = 17  # RFC 5568
    NEW_ROUTER_PREFIX_INFORMATION = 18  # RFC 4068
    LINK_LAYER_ADDRESS = 19  # RFC 5568
    NEIGHBOR_ADVERTISEMENT_ACKNOWLEDGMENT = 20  # RFC 5568
    MAP = 23  # RFC 5380
    ROUTE_INFORMATION = 24  # RFC 4191
    RDNSS = 25  # RFC 8106
    RA_FLAGS_EXTENSION = 26  # RFC 5175
    HANDOVER_KEY_REQUEST = 27
    HANDOVER_KEY_REPLY = 28
    HANDOVER_ASSIST_INFORMATION = 29
    MOBILE_NODE_IDENTIFIER = 30
    DNSSL = 31  # RFC 8106
    PROXY_SIGNATURE = 32
    ADDRESS_REGISTRATION = 33
    SIXLOWPAN_CONTEXT = 34
    AUTHORITATIVE_BORDER_ROUTER = 35
    SIXLOWPAN_CAPABILITY_INDICATION = 36
    DHCP_CAPTIVE_PORTAL = 37
    PREF64 = 38


class IpProto(IntEnum):
    """IP protocol numbers the dissectors follow (IANA "Assigned Internet Protocol Numbers")."""

    HOPOPTS = 0
    ICMP = 1
    IPV4 = 4
    TCP = 6
    UDP = 17
    IPV6 = 41
    ROUTING = 43
    FRAGMENT = 44
    GRE = 47
    ESP = 50
    AH = 51
    ICMPV6 = 58
    NONE = 59
    DSTOPTS = 60
    MOBILITY = 135


class BuFlags(_LetterFlag):
    """Binding Update flags, 16-bit word after the sequence number (RFC 6275 §6.1.7, RFC 5380 M,
    RFC 3963 R, RFC 5213 P, RFC 5555 F, RFC 5845 T, RFC 6602 B)."""

    A = 0x8000  # Acknowledge
    H = 0x4000  # Home Registration
    L = 0x2000  # Link-Local Address Compatibility
    K = 0x1000  # Key Management Mobility Capability
    M = 0x0800  # MAP Registration (HMIPv6)
    R = 0x0400  # Mobile Router (NEMO)
    P = 0x0200  # Proxy Registration (PMIPv6)
    F = 0x0100  # Forcing UDP encapsulation (DSMIPv6)
    T = 0x0080  # TLV-header format (GRE)
    B = 0x0040  # Bulk Binding Update


class BaFlags(_LetterFlag):
    """Binding Acknowledgement flags, the byte after the status (RFC 6275 §6.1.8, RFC 3963 R,
    RFC 5213 P, RFC 5845 T, RFC 6602 B)."""

    K = 0x80
    R = 0x40
    P = 0x20
    T = 0x10
    B = 0x08


class RaFlags(_LetterFlag):
    """Router Advertisement flags byte (RFC 4861 §4.2 M O, RFC 6275 §7.1 H, RFC 4191 Prf,
    RFC 4389 P). The two preference bits are not letters; see `RouterAdvertisement.preference`."""

    M = 0x80
    O = 0x40  # noqa: E741 - the RFC's letter
    H = 0x20
    PRF_HIGH_BIT = 0x10
    PRF_LOW_BIT = 0x08
    P = 0x04


class NaFlags(_LetterFlag):
    """Neighbor Advertisement flags, top bits of the 32-bit word (RFC 4861 §4.4)."""

    R = 0x80
    S = 0x40
    O = 0x20  # noqa: E741 - the RFC's letter


class PrefixFlags(_LetterFlag):
    """Prefix Information option flags (RFC 4861 §4.6.2 L A, RFC 6275 §7.2 R)."""

    L = 0x80
    A = 0x40
    R = 0x20


class MpaFlags(_LetterFlag):
    """Mobile Prefix Advertisement flags (RFC 6275 §6.8: M and O of the 16-bit reserved word)."""

    M = 0x8000
    O = 0x4000  # noqa: E741 - the RFC's letter


class TcpFlags(_LetterFlag):
    """TCP flags in wire order (RFC 9293 §3.1, RFC 3168 CWR/ECE)."""

    C = 0x80  # CWR
    E = 0x40  # ECE
    U = 0x20  # URG
    A = 0x10  # ACK
    P = 0x08  # PSH
    R = 0x04  # RST
    S = 0x02  # SYN
    F = 0x01  # FIN


class RaPreference(IntEnum):
    """Default Router Preference (RFC 4191 §2.1); 0b10 is reserved and treated as medium."""

    MEDIUM = 0
    HIGH = 1
    RESERVED = 2
    LOW = 3
