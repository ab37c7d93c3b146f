// SPDX-License-Identifier: GPL-2.0-only
/*
 * svsm_hostile: a guest kernel at VMPL2 that asks its SVSM to validate and rescind memory
 * that is not its own, the SVSM's among it, as a compromised or buggy guest might. Loaded by
 * the Linux-guest initramfs (tests/linux/init, check svsm_hostile) on Donjon.
 *
 * An unmodified kernel gives a module one way to make an SVSM call of its choosing: the
 * exported snp_issue_svsm_attest_req() puts the call number in RAX, copies the 88-byte
 * structure it is given into this CPU's calling area and passes that copy's address in RCX.
 * A PVALIDATE request (SVSM spec 58019, table 11: a u16 entry count, a u16 next index, four
 * reserved bytes, then 8-byte entries) fits in it with up to ten entries. The call's raw
 * result is call.rax_out; the next index the SVSM wrote back is read from the calling area
 * before anything else can use it (interrupts stay off from the copy to the read).
 *
 * Parameters: donjon_4k, a 4 KiB page of the SVSM's memory; donjon_2m, a 2 MiB-aligned range
 * inside it. For each case the module prints one line,
 *   svsm_hostile: CASE rax=0xRESULT next=N
 * and the initramfs compares them with what the spec requires. The module's own page (a
 * page the kernel allocated, validated since launch) is the control: the same request for
 * it succeeds.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/gfp.h>
#include <linux/irqflags.h>
#include <linux/string.h>
#include <asm/sev.h>

static unsigned long donjon_4k;
module_param(donjon_4k, ulong, 0444);
MODULE_PARM_DESC(donjon_4k, "guest-physical address of a 4 KiB page of the SVSM's memory");

static unsigned long donjon_2m;
module_param(donjon_2m, ulong, 0444);
MODULE_PARM_DESC(donjon_2m, "2 MiB-aligned guest-physical address inside the SVSM's memory");

/* A PVALIDATE entry: page size in bits 1:0 (0 4 KiB, 1 2 MiB), validate in bit 2, ignore
 * CF in bit 3, the frame number from bit 12. */
#define ENTRY_2M 1ULL
#define ENTRY_VALIDATE (1ULL << 2)
#define ENTRY_IGNORE_CF (1ULL << 3)
#define MAX_ENTRIES ((sizeof(struct svsm_attest_call) - 8) / 8)

static int failures;

/* One PVALIDATE call with the given entries; prints and checks its result and next. */
static void pvalidate_case(const char *name, const u64 *entries, u16 count, u64 want_rax,
			   u16 want_next)
{
	struct svsm_attest_call req;
	struct svsm_call call = {};
	unsigned long flags;
	u16 next = 0xffff;
	int ret;

	if (count == 0 || count > MAX_ENTRIES) {
		pr_err("svsm_hostile: %s: %u entries do not fit\n", name, count);
		failures++;
		return;
	}
	memset(&req, 0, sizeof(req));
	memcpy((u8 *)&req, &count, sizeof(count));
	memcpy((u8 *)&req + 8, entries, count * sizeof(*entries));

	local_irq_save(flags);
	ret = snp_issue_svsm_attest_req(SVSM_CORE_CALL(SVSM_CORE_PVALIDATE), &call, &req);
	if (call.caa)
		memcpy(&next, call.caa->svsm_buffer + 2, sizeof(next));
	local_irq_restore(flags);

	pr_info("svsm_hostile: %s rax=0x%llx next=%u\n", name, call.rax_out, next);
	if (call.rax_out != want_rax || next != want_next) {
		pr_err("svsm_hostile: %s: expected rax=0x%llx next=%u (errno %d)\n", name, want_rax,
		       want_next, ret);
		failures++;
	}
}

static int __init svsm_hostile_init(void)
{
	unsigned long page;
	u64 own, list[2];
	u8 *p;
	int i;

	if (!snp_vmpl) {
		pr_err("svsm_hostile: not an SEV-SNP guest under an SVSM\n");
		return -ENODEV;
	}
	if (!donjon_4k || (donjon_4k & 0xfff) || !donjon_2m || (donjon_2m & 0x1fffff)) {
		pr_err("svsm_hostile: donjon_4k and donjon_2m must be set and aligned\n");
		return -EINVAL;
	}
	page = __get_free_page(GFP_KERNEL);
	if (!page)
		return -ENOMEM;
	own = __pa(page) & ~0xfffULL;

	/* Controls: the guest's own page is validated already; with ignore CF that is
	 * success, without it the SVSM says nothing changed. */
	list[0] = own | ENTRY_VALIDATE | ENTRY_IGNORE_CF;
	pvalidate_case("own-validate-ignore-cf", list, 1, 0, 1);
	list[0] = own | ENTRY_VALIDATE;
	pvalidate_case("own-validate", list, 1, 0x80001010ULL, 0);

	/* The SVSM's memory: INVALID_ADDRESS, and the request stops at that entry. */
	list[0] = donjon_4k | ENTRY_VALIDATE;
	pvalidate_case("svsm-validate-4k", list, 1, 0x80000003ULL, 0);
	list[0] = donjon_4k;
	pvalidate_case("svsm-rescind-4k", list, 1, 0x80000003ULL, 0);
	list[0] = donjon_2m | ENTRY_2M | ENTRY_VALIDATE;
	pvalidate_case("svsm-validate-2m", list, 1, 0x80000003ULL, 0);
	list[0] = own | ENTRY_VALIDATE | ENTRY_IGNORE_CF;
	list[1] = donjon_4k | ENTRY_VALIDATE;
	pvalidate_case("own-then-svsm", list, 2, 0x80000003ULL, 1);

	/* The guest's own page is still its own: written and read back. */
	p = (u8 *)page;
	for (i = 0; i < PAGE_SIZE; i++)
		p[i] = (u8)(i * 7 + 1);
	for (i = 0; i < PAGE_SIZE; i++) {
		if (p[i] != (u8)(i * 7 + 1)) {
			pr_err("svsm_hostile: own page byte %d reads 0x%x\n", i, p[i]);
			failures++;
			break;
		}
	}
	free_page(page);
	pr_info("svsm_hostile: %d case(s) differ from the spec\n", failures);
	return 0;
}

static void __exit svsm_hostile_exit(void)
{
}

module_init(svsm_hostile_init);
module_exit(svsm_hostile_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Hostile PVALIDATE requests to the SVSM (Donjon's Linux-guest tests)");
