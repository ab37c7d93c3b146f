/* The devices of the emulated SEV-SNP machine Linux runs on (mode=linux), as a hypervisor's
 * device models answer them: each vCPU's local APIC (model/host/apic.c), the PIT, PM timer
 * and RTC (timers.c), COM1 (uart.c), an I/O APIC (ioapic.c) and ACPI's PM1 registers; and
 * the interrupts they raise, delivered into the vCPU's VMCB (machine.c). One lock covers
 * every model: exits that reach a device are few next to the guest's own work. */
#ifndef PLATFORM_NATIVE_MACHINE_H
#define PLATFORM_NATIVE_MACHINE_H

#include "svm.h"

/* Where the devices sit: the I/O APIC's MMIO page and the ACPI register blocks' ports (the
 * FADT names them), the SCI's ISA IRQ and the UART's. */
#define MACHINE_IOAPIC_BASE 0xFEC00000ULL
#define MACHINE_PM1A_EVT 0x600U
#define MACHINE_PM1A_CNT 0x604U
#define MACHINE_PM_TMR 0x608U
#define MACHINE_SCI_IRQ 9U
#define MACHINE_UART_IRQ 4U
/* native_cpu.armed when this CPU's timer is in an unknown state. */
#define MACHINE_UNARMED (UINT64_MAX - 1U)

/* Once, before any vCPU runs: the devices at power-on, time counted from now at the TSC
 * rate tsc_hz, the RTC set from the host's CMOS clock. False (with a message) if the
 * models refuse tsc_hz. */
bool machine_init(uint64_t tsc_hz);
/* The vCPU's local APIC at power-on, as the BSP (apic_id 0) or an AP. */
bool machine_vcpu_init(struct native_cpu *c);

/* RDMSR/WRMSR of APIC_BASE's neighbours: the x2APIC registers and IA32_TSC_DEADLINE.
 * False for #GP(0). */
bool machine_apic_msr(struct native_cpu *c, uint32_t msr, bool write, uint64_t *value);
/* RDMSR/WRMSR of the paravirtual clock's MSRs (kvmclock.h): a write with the enable bit
 * fills the record at its address, if that is a shared page; a read returns what was
 * written. */
void machine_kvmclock_msr(struct native_cpu *c, uint32_t msr, bool write, uint64_t *value);
/* Port I/O of size 1, 2 or 4 bytes (an IN's *value out, an OUT's in). Ports without a device
 * read as all ones and ignore writes. False when the guest powered the machine off. */
bool machine_io(struct native_cpu *c, uint16_t port, unsigned size, bool in, uint32_t *value);
/* A nested page fault at gpa, a write or not, plain if it was a data access by the
 * instruction at RIP (not a fetch, a page-table walk or an event's delivery): if gpa is a
 * device's MMIO (without the C-bit), *handled is set and the access is decoded and
 * emulated, RIP moved past it; false if the vCPU stops (not plain, an instruction that
 * cannot be decoded or that does not make that access). */
bool machine_mmio(struct native_cpu *c, uint64_t gpa, bool write, bool plain, bool *handled);

/* Around each VMRUN: the highest pending interrupt offered as the VMCB's virtual interrupt
 * (out of IRR meanwhile: apic_offer) and this CPU's timer armed for the vCPU's next APIC
 * timer expiry; after it, a virtual interrupt the guest took moves to its in-service
 * register, one it did not take back to IRR. */
void machine_enter(struct native_cpu *c, uint8_t *vmcb);
void machine_leave(struct native_cpu *c, const uint8_t *vmcb);
/* An exit on a physical interrupt: it is taken (this CPU's timer, or a kick), and the
 * timer is armed again at the next entry. */
void machine_tick(struct native_cpu *c);
/* HLT: waits until the vCPU has an interrupt or an NMI to take, or was deleted. False if
 * nothing can ever wake it (one vCPU, interrupts disabled or no timer armed): the vCPU
 * stops. */
bool machine_halt(struct native_cpu *c);

#endif
