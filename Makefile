# RVM - a thin front door over CMake presets. `make run` and `make test` are all a newcomer needs.
.PHONY: all deps build run test test-host test-asan cross purity bench fuzz lint format clean help
.PHONY: qemu qemu-debug qemu-image
.PHONY: seed qemu-seed
.PHONY: docs

BUILD      ?= build
RVM        := $(BUILD)/host/tools/rvm/rvm
BENCH      ?=
FUZZ_SECONDS ?= 60
JOBS       ?= $(shell nproc)

all: build

help:
	@echo "make run     run the agent swarm demo (MANIFEST=, RUN_SECONDS=) and audit its witness log"
	@echo "make test    build everything and run every test (plain and ASan+UBSan)"
	@echo "make bench   benchmarks against peers (BENCH=substring filters rows)"
	@echo "make fuzz    libFuzzer targets, FUZZ_SECONDS each"
	@echo "make lint    clang-tidy + cppcheck"
	@echo "make qemu    boot RVM bare-metal on QEMU virt (EL2, 4 CPUs); witness log in run/"
	@echo "make qemu-debug  the same, halted for gdb on tcp::1234"
	@echo "make seed    build the seed image (Cortex-M3, 64 KB RAM) and print its memory report"
	@echo "make qemu-seed  boot it on QEMU lm3s6965evb; witness log in run/seed-witness.log"
	@echo "make docs   the user guide as HTML in build/docs (pandoc, graphviz)"

deps:
	@bash scripts/deps.sh

# Configure a preset once; later builds let CMake re-run itself when needed.
$(BUILD)/%/build.ninja:
	@cmake --preset $* -B $(BUILD)/$* >/dev/null

build: deps $(BUILD)/host/build.ninja
	@cmake --build $(BUILD)/host -j $(JOBS)

# The default demo: a swarm of agents for RUN_SECONDS, then the audit verdict of its log.
MANIFEST    ?= examples/demo.json
RUN_SECONDS ?= 10
run: build
	@rm -rf run
	@$(RVM) run $(MANIFEST) --out run --seconds $(RUN_SECONDS)
	@$(RVM) audit run/witness.log --pub run/witness.pub

test: deps test-host test-asan cross purity

test-host: $(BUILD)/host/build.ninja
	@cmake --build $(BUILD)/host -j $(JOBS)
	@cd $(BUILD)/host && ctest --output-on-failure -j $(JOBS)

test-asan: $(BUILD)/host-asan/build.ninja
	@cmake --build $(BUILD)/host-asan -j $(JOBS)
	@cd $(BUILD)/host-asan && ctest --output-on-failure -j $(JOBS)

# The freestanding core must build for bare-metal AArch64 and the Cortex-M3 seed.
cross: $(BUILD)/aarch64-virt/build.ninja $(BUILD)/seed/build.ninja
	@cmake --build $(BUILD)/aarch64-virt -j $(JOBS)
	@cmake --build $(BUILD)/seed -j $(JOBS)
	@echo "cross: core builds for aarch64-virt and seed"

purity: cross
	@bash tests/core_purity.sh $(BUILD)

# Bare metal: the image from the aarch64-virt preset, run and captured by the host's runner.
QEMU_ELF := $(BUILD)/aarch64-virt/platform/qemu-virt/rvm-qemu-virt.elf
QEMU_RUN := $(BUILD)/host/tests/qemu/rvm-qemu-run

qemu-image: deps $(BUILD)/host/build.ninja $(BUILD)/aarch64-virt/build.ninja
	@cmake --build $(BUILD)/host -j $(JOBS) --target rvm rvm-qemu-run
	@cmake --build $(BUILD)/aarch64-virt -j $(JOBS)

qemu: qemu-image
	@$(QEMU_RUN) --elf $(QEMU_ELF) --smp 4 --out run
	@if [ -f run/qemu-witness.pub ]; then $(RVM) audit run/qemu-witness.log --pub run/qemu-witness.pub; \
	 else $(RVM) audit run/qemu-witness.log --trust-log-key; fi

qemu-debug: qemu-image
	@echo "qemu-debug: waiting for gdb: gdb-multiarch $(QEMU_ELF) -ex 'target remote :1234'"
	@$(QEMU_RUN) --elf $(QEMU_ELF) --smp 4 --out run --gdb

# The seed profile: Cortex-M3 lm3s6965evb, 64 KB of SRAM. The link prints the memory report.
SEED_ELF := $(BUILD)/seed/platform/seed/rvm-seed.elf
SEED_KEY := $(BUILD)/seed/seed-device.key

seed: deps $(BUILD)/seed/build.ninja
	@cmake --build $(BUILD)/seed -j $(JOBS) --target rvm-seed.elf
	@sh platform/seed/memreport.sh $(SEED_ELF)

qemu-seed: seed $(BUILD)/host/build.ninja
	@cmake --build $(BUILD)/host -j $(JOBS) --target rvm rvm-qemu-run
	@$(QEMU_RUN) --board seed --elf $(SEED_ELF) --out run --timeout 20
	@$(RVM) audit run/seed-witness.log --hmac-key $(SEED_KEY) --require-clean

bench: build
	@$(BUILD)/host/bench/rvm-bench --filter "$(BENCH)"

fuzz: deps $(BUILD)/fuzz/build.ninja
	@cmake --build $(BUILD)/fuzz -j $(JOBS)
	@bash fuzz/run.sh $(BUILD)/fuzz $(FUZZ_SECONDS)

# The user guide (docs/guide) and the references as HTML, diagrams rendered by graphviz.
docs: deps
	@bash scripts/guide_html.sh $(BUILD)/docs

lint: deps $(BUILD)/host/build.ninja
	@bash scripts/lint.sh $(BUILD)/host

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) run
