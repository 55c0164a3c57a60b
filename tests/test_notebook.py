"""notebooks/handover_analysis.ipynb runs headless from top to bottom without an error (nbclient,
the venv's python3 kernel), and it is stored with its outputs stripped."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "handover_analysis.ipynb"


def test_notebook_is_stored_without_outputs() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "the notebook has no code cells"
    for cell in code:
        assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]


def test_notebook_uses_only_the_public_api() -> None:
    text = NOTEBOOK.read_text()
    for private in ("mipsniff.analysis", "mipsniff.report", "mipsniff.correlate", "import dissectors",
                    "from dissectors"):
        assert private not in text, private


@pytest.mark.slow
def test_notebook_executes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    samples = ROOT / "sample_pcaps"
    if not (samples / "article.pcap").is_file():
        # A checkout without the committed samples: make them the way `make samples` does.
        samples = tmp_path / "samples"
        subprocess.run([sys.executable, "-m", "mipsniff.sim.samples", str(samples)], check=True,
                       capture_output=True)
    monkeypatch.setenv("MIPSNIFF_SAMPLES", str(samples))
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend displays the figures
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": str(ROOT)}})
    client.execute()  # raises CellExecutionError on the first failing cell
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 4, "ladder, RTT, breakdown and CDF should each display a figure"
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    assert "RTT before the move" in text
