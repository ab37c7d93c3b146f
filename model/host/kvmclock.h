/* The KVM paravirtual clock, as the host of the native platform's Linux guest offers it
 * (Linux's arch/x86/kernel/kvmclock.c and include/asm/pvclock-abi.h): the guest writes the
 * guest-physical address of a 32-byte time record to MSR_KVM_SYSTEM_TIME_NEW (bit 0 set:
 * enabled) and of a 12-byte wall-clock record to MSR_KVM_WALL_CLOCK_NEW; the host fills
 * them. This is how Linux learns the TSC's rate here: under QEMU's TCG every port access of
 * the nested guest takes longer than Linux's PIT and PM-timer calibration loops allow.
 *
 * The TSC is the host's, constant and the same on every vCPU, so one record, written once,
 * stays true: system time = (TSC - tsc_ref) scaled by mul and shift, flagged TSC-stable. */
#ifndef MODEL_HOST_KVMCLOCK_H
#define MODEL_HOST_KVMCLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define KVM_MSR_WALL_CLOCK_NEW 0x4B564D00U
#define KVM_MSR_SYSTEM_TIME_NEW 0x4B564D01U
/* CPUID 0x40000001 EAX: the new clock MSRs, and the TSC-stable flag honoured. */
#define KVM_FEATURE_CLOCKSOURCE2 (1U << 3)
#define KVM_FEATURE_CLOCKSOURCE_STABLE_BIT (1U << 24)

#define KVMCLOCK_TIME_SIZE 32U
#define KVMCLOCK_WALL_SIZE 12U
#define KVMCLOCK_ENABLE 1ULL
#define PVCLOCK_TSC_STABLE_BIT 0x01U

/* The time record (pvclock_vcpu_time_info) for a TSC at tsc_hz whose value tsc_ref is
 * system time 0: version 2 (even: complete), the scale, the stable flag. False for a tsc_hz
 * outside ticks.h's range. */
bool kvmclock_time(uint8_t out[KVMCLOCK_TIME_SIZE], uint64_t tsc_hz, uint64_t tsc_ref);
/* The wall-clock record (pvclock_wall_clock): version 2, the seconds since 1970 at system
 * time 0, nanoseconds 0. */
void kvmclock_wall(uint8_t out[KVMCLOCK_WALL_SIZE], uint64_t epoch_seconds);
/* The TSC rate in kHz a guest derives from a record (Linux's pvclock_tsc_khz): 10^6 * 2^32
 * / mul, shifted back by the record's shift; tsc_hz / 1000 or, by rounding, 1 more. */
uint64_t kvmclock_guest_khz(const uint8_t rec[KVMCLOCK_TIME_SIZE]);
/* Nanoseconds of system time at tsc, as the guest computes them from a record. */
uint64_t kvmclock_ns(const uint8_t rec[KVMCLOCK_TIME_SIZE], uint64_t tsc);

#endif
