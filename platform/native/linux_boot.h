/* Starting Debian's Linux as an SEV-SNP guest at VMPL2 on the native platform. */
#ifndef PLATFORM_NATIVE_LINUX_BOOT_H
#define PLATFORM_NATIVE_LINUX_BOOT_H

#include "cpuid_policy.h"
#include "launch.h"

/* Take the bundle QEMU loaded apart, build what the boot loader and SEV-SNP firmware give
 * Linux, validate all RAM and start the core; the startup VMSA goes to *vmsa. policy is
 * the CPUID the vCPUs get (for the CPUID page). False, with a message, if the bundle or
 * the memory does not allow it. Needs native_give_low_memory(LINUX_LOW_END) before the
 * platform's memory set-up. */
bool linux_launch_prepare(const struct native_launch_params *lp, const struct cpuid_policy *policy,
			  uint64_t *vmsa);
/* The vTPM service's executable the bundle carries, if it carries one (only its header is
 * read: it may be called before the platform's memory set-up). */
bool linux_bundle_service(const uint8_t **elf, size_t *len);

#endif
