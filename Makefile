# The README's two commands: `make demo` and `make test`. Both set up everything they need.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
DEBS    := tshark tcpdump radvd iproute2 iptables iputils-ping chromium
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test deps venv lint typecheck pytest samples bench notebook clean

demo: venv
	$(BIN)/mipsniff report sample_pcaps/article.pcap

test: deps venv lint typecheck pytest

# Debian packages the tests need (tshark is the oracle, tcpdump the golden printer, radvd and
# iproute2 the live lab, chromium renders the HTML report). Installed only when missing.
deps:
	@missing=""; \
	for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  echo "wireshark-common wireshark-common/install-setuid boolean false" | $(SUDO) debconf-set-selections && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

lint: venv
	$(BIN)/ruff check dissectors mipsniff tests benchmarks

typecheck: venv
	$(BIN)/mypy

pytest: venv
	CI=$${CI:-} $(BIN)/pytest -q

samples: venv
	$(BIN)/python -m mipsniff.sim.samples sample_pcaps

bench: venv
	$(BIN)/python benchmarks/run.py --targets show,report,tshark

# The Jupyter front end is not a test dependency (CI runs the notebook with nbclient): installed on demand.
notebook: venv
	@$(BIN)/python -c "import notebook" 2>/dev/null || $(BIN)/pip install -q notebook
	$(BIN)/jupyter notebook $$([ "$$(id -u)" = 0 ] && echo --allow-root) notebooks/handover_analysis.ipynb

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
