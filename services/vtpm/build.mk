# The vTPM service (services/vtpm), a make fragment the Makefile includes after it has set
# BUILD, CC, Q and say: a static Linux-ABI program speaking include/donjon/service_channel.h, built as
# $(BUILD)/services/vtpm and listed in SERVICES_BIN.
#
# libtpms (Debian's libtpms-dev ships libtpms.a) before OpenSSL's libcrypto.a: the other
# order leaves libtpms's references to libcrypto unresolved. The linker warns three times,
# about dlopen, getaddrinfo and gethostbyname: libcrypto's DSO and BIO code links them, and
# the service never calls them (shared/spec/linux-abi-services.md, section 1).
VTPM_SRC = $(wildcard services/vtpm/*.c)
VTPM_CFLAGS = -std=gnu17 -O2 -Wall -Wextra -Werror -Wshadow -Wvla -Wconversion \
	-Wstrict-prototypes -Wmissing-prototypes -Wno-sign-conversion -D_GNU_SOURCE -Iinclude

$(BUILD)/services/vtpm: $(VTPM_SRC) include/donjon/service_channel.h services/vtpm/build.mk
	@mkdir -p $(dir $@)
	$(say) CC $@
	$(Q)$(CC) $(VTPM_CFLAGS) -fPIE -static-pie -o $@ $(VTPM_SRC) -ltpms -lcrypto

SERVICES_BIN += $(BUILD)/services/vtpm
