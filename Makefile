# Donjon: an SVSM in C. Everything builds out of tree in build/.
#   make            donjon-sim
#   make run        the main demonstration
#   make test       every test (and make check); ends with "N passed, M failed"
#   make check      static analysis, format, undocumented raw address casts
#   make fuzz       long fuzzing run;  make bench  instruction counts (callgrind)
ifeq ($(origin CC),default)
CC := gcc
endif
BUILD ?= build
FUZZ_SECONDS ?= 600

CORE_SRC := $(wildcard core/*.c core/*/*.c)
SIM_SRC := $(wildcard platform/sim/*.c)
TOOL_SIM_SRC := $(wildcard tools/sim/*.c)
UNIT_SRC := $(wildcard tests/unit/*.c)

INCLUDES := -Iinclude -Icore -Iplatform/sim
WARN := -Wall -Wextra -Werror -Wshadow -Wvla -Wconversion -Wstrict-prototypes \
	-Wmissing-prototypes -Wno-sign-conversion
BASE_CFLAGS := -std=gnu17 -g $(WARN) $(INCLUDES) -D_GNU_SOURCE
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LIBS := -lcrypto -lpthread

REL_CFLAGS := $(BASE_CFLAGS) -O2
SAN_CFLAGS := $(BASE_CFLAGS) -O1 $(SAN)

objs = $(patsubst %.c,$(BUILD)/$(1)/%.o,$(2))

.PHONY: all deps run test check fuzz bench clean
all: $(BUILD)/donjon-sim

deps:
	@scripts/install-deps

$(BUILD)/rel/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/donjon-sim: $(call objs,rel,$(CORE_SRC) $(SIM_SRC) $(TOOL_SIM_SRC))
	$(CC) $(REL_CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/donjon-sim-san: $(call objs,san,$(CORE_SRC) $(SIM_SRC) $(TOOL_SIM_SRC))
	$(CC) $(SAN_CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/test-unit: $(call objs,san,$(CORE_SRC) $(SIM_SRC) $(UNIT_SRC))
	$(CC) $(SAN_CFLAGS) -o $@ $^ $(LIBS)

# libFuzzer needs clang, whatever CC is.
FUZZ_CFLAGS := $(BASE_CFLAGS) -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
$(BUILD)/fuzz-request: $(CORE_SRC) $(SIM_SRC) tests/fuzz/fuzz_request.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/bench-calls: $(call objs,rel,$(CORE_SRC) $(SIM_SRC)) tests/bench/bench_calls.c
	$(CC) $(REL_CFLAGS) -o $@ $^ $(LIBS)

run: deps $(BUILD)/donjon-sim
	@scripts/demo $(BUILD)/donjon-sim

test: deps
	@$(MAKE) --no-print-directory $(BUILD)/donjon-sim $(BUILD)/donjon-sim-san \
		$(BUILD)/test-unit $(BUILD)/fuzz-request
	@scripts/run-tests $(BUILD)

check: deps
	@scripts/check

fuzz: deps $(BUILD)/fuzz-request
	@mkdir -p $(BUILD)/fuzz-corpus
	$(BUILD)/fuzz-request -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $(BUILD)/fuzz-corpus

bench: deps $(BUILD)/bench-calls
	@scripts/bench $(BUILD)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
