/* The emulated machine's devices and interrupt delivery (machine.h). */
#include "machine.h"

#include <donjon/bytes.h>
#include <donjon/vmsa.h>

#include "apic.h"
#include "arch/x86/cpu.h"
#include "cpu_sync.h"
#include "insn.h"
#include "ioapic.h"
#include "kvmclock.h"
#include "lock.h"
#include "timers.h"
#include "uart.h"

#define VMCB_V_INTR 0x060U
#define VMCB_V_INTR_VECTOR 0x064U
#define V_IRQ (1U << 8)
#define V_INTR_PRIO_SHIFT 16U
#define V_INTR_PRIO_MASK (0xFU << 16)
#define V_IGN_TPR (1U << 20)
#define RFLAGS_IF (1ULL << 9)

#define COM1 0x3F8U
#define PM1_STS_WAKE (1U << 15)
#define PM1_CNT_SCI_EN (1U << 0)
#define PM1_CNT_SLP_TYP_SHIFT 10U
#define PM1_CNT_SLP_EN (1U << 13)
#define S5_SLP_TYP 5U

#define CMOS_INDEX 0x70U
#define CMOS_DATA 0x71U
#define CMOS_STATUS_A 0x0AU
#define CMOS_STATUS_B 0x0BU
#define CMOS_UIP 0x80U
#define CMOS_BINARY 0x04U
#define CMOS_24H 0x02U
#define CMOS_CENTURY 0x32U

static struct {
	struct spinlock lock;
	struct timers timers;
	struct uart uart;
	struct ioapic ioapic;
	uint64_t tsc_hz;
	uint64_t epoch; /* the host's clock at the timers' reference TSC */
	uint64_t msr_kvm_wall_clock;
	uint16_t pm1_sts, pm1_en, pm1_cnt;
	struct native_cpu *vcpus[SMP_MAX_CPUS]; /* by APIC ID, once machine_vcpu_init ran */
	/* The UART is one device with one line of output, whichever vCPU wrote its bytes:
	 * that line is kept in the first writer's buffer, always under the lock. */
	struct native_cpu *writer;
	unsigned vcpu_count;
} m;

static void uart_out(void *ctx, uint8_t byte)
{
	(void)ctx;
	if (m.writer != NULL) {
		svm_guest_putc(m.writer, (char)byte);
	}
}

/* The host's CMOS clock (QEMU's RTC, UTC) read once, for the guest's. */
static uint8_t cmos_read(uint8_t index)
{
	outb(CMOS_INDEX, index);
	return inb(CMOS_DATA);
}

static uint32_t cmos_value(uint8_t raw, bool binary)
{
	return binary ? raw : (uint32_t)(raw >> 4) * 10U + (raw & 0x0FU);
}

static uint64_t host_epoch(void)
{
	unsigned spins = 0;

	while ((cmos_read(CMOS_STATUS_A) & CMOS_UIP) != 0U && spins++ < 1000000U) {
		__builtin_ia32_pause();
	}
	uint8_t b = cmos_read(CMOS_STATUS_B);
	bool bin = (b & CMOS_BINARY) != 0U;
	uint32_t sec = cmos_value(cmos_read(0x00), bin), min = cmos_value(cmos_read(0x02), bin);
	uint8_t hraw = cmos_read(0x04);
	uint32_t hour = cmos_value(hraw & 0x7FU, bin);
	uint32_t day = cmos_value(cmos_read(0x07), bin), mon = cmos_value(cmos_read(0x08), bin);
	uint32_t year = cmos_value(cmos_read(0x09), bin);
	uint32_t century = cmos_value(cmos_read(CMOS_CENTURY), bin);

	if ((b & CMOS_24H) == 0U) {
		hour = hour % 12U + ((hraw & 0x80U) != 0U ? 12U : 0U);
	}
	year += century >= 19U && century <= 99U ? century * 100U : 2000U;
	if (mon < 1U || mon > 12U || day < 1U || day > 31U || hour > 23U || min > 59U ||
	    sec > 59U || year < 1970U) {
		return 0;
	}
	return timers_seconds_from_civil(year, mon, day, hour, min, sec);
}

bool machine_init(uint64_t tsc_hz)
{
	uint64_t epoch = host_epoch();

	m.tsc_hz = tsc_hz;
	m.epoch = epoch;
	if (!timers_init(&m.timers, tsc_hz, rdtsc(), epoch)) {
		log_msg(LOG_ERR, "machine: the timer models refuse a TSC of %lu Hz", tsc_hz);
		return false;
	}
	uint8_t rec[KVMCLOCK_TIME_SIZE];

	if (!kvmclock_time(rec, tsc_hz, m.timers.tsc_ref)) {
		log_msg(LOG_ERR, "machine: the paravirtual clock refuses a TSC of %lu Hz", tsc_hz);
		return false;
	}
	log_msg(LOG_INFO, "machine: the paravirtual clock gives the guest a TSC of %lu kHz",
		kvmclock_guest_khz(rec));
	uart_init(&m.uart, uart_out, NULL);
	ioapic_init(&m.ioapic, 0);
	m.pm1_cnt = PM1_CNT_SCI_EN;
	return true;
}

bool machine_vcpu_init(struct native_cpu *c)
{
	struct apic fresh;

	/* Built apart and put in place under the lock: another vCPU may be delivering an IPI
	 * to this APIC ID's previous creation right now. */
	if (c->apic_id >= SMP_MAX_CPUS ||
	    !apic_init(&fresh, c->apic_id, c->apic_id == 0U, m.tsc_hz)) {
		return false;
	}
	c->virq = -1;
	c->armed = MACHINE_UNARMED;
	c->nmi_masked = false;
	c->msr_kvm_system_time = 0;
	spin_lock(&m.lock);
	c->apic = fresh;
	if (m.vcpus[c->apic_id] == NULL) {
		m.vcpu_count++;
	}
	m.vcpus[c->apic_id] = c;
	spin_unlock(&m.lock);
	return true;
}

/* A fixed IPI or an I/O APIC message to the local APICs it names; each target on another
 * CPU is woken, out of guest mode or of its halt, to see it. Lock held. */
static void deliver(const struct apic_ipi *ipi, bool level)
{
	unsigned self = this_cpu();

	for (unsigned i = 0; i < SMP_MAX_CPUS; i++) {
		struct native_cpu *t = m.vcpus[i];

		if (t == NULL || !apic_ipi_targets(&t->apic, ipi)) {
			continue;
		}
		if (ipi->mode == APIC_IPI_NMI) {
			apic_accept_nmi(&t->apic);
		} else if (ipi->mode == APIC_IPI_FIXED) {
			apic_accept(&t->apic, ipi->vector, level);
		} else {
			continue;
		}
		if (t->apic_id != self) {
			smp_send_wake(t->index);
		}
	}
}

static void deliver_msg(const struct ioapic_msg *msg)
{
	struct apic_ipi ipi = {
		.mode = msg->delivery == IOAPIC_NMI ? APIC_IPI_NMI : APIC_IPI_FIXED,
		.dest_kind = msg->logical ? APIC_IPI_LOGICAL : APIC_IPI_PHYSICAL,
		.dest = msg->dest == 0xFFU ? 0xFFFFFFFFU : msg->dest,
		.vector = msg->vector,
	};

	/* Fixed and lowest priority go to their destinations (lowest priority to each: with
	 * one destination, as Linux programs it, the same); SMI, INIT and ExtINT have nothing
	 * to reach here. */
	if (msg->delivery == IOAPIC_FIXED || msg->delivery == IOAPIC_LOWEST ||
	    msg->delivery == IOAPIC_NMI) {
		deliver(&ipi, msg->level);
	}
}

/* The UART's interrupt output on its I/O APIC pin. Lock held. */
static void uart_irq_update(void)
{
	struct ioapic_msg msg;

	if (ioapic_set_line(&m.ioapic, MACHINE_UART_IRQ, uart_irq_line(&m.uart), &msg)) {
		deliver_msg(&msg);
	}
}

/* A level-triggered vector's EOI reaches the I/O APIC. Lock held. */
static void level_eois(struct native_cpu *c)
{
	struct ioapic_msg msgs[IOAPIC_PINS];
	int v;

	while ((v = apic_take_level_eoi(&c->apic)) >= 0) {
		unsigned n = ioapic_eoi(&m.ioapic, (uint8_t)v, msgs);

		for (unsigned i = 0; i < n; i++) {
			deliver_msg(&msgs[i]);
		}
	}
}

bool machine_apic_msr(struct native_cpu *c, uint32_t msr, bool write, uint64_t *value)
{
	struct apic_ipi ipi;
	bool sent = false, ok = false;

	spin_lock(&m.lock);
	if (write) {
		ok = apic_msr_write(&c->apic, msr, *value, rdtsc(), &ipi, &sent);
		if (ok && sent) {
			deliver(&ipi, false);
		}
		level_eois(c);
	} else {
		ok = apic_msr_read(&c->apic, msr, rdtsc(), value);
	}
	spin_unlock(&m.lock);
	return ok;
}

void machine_kvmclock_msr(struct native_cpu *c, uint32_t msr, bool write, uint64_t *value)
{
	uint8_t rec[KVMCLOCK_TIME_SIZE];
	bool time = msr == KVM_MSR_SYSTEM_TIME_NEW;
	uint64_t gpa = *value & ~KVMCLOCK_ENABLE;
	bool ok = true;

	if (!write) {
		spin_lock(&m.lock);
		*value = time ? c->msr_kvm_system_time : m.msr_kvm_wall_clock;
		spin_unlock(&m.lock);
		return;
	}
	if (time) {
		c->msr_kvm_system_time = *value;
		if ((*value & KVMCLOCK_ENABLE) != 0U) {
			ok = kvmclock_time(rec, m.tsc_hz, m.timers.tsc_ref) &&
			     native_host_copy_out(gpa, rec, KVMCLOCK_TIME_SIZE);
		}
	} else {
		spin_lock(&m.lock);
		m.msr_kvm_wall_clock = *value;
		spin_unlock(&m.lock);
		kvmclock_wall(rec, m.epoch);
		ok = native_host_copy_out(*value, rec, KVMCLOCK_WALL_SIZE);
	}
	if (!ok) {
		log_guest(
			"vCPU %u: the paravirtual clock's record at 0x%lx is not in a shared page; "
			"not written",
			c->apic_id, time ? gpa : *value);
	}
}

/* PM1 status (write 1 to clear), enable and control, as bytes. */
static uint8_t pm1_read(uint16_t port)
{
	uint16_t reg = port < MACHINE_PM1A_EVT + 2U ? m.pm1_sts
		       : port < MACHINE_PM1A_CNT    ? m.pm1_en
						    : m.pm1_cnt;

	return (uint8_t)(reg >> (8U * (port & 1U)));
}

/* False when the write puts the machine in S5. */
static bool pm1_write(uint16_t port, uint8_t v)
{
	unsigned shift = 8U * (port & 1U);
	uint16_t bits = (uint16_t)(v << shift);
	uint16_t keep = (uint16_t) ~(0xFFU << shift);

	if (port < MACHINE_PM1A_EVT + 2U) {
		m.pm1_sts &= (uint16_t)~bits;
		return true;
	}
	if (port < MACHINE_PM1A_CNT) {
		m.pm1_en = (uint16_t)((m.pm1_en & keep) | bits);
		return true;
	}
	/* SLP_EN is write-only; SCI_EN stays set (no legacy mode to go back to). */
	uint16_t cnt = (uint16_t)((m.pm1_cnt & keep) | bits);

	m.pm1_cnt = (uint16_t)((cnt & ~PM1_CNT_SLP_EN) | PM1_CNT_SCI_EN);
	return (cnt & PM1_CNT_SLP_EN) == 0U || ((cnt >> PM1_CNT_SLP_TYP_SHIFT) & 7U) != S5_SLP_TYP;
}

/* One byte of port I/O. Lock held. False when the machine powers off. */
static bool io_byte(struct native_cpu *c, uint16_t port, bool in, uint8_t *v, uint64_t tsc)
{
	if (port >= COM1 && port < COM1 + UART_PORT_COUNT) {
		if (m.writer == NULL) {
			m.writer = c;
		}
		if (in) {
			*v = uart_read(&m.uart, port - COM1);
		} else {
			uart_write(&m.uart, port - COM1, *v);
		}
		uart_irq_update();
		return true;
	}
	if (port >= MACHINE_PM1A_EVT && port < MACHINE_PM1A_CNT + 2U) {
		if (in) {
			*v = pm1_read(port);
			return true;
		}
		return pm1_write(port, *v);
	}
	if (in ? timers_io_read(&m.timers, port, tsc, v)
	       : timers_io_write(&m.timers, port, *v, tsc)) {
		return true;
	}
	if (in) {
		*v = 0xFF;
	}
	return true;
}

bool machine_io(struct native_cpu *c, uint16_t port, unsigned size, bool in, uint32_t *value)
{
	uint64_t tsc = rdtsc();
	bool on = true;

	spin_lock(&m.lock);
	if (port == MACHINE_PM_TMR && size == 4U) {
		/* The 24-bit PM timer, read whole. */
		if (in) {
			*value = pmtimer_read(&m.timers, tsc);
		}
		spin_unlock(&m.lock);
		return true;
	}
	for (unsigned i = 0; i < size && on; i++) {
		uint8_t b = (uint8_t)(*value >> (8U * i));

		on = io_byte(c, (uint16_t)(port + i), in, &b, tsc);
		if (in) {
			*value = (*value & ~(0xFFU << (8U * i))) | (uint32_t)b << (8U * i);
		}
	}
	spin_unlock(&m.lock);
	if (!on) {
		log_guest("vCPU %u: the guest powered the machine off (ACPI S5)", c->apic_id);
	}
	return on;
}

bool machine_mmio(struct native_cpu *c, uint64_t gpa, bool write, bool plain, bool *handled)
{
	struct insn_mmio op;
	const char *why = NULL;
	uint64_t off = gpa - MACHINE_IOAPIC_BASE;
	struct ioapic_msg msg;
	bool sent = false;

	*handled = gpa >= MACHINE_IOAPIC_BASE && gpa < MACHINE_IOAPIC_BASE + PAGE_SIZE;
	if (!*handled) {
		return true;
	}
	/* Only a data access by the instruction at RIP is emulated: not a fetch, a page-table
	 * walk or an event's delivery, and only if the instruction does what the fault says
	 * (another vCPU may have rewritten it since). */
	bool decoded = plain && insn_mmio(c, &op, &why);

	if (!plain) {
		why = "a fetch, a page-table walk or an event delivery";
	} else if (decoded && op.write != write) {
		decoded = false;
		why = "the instruction at RIP does not make that access";
	}
	if (!decoded) {
		log_guest("vCPU %u stopped: MMIO at GPA 0x%lx by the instruction at RIP 0x%lx: %s",
			  c->apic_id, gpa, load64(c->state, VMSA_RIP_OFF), why);
		return false;
	}
	/* The I/O APIC's registers take aligned 32-bit accesses; others read 0, write nothing. */
	bool dword = op.size == 4U && (off & 3U) == 0U;

	spin_lock(&m.lock);
	if (op.write) {
		uint64_t v = op.reg >= 0 ? insn_reg_read(c, (unsigned)op.reg) : op.imm;

		if (dword) {
			ioapic_write(&m.ioapic, (uint32_t)off, (uint32_t)v, &msg, &sent);
		}
		if (sent) {
			deliver_msg(&msg);
		}
	} else {
		uint64_t v = dword ? ioapic_read(&m.ioapic, (uint32_t)off) : 0U;

		insn_reg_load(c, (unsigned)op.reg, op.dst_size, v);
	}
	spin_unlock(&m.lock);
	store64(c->state, VMSA_RIP_OFF, load64(c->state, VMSA_RIP_OFF) + op.len);
	return true;
}

void machine_enter(struct native_cpu *c, uint8_t *vmcb)
{
	uint32_t ctl = load32(vmcb, VMCB_V_INTR) & ~(V_IRQ | V_INTR_PRIO_MASK | V_IGN_TPR);

	spin_lock(&m.lock);
	apic_poll_timer(&c->apic, rdtsc());
	int v = apic_pending_vector(&c->apic);
	uint64_t deadline = apic_next_deadline(&c->apic);
	/* An NMI goes in through the event injection, one at a time: the next waits for the
	 * guest's NMI_COMPLETE (an SEV-ES guest's IRET is invisible to its host). */
	bool nmi = !c->nmi_masked && apic_nmi_pending(&c->apic) && inject_nmi(vmcb);

	if (nmi) {
		(void)apic_take_nmi(&c->apic);
		c->nmi_masked = true;
	}
	/* Out of IRR while offered: the same vector sent again meanwhile stays pending. */
	if (v >= 0) {
		apic_offer(&c->apic, (uint8_t)v);
	}
	spin_unlock(&m.lock);
	c->virq = v;
	if (v >= 0) {
		/* Offered with V_IGN_TPR: the model's PPR already decided; the CPU delivers it
		 * when the guest's RFLAGS.IF is set and no interrupt shadow is on. */
		ctl |= V_IRQ | V_IGN_TPR | ((uint32_t)v >> 4) << V_INTR_PRIO_SHIFT;
		store32(vmcb, VMCB_V_INTR_VECTOR, (uint32_t)v);
	}
	store32(vmcb, VMCB_V_INTR, ctl);
	if (deadline != c->armed) {
		tick_arm(deadline);
		c->armed = deadline;
	}
}

void machine_leave(struct native_cpu *c, const uint8_t *vmcb)
{
	if (c->virq < 0) {
		return;
	}
	/* V_IRQ cleared: the guest took it (an exit during its delivery re-injects it). */
	bool taken = (load32(vmcb, VMCB_V_INTR) & V_IRQ) == 0U;

	spin_lock(&m.lock);
	apic_offer_end(&c->apic, (uint8_t)c->virq, taken);
	spin_unlock(&m.lock);
	c->virq = -1;
}

bool machine_halt(struct native_cpu *c)
{
	bool masked = (load64(c->state, VMSA_RFLAGS_OFF) & RFLAGS_IF) == 0U;

	/* With interrupts disabled only an NMI from another vCPU wakes it. */
	if (masked && m.vcpu_count == 1U) {
		log_guest("vCPU %u halted with interrupts disabled at RIP 0x%lx", c->apic_id,
			  load64(c->state, VMSA_RIP_OFF));
		return false;
	}
	for (;;) {
		spin_lock(&m.lock);
		apic_poll_timer(&c->apic, rdtsc());
		int v = masked ? -1 : apic_pending_vector(&c->apic);
		uint64_t deadline = masked ? UINT64_MAX : apic_next_deadline(&c->apic);
		bool nmi = !c->nmi_masked && apic_nmi_pending(&c->apic);

		spin_unlock(&m.lock);
		/* Deleted while halted (DELETE_VCPU): back to the run loop, which stops it; an
		 * AP_CREATION for the APIC ID's next vCPU wakes this CPU. */
		if (v >= 0 || nmi || cpusync_revoked(c->index)) {
			return true;
		}
		if (deadline == UINT64_MAX && m.vcpu_count == 1U) {
			log_guest("vCPU %u halted with no timer armed and nothing else to wake it",
				  c->apic_id);
			return false;
		}
		c->armed = MACHINE_UNARMED;
		uint64_t from = rdtsc();

		tick_wait(deadline);
		c->stats.halted += rdtsc() - from;
	}
}

void machine_tick(struct native_cpu *c)
{
	tick_take();
	c->armed = MACHINE_UNARMED;
}
