"""Frame sources: pcap / pcapng files (optionally gzip-compressed), and live interfaces (live.py)."""

from mipsniff.capture.frame import Frame
from mipsniff.capture.reader import CaptureReader, CaptureWarning, FrameFilter, Interface, open_capture

__all__ = ["CaptureReader", "CaptureWarning", "Frame", "FrameFilter", "Interface", "open_capture"]
