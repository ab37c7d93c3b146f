# Donjon: an SVSM in C. Everything builds out of tree in build/.
#   make            donjon-sim
#   make run        the main demonstration
#   make test       every test (and make check); ends with "N passed, M failed"
#   make check      static analysis, format, undocumented raw address casts
#   make fuzz       long fuzzing runs;  make bench  instruction counts (callgrind)
ifeq ($(origin CC),default)
CC := gcc
endif
BUILD ?= build
FUZZ_SECONDS ?= 600

CORE_SRC := $(wildcard core/*.c core/*/*.c)
# The IGVM library (lib/igvm): the simulator launches IGVM files with it; the tool adds the
# builder.
IGVM_LIB_SRC := $(filter-out lib/igvm/igvm_build.c,$(wildcard lib/igvm/igvm_*.c))
IGVM_TOOL_SRC := lib/igvm/igvm_build.c tools/igvm/main.c
# Crypto (include/donjon/crypto.h): OpenSSL in hosted builds, Debian's BearSSL in the kernel.
HOSTED_CRYPTO_SRC := lib/crypto/crypto_openssl.c lib/crypto/crypto_common.c
BEARSSL_LIB := /usr/lib/x86_64-linux-gnu/libbearssl.a
SIM_SRC := $(wildcard platform/sim/*.c model/rmp/*.c model/psp/*.c) $(IGVM_LIB_SRC) \
	$(HOSTED_CRYPTO_SRC)
TOOL_SIM_SRC := $(wildcard tools/sim/*.c)
UNIT_SRC := $(wildcard tests/unit/*.c)
# The native platform's guest page-table walker is freestanding: the unit tests run it hosted.
GUEST_WALK_SRC := platform/native/guest_walk.c
# The host's side (model/host: the GHCB protocol, the devices a guest needs): the kernel runs
# it on the native platform; the unit tests run it hosted.
HOST_MODEL_SRC := $(wildcard model/host/*.c)

INCLUDES := -Iinclude -Icore -Iplatform/sim -Imodel/rmp -Imodel/psp -Imodel/host -Itests/core -Ilib/igvm \
	-Ilib/crypto -Itests \
	-Iplatform/native
WARN := -Wall -Wextra -Werror -Wshadow -Wvla -Wconversion -Wstrict-prototypes \
	-Wmissing-prototypes -Wno-sign-conversion
BASE_CFLAGS := -std=gnu17 -g $(WARN) $(INCLUDES) -D_GNU_SOURCE
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LIBS := -lcrypto -lpthread -lz

REL_CFLAGS := $(BASE_CFLAGS) -O2
SAN_CFLAGS := $(BASE_CFLAGS) -O1 $(SAN)
TSAN_CFLAGS := $(BASE_CFLAGS) -O1 -fsanitize=thread

objs = $(patsubst %.c,$(BUILD)/$(1)/%.o,$(2))

# make V=1 shows the commands.
ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-6s %s\n'
endif

include services/vtpm/build.mk

# A hostile service for the kernel's test=service (tests/services/hostile), built as the
# services are.
$(BUILD)/tests/hostile-service: tests/services/hostile/hostile.c include/donjon/service_channel.h
	@mkdir -p $(dir $@)
	$(say) CC $@
	$(Q)$(CC) $(VTPM_CFLAGS) -fPIE -static-pie -o $@ $<

.PHONY: all deps run test check fuzz bench clean
all: $(BUILD)/donjon-sim $(BUILD)/donjon-igvm $(BUILD)/kernel/donjon.elf $(BUILD)/donjon.igvm \
	$(SERVICES_BIN)

deps:
	@scripts/install-deps

$(BUILD)/rel/%.o: %.c
	@mkdir -p $(dir $@)
	$(say) CC $@
	$(Q)$(CC) $(REL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/tsan/%.o: %.c
	@mkdir -p $(dir $@)
	$(say) CC $@
	$(Q)$(CC) $(TSAN_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(say) CC $@
	$(Q)$(CC) $(SAN_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/donjon-sim: $(call objs,rel,$(CORE_SRC) $(SIM_SRC) $(TOOL_SIM_SRC))
	$(say) CC $@
	$(Q)$(CC) $(REL_CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/donjon-igvm: $(call objs,rel,$(IGVM_LIB_SRC) $(IGVM_TOOL_SRC))
	$(say) CC $@
	$(Q)$(CC) $(REL_CFLAGS) -o $@ $^ -lcrypto -lz -lpthread

# Donjon's IGVM file: the kernel and the protocol test guest, for sev-snp and native.
$(BUILD)/donjon.igvm: $(BUILD)/donjon-igvm $(BUILD)/kernel/donjon.elf $(BUILD)/guest/guest.bin
	$(say) IGVM $@
	$(Q)$(BUILD)/donjon-igvm build --kernel $(BUILD)/kernel/donjon.elf \
		--guest $(BUILD)/guest/guest.bin -o $@

$(BUILD)/fuzz-migrate: core/migrate/stream.c $(HOSTED_CRYPTO_SRC) tests/fuzz/fuzz_migrate.c
	@mkdir -p $(dir $@)
	$(say) CLANG $@
	$(Q)clang $(FUZZ_CFLAGS) -o $@ $^ $(LIBS)

# The service loader's ELF checks (lib/elf), on their own.
$(BUILD)/fuzz-elf: lib/elf/elf_image.c tests/fuzz/fuzz_elf.c
	@mkdir -p $(dir $@)
	$(say) CLANG $@
	$(Q)clang $(FUZZ_CFLAGS) -o $@ $^

$(BUILD)/fuzz-igvm: $(IGVM_LIB_SRC) tests/igvm_sample.c tests/fuzz/fuzz_igvm.c
	@mkdir -p $(dir $@)
	$(say) CLANG $@
	$(Q)clang $(FUZZ_CFLAGS) -o $@ $^ -lcrypto -lz -lpthread

$(BUILD)/donjon-sim-san: $(call objs,san,$(CORE_SRC) $(SIM_SRC) $(TOOL_SIM_SRC))
	$(say) CC $@
	$(Q)$(CC) $(SAN_CFLAGS) -o $@ $^ $(LIBS)

# The unit tests under ThreadSanitizer (make test runs the concurrent ones).
$(BUILD)/test-unit-tsan: $(call objs,tsan,$(CORE_SRC) $(SIM_SRC) $(UNIT_SRC) $(GUEST_WALK_SRC) \
	$(HOST_MODEL_SRC) lib/igvm/igvm_build.c tests/igvm_sample.c)
	$(say) CC $@
	$(Q)$(CC) $(TSAN_CFLAGS) -o $@ $^ $(LIBS)

# The core's portable tests (tests/core) on the simulator; the kernel runs them too.
CORE_TEST_SRC := tests/core/harness.c tests/core/core_tests.c tests/core/tm_common.c
$(BUILD)/test-core: $(call objs,san,$(CORE_SRC) $(SIM_SRC) $(CORE_TEST_SRC) tests/core/tm_sim.c)
	$(say) CC $@
	$(Q)$(CC) $(SAN_CFLAGS) -o $@ $^ $(LIBS)

# The crypto known answers (tests/crypto) against OpenSSL; the kernel runs them on BearSSL.
CRYPTO_TEST_SRC := tests/crypto/kat.c
$(BUILD)/test-crypto: $(call objs,san,tests/crypto/run_hosted.c $(CRYPTO_TEST_SRC) \
	tests/core/harness.c $(HOSTED_CRYPTO_SRC))
	$(say) CC $@
	$(Q)$(CC) $(SAN_CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/test-unit: $(call objs,san,$(CORE_SRC) $(SIM_SRC) $(UNIT_SRC) $(GUEST_WALK_SRC) $(HOST_MODEL_SRC) \
	lib/igvm/igvm_build.c tests/igvm_sample.c)
	$(say) CC $@
	$(Q)$(CC) $(SAN_CFLAGS) -o $@ $^ $(LIBS)

# libFuzzer needs clang, whatever CC is.
FUZZ_CFLAGS := $(BASE_CFLAGS) -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
$(BUILD)/fuzz-migrate-import: $(CORE_SRC) $(SIM_SRC) tests/fuzz/fuzz_common.c \
	tests/fuzz/fuzz_migrate_import.c
	@mkdir -p $(dir $@)
	$(say) CLANG $@
	$(Q)clang $(FUZZ_CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/fuzz-request: $(CORE_SRC) $(SIM_SRC) tests/fuzz/fuzz_common.c tests/fuzz/fuzz_request.c
	@mkdir -p $(dir $@)
	$(say) CLANG $@
	$(Q)clang $(FUZZ_CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/fuzz-attest: $(CORE_SRC) $(SIM_SRC) tests/fuzz/fuzz_common.c tests/fuzz/fuzz_attest.c
	@mkdir -p $(dir $@)
	$(say) CLANG $@
	$(Q)clang $(FUZZ_CFLAGS) -o $@ $^ $(LIBS)

# The vTPM path, with the service played by the target instead of platform/sim/service.c.
$(BUILD)/fuzz-vtpm: $(CORE_SRC) $(filter-out platform/sim/service.c,$(SIM_SRC)) \
	tests/fuzz/fuzz_common.c tests/fuzz/fuzz_vtpm.c
	@mkdir -p $(dir $@)
	$(say) CLANG $@
	$(Q)clang $(FUZZ_CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/bench-calls: $(call objs,rel,$(CORE_SRC) $(SIM_SRC)) tests/bench/bench_calls.c
	$(say) CC $@
	$(Q)$(CC) $(REL_CFLAGS) -o $@ $^ $(LIBS)

run: deps $(BUILD)/donjon-sim $(BUILD)/kernel/donjon.elf $(BUILD)/donjon.igvm $(SERVICES_BIN)
	@scripts/demo $(BUILD)

test: deps
	@$(MAKE) --no-print-directory $(BUILD)/donjon-sim $(BUILD)/donjon-sim-san \
		$(BUILD)/test-unit $(BUILD)/test-unit-tsan $(BUILD)/test-core $(BUILD)/test-crypto \
		$(BUILD)/fuzz-request $(BUILD)/fuzz-attest \
		$(BUILD)/fuzz-igvm $(BUILD)/fuzz-migrate $(BUILD)/fuzz-migrate-import $(BUILD)/fuzz-vtpm \
		$(BUILD)/fuzz-elf $(BUILD)/tests/hostile-service \
		$(BUILD)/donjon-igvm $(BUILD)/kernel/donjon.elf $(BUILD)/donjon.igvm $(SERVICES_BIN)
	@scripts/run-tests $(BUILD)

check: deps
	@scripts/check

fuzz: deps $(BUILD)/fuzz-request $(BUILD)/fuzz-attest $(BUILD)/fuzz-igvm $(BUILD)/fuzz-migrate \
	$(BUILD)/fuzz-migrate-import $(BUILD)/fuzz-vtpm $(BUILD)/fuzz-elf
	@mkdir -p $(BUILD)/fuzz-corpus $(BUILD)/fuzz-attest-corpus $(BUILD)/fuzz-igvm-corpus \
		$(BUILD)/fuzz-migrate-corpus
	$(BUILD)/fuzz-request -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $(BUILD)/fuzz-corpus
	$(BUILD)/fuzz-attest -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -len_control=0 \
		-max_len=512 $(BUILD)/fuzz-attest-corpus
	$(BUILD)/fuzz-igvm -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $(BUILD)/fuzz-igvm-corpus
	$(BUILD)/fuzz-migrate -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		$(BUILD)/fuzz-migrate-corpus
	@mkdir -p $(BUILD)/fuzz-migrate-import-corpus
	@cp tests/fuzz/seeds/migrate-import/* $(BUILD)/fuzz-migrate-import-corpus/
	$(BUILD)/fuzz-migrate-import -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		$(BUILD)/fuzz-migrate-import-corpus
	@mkdir -p $(BUILD)/fuzz-vtpm-corpus
	$(BUILD)/fuzz-vtpm -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		$(BUILD)/fuzz-vtpm-corpus
	@mkdir -p $(BUILD)/fuzz-elf-corpus
	$(BUILD)/fuzz-elf -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $(BUILD)/fuzz-elf-corpus

$(BUILD)/bench-measure: $(call objs,rel,$(IGVM_LIB_SRC)) tests/bench/bench_measure.c
	$(say) CC $@
	$(Q)$(CC) $(REL_CFLAGS) -o $@ $^ -lcrypto -lz -lpthread

$(BUILD)/bench-migrate: $(call objs,rel,core/migrate/stream.c $(HOSTED_CRYPTO_SRC)) \
	tests/bench/bench_migrate.c
	$(say) CC $@
	$(Q)$(CC) $(REL_CFLAGS) -Icore -o $@ $^ -lcrypto

# The crypto workload hosted, on OpenSSL and on BearSSL: the baselines of the kernel's.
BENCH_CRYPTO_SRC := tests/bench/bench_crypto.c tests/bench/bench_crypto_hosted.c
$(BUILD)/bench-crypto-openssl: $(BENCH_CRYPTO_SRC) $(HOSTED_CRYPTO_SRC)
	$(say) CC $@
	$(Q)$(CC) $(REL_CFLAGS) -Itests/bench -o $@ $^ -lcrypto

$(BUILD)/bench-crypto-bearssl: $(BENCH_CRYPTO_SRC) lib/crypto/crypto_bearssl.c lib/crypto/crypto_common.c
	$(say) CC $@
	$(Q)$(CC) $(REL_CFLAGS) -DBENCH_BEARSSL -Itests/bench -o $@ $^ $(BEARSSL_LIB)

bench: deps $(BUILD)/bench-calls $(BUILD)/bench-measure $(BUILD)/bench-migrate \
	$(BUILD)/kernel/donjon.elf $(BUILD)/donjon-sim $(SERVICES_BIN) \
	$(BUILD)/bench-crypto-openssl $(BUILD)/bench-crypto-bearssl
	@scripts/bench $(BUILD)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# ---- the kernel: freestanding x86-64, booted by QEMU through PVH ----
# The kernel carries the core, the RMP model and the native platform, and the protocol
# test guest (tests/guest) as a flat image it loads at launch.
KERNEL_SRC := $(wildcard kernel/*.c kernel/service/*.c) lib/elf/elf_image.c $(CORE_SRC) lib/crypto/crypto_bearssl.c lib/crypto/crypto_common.c \
	$(wildcard model/rmp/*.c model/psp/*.c model/host/*.c platform/native/*.c) \
	$(CORE_TEST_SRC) $(CRYPTO_TEST_SRC) tests/bench/bench_crypto.c
KERNEL_ASM := $(wildcard kernel/arch/x86/*.S)
FREESTANDING := -ffreestanding -fno-pic -fno-pie -mno-red-zone -mgeneral-regs-only \
	-fno-stack-protector -fno-asynchronous-unwind-tables -fno-omit-frame-pointer -mcmodel=small
KCFLAGS := -std=gnu17 -O2 -g $(WARN) -Iinclude -Icore -Ikernel -Imodel/rmp -Imodel/psp -Imodel/host \
	-Iplatform/native -Ilib/crypto \
	-Itests/core -Itests/bench \
	$(FREESTANDING)
KERNEL_OBJS := $(patsubst %.c,$(BUILD)/kobj/%.o,$(KERNEL_SRC)) \
	$(patsubst %.S,$(BUILD)/kobj/%.o,$(KERNEL_ASM)) $(BUILD)/kobj/guest_image.o

# The test guest seals its own SNP guest messages: BearSSL, as in the kernel.
GUEST_SRC := $(wildcard tests/guest/*.c) kernel/console.c kernel/lib.c \
	platform/native/vmsa_init.c lib/crypto/crypto_bearssl.c lib/crypto/crypto_common.c \
	core/attest/snp_msg.c
GUEST_OBJS := $(patsubst %.c,$(BUILD)/gobj/%.o,$(GUEST_SRC)) $(BUILD)/gobj/tests/guest/entry.o

$(BUILD)/gobj/%.o: %.c
	@mkdir -p $(dir $@)
	$(say) CC $@
	$(Q)$(CC) $(KCFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/gobj/%.o: %.S
	@mkdir -p $(dir $@)
	$(say) CC $@
	$(Q)$(CC) $(KCFLAGS) -c $< -o $@

$(BUILD)/guest/guest.bin: $(GUEST_OBJS) tests/guest/guest.ld
	@mkdir -p $(dir $@)
	$(say) LD $@
	$(Q)ld -m elf_x86_64 -z max-page-size=4096 -z noexecstack --no-warn-rwx-segments \
		-T tests/guest/guest.ld \
		-o $(BUILD)/guest/guest.elf $(GUEST_OBJS) $(BEARSSL_LIB)
	$(say) OBJCOPY $@
	$(Q)objcopy -O binary --set-section-flags .bss=alloc,load,contents $(BUILD)/guest/guest.elf $@

$(BUILD)/kobj/guest_image.o: $(BUILD)/guest/guest.bin
	@mkdir -p $(dir $@)
	$(say) INCBIN $@
	$(Q)printf '\t.section .rodata\n\t.p2align 12\n\t.globl guest_image_start, guest_image_end\nguest_image_start:\n\t.incbin "%s"\nguest_image_end:\n\t.section .note.GNU-stack, "", @progbits\n' \
		$< | $(CC) -c -x assembler - -o $@
KLD := ld -m elf_x86_64 -z max-page-size=4096 -z noexecstack -T kernel/kernel.ld

$(BUILD)/kobj/%.o: %.c
	@mkdir -p $(dir $@)
	$(say) CC $@
	$(Q)$(CC) $(KCFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/kobj/%.o: %.S
	@mkdir -p $(dir $@)
	$(say) CC $@
	$(Q)$(CC) $(KCFLAGS) -MMD -MP -c $< -o $@

# Two links: the second carries the symbol table of the first (for backtraces). The table
# lives in read-only data, after the text, so text addresses do not move.
$(BUILD)/kernel/donjon.elf: $(KERNEL_OBJS) kernel/kernel.ld scripts/gen-symbols
	@mkdir -p $(dir $@)
	$(say) SYMS $@
	$(Q)scripts/gen-symbols /dev/null > $(BUILD)/kernel/symbols0.c
	$(say) CC $@
	$(Q)$(CC) $(KCFLAGS) -c $(BUILD)/kernel/symbols0.c -o $(BUILD)/kernel/symbols0.o
	$(say) LD $@
	$(Q)$(KLD) -o $@.pass1 $(KERNEL_OBJS) $(BUILD)/kernel/symbols0.o $(BEARSSL_LIB)
	$(say) SYMS $@
	$(Q)scripts/gen-symbols $@.pass1 > $(BUILD)/kernel/symbols.c
	$(say) CC $@
	$(Q)$(CC) $(KCFLAGS) -c $(BUILD)/kernel/symbols.c -o $(BUILD)/kernel/symbols.o
	$(say) LD $@
	$(Q)$(KLD) -o $@ $(KERNEL_OBJS) $(BUILD)/kernel/symbols.o $(BEARSSL_LIB)
	$(say) SYMS $@
	$(Q)scripts/gen-symbols $@ | cmp -s - $(BUILD)/kernel/symbols.c
