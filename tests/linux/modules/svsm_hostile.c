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
 * Attestation requests (SVSM_ATTEST_SERVICES) go the same way, with the request's buffers
 * where the module chooses: in the SVSM's memory, across its first byte, or overlapping each
 * other. vTPM commands go through snp_svsm_vtpm_send_command(), exported for tpm_svsm, which
 * passes a buffer's address in RCX and tells only success (0) or failure (-EINVAL): Donjon's
 * summary of the SVSM calls gives the host the exact error codes, and the module checks the
 * buffer afterwards (a refused request leaves it as it was).
 *
 * Parameters: donjon_4k, the first 4 KiB page of the SVSM's memory (the page below it is the
 * guest's); donjon_2m, a 2 MiB-aligned range inside it; vtpm, whether the SVSM has a vTPM
 * (the vTPM cases run only then). For each case the module prints one
 * line,
 *   svsm_hostile: CASE rax=0xRESULT next=N        (PVALIDATE)
 *   svsm_hostile: CASE rax=0xRESULT               (attestation)
 *   svsm_hostile: CASE ret=ERRNO                  (vTPM)
 * and the initramfs compares them with what the spec requires. The module's own pages (pages
 * the kernel allocated, validated since launch) are the controls: the same requests for them
 * succeed.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/gfp.h>
#include <linux/irqflags.h>
#include <linux/string.h>
#include <linux/tpm_svsm.h>
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

static bool vtpm;
module_param(vtpm, bool, 0444);
MODULE_PARM_DESC(vtpm, "the SVSM offers a vTPM: run the vTPM cases too");

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

/* One attestation request; prints and checks its result. */
static void attest_case(const char *name, u64 report, u32 report_len, u64 nonce, u64 manifest,
			u32 manifest_len, u64 want_rax)
{
	struct svsm_attest_call req;
	struct svsm_call call = {};

	memset(&req, 0, sizeof(req));
	req.report_buf.pa = report;
	req.report_buf.len = report_len;
	req.nonce.pa = nonce;
	req.nonce.len = 64;
	req.manifest_buf.pa = manifest;
	req.manifest_buf.len = manifest_len;
	snp_issue_svsm_attest_req(SVSM_ATTEST_CALL(SVSM_ATTEST_SERVICES), &call, &req);
	pr_info("svsm_hostile: %s rax=0x%llx\n", name, call.rax_out);
	if (call.rax_out != want_rax) {
		pr_err("svsm_hostile: %s: expected rax=0x%llx\n", name, want_rax);
		failures++;
	}
}

/* Fills len bytes at p with a pattern of seed; checks them (true when they still hold it). */
static void fill(u8 *p, size_t len, u8 seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (u8)(i * 13 + seed);
}

static bool unchanged(const u8 *p, size_t len, u8 seed)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (p[i] != (u8)(i * 13 + seed))
			return false;
	}
	return true;
}

/* The attestation cases: three pages of the module's own (report, manifest, nonce). */
static void attest_cases(u8 *pages)
{
	u64 report = __pa(pages), manifest = report + PAGE_SIZE, nonce = report + 2 * PAGE_SIZE;

	fill(pages, 3 * PAGE_SIZE, 3);
	/* The SVSM's memory as the report, the manifest or the nonce: INVALID_ADDRESS. */
	attest_case("attest-report-in-svsm", donjon_4k, PAGE_SIZE, nonce, manifest, PAGE_SIZE,
		    0x80000003ULL);
	attest_case("attest-manifest-in-svsm", report, PAGE_SIZE, nonce, donjon_2m, 2 * PAGE_SIZE,
		    0x80000003ULL);
	attest_case("attest-nonce-in-svsm", report, PAGE_SIZE, donjon_4k + 0x100, manifest,
		    PAGE_SIZE, 0x80000003ULL);
	/* A report buffer from the guest's last page below the SVSM into its first. */
	attest_case("attest-report-across-svsm", donjon_4k - PAGE_SIZE, 2 * PAGE_SIZE, nonce,
		    manifest, PAGE_SIZE, 0x80000003ULL);
	/* The report and the manifest in the same page: INVALID_PARAMETER. */
	attest_case("attest-buffers-overlap", report, PAGE_SIZE, nonce, report, PAGE_SIZE,
		    0x80000005ULL);
	if (!unchanged(pages, 3 * PAGE_SIZE, 3)) {
		pr_err("svsm_hostile: a refused attestation request wrote guest memory\n");
		failures++;
	}
	/* The control: the same request with the module's own pages. */
	attest_case("attest-own-pages", report, PAGE_SIZE, nonce, manifest, PAGE_SIZE, 0);
	if (memcmp(pages, "\x03\x00\x00\x00", 4) != 0) {
		pr_err("svsm_hostile: the report's version is not 3\n");
		failures++;
	}
}

/* One vTPM request of size bytes (header and command) at buf; the rest of its 4096 bytes
 * hold a pattern. Prints the result; checks it, and that a refused request changed none of
 * the 4096 bytes. */
static void vtpm_case(const char *name, u8 *buf, u32 cmd, u8 locality, u32 size, int want)
{
	struct svsm_vtpm_cmd_request *req = (struct svsm_vtpm_cmd_request *)buf;
	/* TPM2_GetRandom(8) */
	static const u8 get_random[] = { 0x80, 0x01, 0, 0, 0, 0x0c, 0, 0, 0x01, 0x7b, 0, 8 };
	/* Its answer's start: 20 response bytes; no sessions, size 20, success, 8 bytes. */
	static const u8 answer[] = { 0x14, 0, 0, 0, 0x80, 0x01, 0, 0, 0, 0x14, 0, 0, 0, 0, 0, 8 };
	u8 *copy;
	int ret;

	copy = kmalloc(SVSM_VTPM_MAX_BUFFER, GFP_KERNEL);
	if (!copy) {
		failures++;
		return;
	}
	fill(buf, SVSM_VTPM_MAX_BUFFER, 5);
	req->cmd = cmd;
	req->locality = locality;
	req->buf_size = size;
	memcpy(req->buf, get_random, sizeof(get_random));
	memcpy(copy, buf, SVSM_VTPM_MAX_BUFFER);
	ret = snp_svsm_vtpm_send_command(buf);
	pr_info("svsm_hostile: %s ret=%d\n", name, ret);
	if (ret != want) {
		pr_err("svsm_hostile: %s: expected ret=%d\n", name, want);
		failures++;
	} else if (ret != 0 && memcmp(copy, buf, SVSM_VTPM_MAX_BUFFER) != 0) {
		pr_err("svsm_hostile: %s: a refused request changed its buffer\n", name);
		failures++;
	} else if (ret == 0 && memcmp(buf, answer, sizeof(answer)) != 0) {
		pr_err("svsm_hostile: %s: the response is %*ph\n", name, 16, buf);
		failures++;
	}
	kfree(copy);
}

/* The vTPM cases, in the module's own pages (a buffer may start anywhere). */
static void vtpm_cases(u8 *pages)
{
	u8 *odd = pages + 100;
	int ret;

	/* A command larger than the buffer can hold (4096 less the 9-byte header):
	 * INVALID_PARAMETER; so is a locality other than 0; an unknown platform command:
	 * UNSUPPORTED_CALL. */
	vtpm_case("vtpm-oversized", odd, 8, 0, SVSM_VTPM_MAX_BUFFER - 9 + 1, -EINVAL);
	vtpm_case("vtpm-size-of-the-page", odd, 8, 0, SVSM_VTPM_MAX_BUFFER, -EINVAL);
	vtpm_case("vtpm-locality-1", odd, 8, 1, 12, -EINVAL);
	vtpm_case("vtpm-platform-command-9", odd, 9, 0, 12, -EINVAL);
	/* The control, at the same odd address: an answer. */
	vtpm_case("vtpm-own-buffer", odd, 8, 0, 12, 0);
	/* A buffer in the SVSM's memory (never touched here: the call takes its physical
	 * address; the SVSM's memory is not in Linux's direct map): INVALID_ADDRESS. */
	ret = snp_svsm_vtpm_send_command((u8 *)__va(donjon_4k));
	pr_info("svsm_hostile: vtpm-buffer-in-svsm ret=%d\n", ret);
	if (ret != -EINVAL)
		failures++;
}

static int __init svsm_hostile_init(void)
{
	unsigned long page, pages;
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

	pages = __get_free_pages(GFP_KERNEL, 2);
	if (!pages)
		return -ENOMEM;
	attest_cases((u8 *)pages);
	if (vtpm)
		vtpm_cases((u8 *)pages);
	free_pages(pages, 2);
	pr_info("svsm_hostile: %d case(s) differ from the spec\n", failures);
	return 0;
}

static void __exit svsm_hostile_exit(void)
{
}

module_init(svsm_hostile_init);
module_exit(svsm_hostile_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Hostile PVALIDATE, attestation and vTPM requests to the SVSM (Donjon's tests)");
