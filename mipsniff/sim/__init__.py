"""The simulated network: virtual clock, links, nodes, capture points, pcap/pcapng writers, ground truth.

Drives the very same sans-I/O agent machines (mipsniff/agent/) as the live lab does (STYLE §5), over
links with one-way delay, jitter and loss drawn from one seeded `random.Random`, so that a scenario and a
seed always give the same capture byte for byte and the same ground truth.
"""
