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
SIM_SRC := $(wildcard platform/sim/*.c platform/rmp/*.c)
TOOL_SIM_SRC := $(wildcard tools/sim/*.c)
UNIT_SRC := $(wildcard tests/unit/*.c)

INCLUDES := -Iinclude -Icore -Iplatform/sim -Iplatform/rmp
WARN := -Wall -Wextra -Werror -Wshadow -Wvla -Wconversion -Wstrict-prototypes \
	-Wmissing-prototypes -Wno-sign-conversion
BASE_CFLAGS := -std=gnu17 -g $(WARN) $(INCLUDES) -D_GNU_SOURCE
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LIBS := -lcrypto -lpthread

REL_CFLAGS := $(BASE_CFLAGS) -O2
SAN_CFLAGS := $(BASE_CFLAGS) -O1 $(SAN)

objs = $(patsubst %.c,$(BUILD)/$(1)/%.o,$(2))

.PHONY: all deps run test check fuzz bench clean
all: $(BUILD)/donjon-sim $(BUILD)/kernel/donjon.elf

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
		$(BUILD)/test-unit $(BUILD)/fuzz-request $(BUILD)/kernel/donjon.elf
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

# ---- the kernel: freestanding x86-64, booted by QEMU through PVH ----
KERNEL_SRC := $(wildcard kernel/*.c)
KERNEL_ASM := $(wildcard kernel/arch/x86/*.S)
KCFLAGS := -std=gnu17 -O2 -g $(WARN) -Iinclude -Icore -Ikernel -ffreestanding -fno-pic -fno-pie \
	-mno-red-zone -mgeneral-regs-only -fno-stack-protector -fno-asynchronous-unwind-tables \
	-fno-omit-frame-pointer -mcmodel=small -fno-builtin-printf
KERNEL_OBJS := $(patsubst %.c,$(BUILD)/kobj/%.o,$(KERNEL_SRC)) \
	$(patsubst %.S,$(BUILD)/kobj/%.o,$(KERNEL_ASM))
KLD := ld -m elf_x86_64 -z max-page-size=4096 -z noexecstack -T kernel/kernel.ld

$(BUILD)/kobj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(KCFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/kobj/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(KCFLAGS) -MMD -MP -c $< -o $@

# Two links: the second carries the symbol table of the first (for backtraces). The table
# lives in read-only data, after the text, so text addresses do not move.
$(BUILD)/kernel/donjon.elf: $(KERNEL_OBJS) kernel/kernel.ld scripts/gen-symbols
	@mkdir -p $(dir $@)
	scripts/gen-symbols /dev/null > $(BUILD)/kernel/symbols0.c
	$(CC) $(KCFLAGS) -c $(BUILD)/kernel/symbols0.c -o $(BUILD)/kernel/symbols0.o
	$(KLD) -o $@.pass1 $(KERNEL_OBJS) $(BUILD)/kernel/symbols0.o
	scripts/gen-symbols $@.pass1 > $(BUILD)/kernel/symbols.c
	$(CC) $(KCFLAGS) -c $(BUILD)/kernel/symbols.c -o $(BUILD)/kernel/symbols.o
	$(KLD) -o $@ $(KERNEL_OBJS) $(BUILD)/kernel/symbols.o
	scripts/gen-symbols $@ | cmp -s - $(BUILD)/kernel/symbols.c
