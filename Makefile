# Set-up and entry points. `make demo` and `make test` work on a fresh machine: they create .venv,
# install mcuforge with its test oracles, and install the C toolchains through apt when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MODELS ?= ../shared/models
APT_PACKAGES := gcc gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm chromium espeak-ng flite

.PHONY: demo test setup apt clean

$(BIN)/mcuforge: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

apt:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

setup: $(BIN)/mcuforge apt

# The keyword-spotting pipeline of examples/kws.yaml (out/pipeline/kws/); `mcuforge demo --bit-exact` is the
# MLPerf Tiny model -> C -> bit-exact check job.
demo: setup
	$(BIN)/mcuforge demo

test: setup
	$(BIN)/python -m pytest -n 2 -q

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
