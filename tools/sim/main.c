/* donjon-sim: an SEV-SNP machine with Donjon at VMPL0, driven by a line protocol on
 * stdin/stdout (or a script with -s). Answers go to stdout, the log to stderr. The
 * protocol is documented in docs/sim-protocol.md. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <donjon/svsm_abi.h>

#include "igvm_file.h"
#include "igvm_policy.h"
#include "machine.h"
#include "migrate.h"
#include "service.h"
#include "tcti.h"

#define MAX_IO 65536U
/* writeq's values: one page, a whole PVALIDATE list of 510 entries with its header. */
#define WRITEQ_MAX 512U
/* The words a line may hold: writeq's, with its name and GPA. */
#define MAX_WORDS (WRITEQ_MAX + 2U)

static struct sim_machine *machine;
static bool quiet;

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

enum number { NUMBER_OK, NUMBER_BAD, NUMBER_TOO_BIG };

/* A number is hex with 0x or decimal, nothing else: strtoull would also take octal (010
 * as 8), blanks, a sign, "0x" without digits and stop at the first bad character. A
 * decimal with leading zeros is still decimal (010 is 10). */
static enum number parse_number(const char *s, uint64_t *out)
{
	unsigned base = 10;
	bool too_big = false;
	uint64_t v = 0;

	*out = 0;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (*s == '\0') {
		return NUMBER_BAD;
	}
	for (; *s != '\0'; s++) {
		int digit = base == 16U ? hex_nibble(*s) : (*s >= '0' && *s <= '9' ? *s - '0' : -1);

		if (digit < 0) {
			return NUMBER_BAD;
		}
		too_big = too_big || __builtin_mul_overflow(v, base, &v) ||
			  __builtin_add_overflow(v, (unsigned)digit, &v);
	}
	if (too_big) {
		return NUMBER_TOO_BIG;
	}
	*out = v;
	return NUMBER_OK;
}

/* Echoes a word of the input, quoted: at most EXCERPT_MAX bytes (then ...), every byte
 * that is not printable ASCII, and the backslash, as \xNN. A line can then neither flood
 * the answer nor send the terminal an escape sequence. */
#define EXCERPT_MAX 32U

static void print_excerpt(FILE *out, const char *s)
{
	size_t len = strlen(s);

	(void)fputc('\'', out);
	for (size_t i = 0; i < len && i < EXCERPT_MAX; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20U || c > 0x7eU || c == '\\') {
			(void)fprintf(out, "\\x%02x", c);
		} else {
			(void)fputc(c, out);
		}
	}
	(void)fputs(len > EXCERPT_MAX ? "'..." : "'", out);
}

/* Parses a number argument; on failure answers the command with ERR saying why. */
static bool parse_arg(const char *s, uint64_t *out)
{
	enum number n = parse_number(s, out);

	if (n == NUMBER_OK) {
		return true;
	}
	printf("ERR bad number ");
	print_excerpt(stdout, s);
	printf(n == NUMBER_TOO_BIG ? ": more than 64 bits\n" : ": hex with 0x, or decimal\n");
	return false;
}

static bool parse_size(const char *s, uint64_t *out)
{
	char buf[64];
	size_t len = strlen(s);
	unsigned shift = 0;

	if (len == 0 || len >= sizeof(buf)) {
		return false;
	}
	memcpy(buf, s, len + 1);
	switch (buf[len - 1]) {
	case 'K':
	case 'k':
		shift = 10;
		break;
	case 'M':
	case 'm':
		shift = 20;
		break;
	case 'G':
	case 'g':
		shift = 30;
		break;
	default:
		break;
	}
	if (shift != 0U) {
		buf[len - 1] = '\0';
	}
	if (parse_number(buf, out) != NUMBER_OK || *out > (UINT64_MAX >> shift)) {
		return false;
	}
	*out <<= shift;
	return true;
}

/* Parses a vCPU index; on failure answers the command with ERR. */
static bool parse_vcpu(const char *s, unsigned *out)
{
	uint64_t v = 0;

	if (!parse_arg(s, &v)) {
		return false;
	}
	if (v >= machine->vcpu_count) {
		printf("ERR no vCPU ");
		print_excerpt(stdout, s);
		printf(" (0 to %u)\n", machine->vcpu_count - 1U);
		return false;
	}
	*out = (unsigned)v;
	return true;
}

static size_t parse_hex_bytes(const char *s, uint8_t *out, size_t max)
{
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
	}
	size_t len = strlen(s);

	if (len == 0 || len % 2U != 0U || len / 2U > max) {
		return 0;
	}
	for (size_t i = 0; i < len / 2U; i++) {
		int hi = hex_nibble(s[2 * i]);
		int lo = hex_nibble(s[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			return 0;
		}
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return len / 2U;
}

/* The answer of a command that only succeeds or fails: OK, or ERR with the reason. */
static void answer(const char *err)
{
	if (err != NULL) {
		printf("ERR %s\n", err);
	} else {
		printf("OK\n");
	}
}

static void print_hex(const uint8_t *b, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		printf("%02x", b[i]);
	}
}

static const char *call_name(uint64_t rax)
{
	static const char *const core_names[] = {
		"REMAP_CA",    "PVALIDATE",    "CREATE_VCPU",	 "DELETE_VCPU",
		"DEPOSIT_MEM", "WITHDRAW_MEM", "QUERY_PROTOCOL", "CONFIGURE_VTOM",
	};

	static const char *const attest_names[] = { "ATTEST_SERVICES", "ATTEST_SINGLE_SERVICE" };

	if ((rax >> 32) == SVSM_PROTOCOL_CORE && (uint32_t)rax < 8U) {
		return core_names[(uint32_t)rax];
	}
	if ((rax >> 32) == SVSM_PROTOCOL_ATTEST && (uint32_t)rax < 2U) {
		return attest_names[(uint32_t)rax];
	}
	return "unknown";
}

static void cmd_info(int argc)
{
	if (argc != 1) {
		printf("ERR usage: info\n");
		return;
	}
	printf("OK mem_size=0x%llx svsm_base=0x%llx svsm_size=0x%llx vcpus=%u\n",
	       (unsigned long long)machine->mem_size, (unsigned long long)machine->svsm_base,
	       (unsigned long long)machine->svsm_size, machine->vcpu_count);
}

static void cmd_caa(int argc, char **argv)
{
	unsigned vcpu = 0;

	if (argc != 2) {
		printf("ERR usage: caa VCPU\n");
		return;
	}
	if (!parse_vcpu(argv[1], &vcpu)) {
		return;
	}
	printf("OK 0x%llx\n", (unsigned long long)gpa_val(svsm_vcpu_caa(vcpu)));
}

/* The guest touches its memory only while one of its vCPUs can run. */
static bool guest_stopped(void)
{
	return !sim_guest_running(machine);
}

static void cmd_write(int argc, char **argv)
{
	static uint8_t buf[MAX_IO];
	uint64_t gpa = 0;
	size_t len = 0;

	if (argc != 3 || (len = parse_hex_bytes(argv[2], buf, sizeof(buf))) == 0) {
		printf("ERR usage: write GPA HEXBYTES (at most %u bytes)\n", MAX_IO);
		return;
	}
	if (!parse_arg(argv[1], &gpa)) {
		return;
	}
	const char *fault =
		guest_stopped() ? "no vCPU runs the guest"
				: sim_guest_write(machine, SIM_GUEST_VMPL, gpa_init(gpa), buf, len);

	answer(fault);
}

static void cmd_read(int argc, char **argv)
{
	static uint8_t buf[MAX_IO];
	uint64_t gpa = 0;
	uint64_t len = 0;

	if (argc == 3 && (!parse_arg(argv[1], &gpa) || !parse_arg(argv[2], &len))) {
		return;
	}
	if (argc != 3 || len == 0 || len > MAX_IO) {
		printf("ERR usage: read GPA LEN (LEN 1 to %u)\n", MAX_IO);
		return;
	}
	const char *fault =
		guest_stopped() ? "no vCPU runs the guest"
				: sim_guest_read(machine, SIM_GUEST_VMPL, gpa_init(gpa), buf, len);

	if (fault != NULL) {
		printf("ERR %s\n", fault);
		return;
	}
	printf("OK ");
	print_hex(buf, len);
	printf("\n");
}

/* writeq GPA V...: 64-bit little-endian values, as the guest would store them. */
static void cmd_writeq(int argc, char **argv)
{
	static uint64_t vals[WRITEQ_MAX];
	uint64_t gpa = 0;
	int n = argc - 2;

	if (n < 1 || n > (int)WRITEQ_MAX) {
		printf("ERR usage: writeq GPA VALUE... (1 to %u values)\n", WRITEQ_MAX);
		return;
	}
	if (!parse_arg(argv[1], &gpa)) {
		return;
	}
	for (int i = 0; i < n; i++) {
		if (!parse_arg(argv[i + 2], &vals[i])) {
			return;
		}
	}
	const char *fault = guest_stopped()
				    ? "no vCPU runs the guest"
				    : sim_guest_write(machine, SIM_GUEST_VMPL, gpa_init(gpa), vals,
						      (size_t)n * sizeof(uint64_t));

	answer(fault);
}

static void cmd_readq(int argc, char **argv)
{
	uint64_t gpa = 0;
	uint64_t v = 0;

	if (argc != 2) {
		printf("ERR usage: readq GPA\n");
		return;
	}
	if (!parse_arg(argv[1], &gpa)) {
		return;
	}
	const char *fault = guest_stopped() ? "no vCPU runs the guest"
					    : sim_guest_read(machine, SIM_GUEST_VMPL, gpa_init(gpa),
							     &v, sizeof(v));

	if (fault != NULL) {
		printf("ERR %s\n", fault);
		return;
	}
	printf("OK 0x%llx\n", (unsigned long long)v);
}

static void cmd_call(int argc, char **argv)
{
	unsigned vcpu = 0;
	uint64_t v[5] = { 0 };
	enum sim_call_status status = SIM_CALL_DONE;

	if (argc != 7) {
		printf("ERR usage: call VCPU RAX RCX RDX R8 R9\n");
		return;
	}
	if (!parse_vcpu(argv[1], &vcpu)) {
		return;
	}
	for (int i = 0; i < 5; i++) {
		if (!parse_arg(argv[i + 2], &v[i])) {
			return;
		}
	}
	struct svsm_regs regs = { .rax = v[0], .rcx = v[1], .rdx = v[2], .r8 = v[3], .r9 = v[4] };
	const char *err = sim_vcpu_call(machine, vcpu, &regs, &status);

	if (err != NULL) {
		printf("ERR %s\n", err);
		return;
	}
	if (status == SIM_CALL_STOPPED) {
		if (!quiet) {
			(void)fprintf(stderr, "svsm: vcpu%u %s: the vCPU deleted its own VMSA\n",
				      vcpu, call_name(v[0]));
		}
		printf("OK stopped\n");
		return;
	}
	if (!quiet) {
		(void)fprintf(stderr, "svsm: vcpu%u %s(0x%llx, 0x%llx, 0x%llx) -> 0x%llx\n", vcpu,
			      call_name(v[0]), (unsigned long long)v[1], (unsigned long long)v[2],
			      (unsigned long long)v[3], (unsigned long long)regs.rax);
	}
	printf("OK 0x%llx 0x%llx 0x%llx 0x%llx 0x%llx\n", (unsigned long long)regs.rax,
	       (unsigned long long)regs.rcx, (unsigned long long)regs.rdx,
	       (unsigned long long)regs.r8, (unsigned long long)regs.r9);
}

static void cmd_rmp(int argc, char **argv)
{
	uint64_t gpa = 0;
	struct rmp_entry e;

	if (argc != 2) {
		printf("ERR usage: rmp GPA\n");
		return;
	}
	if (!parse_arg(argv[1], &gpa)) {
		return;
	}
	if (!sim_rmp_entry(machine, gpa_init(gpa), &e)) {
		printf("ERR outside guest memory\n");
		return;
	}
	printf("OK validated=%d size=%s vmsa=%d vmpl1=0x%x vmpl2=0x%x vmpl3=0x%x\n", e.validated,
	       e.size_2m ? "2m" : "4k", e.vmsa, e.perms[1], e.perms[2], e.perms[3]);
}

static bool parse_page_size(const char *s, enum page_size *out)
{
	if (strcmp(s, "4k") == 0) {
		*out = PAGE_4K;
		return true;
	}
	if (strcmp(s, "2m") == 0) {
		*out = PAGE_2M;
		return true;
	}
	return false;
}

static void cmd_psc(int argc, char **argv)
{
	static const char *const ops[] = { "private", "shared", "psmash" };
	static const enum psc_op op_values[] = { PSC_PRIVATE, PSC_SHARED, PSC_PSMASH };
	uint64_t gpa = 0;
	enum page_size size = PAGE_4K;
	int op = -1;

	for (int i = 0; argc == 4 && i < 3; i++) {
		if (strcmp(argv[2], ops[i]) == 0) {
			op = i;
		}
	}
	if (argc != 4 || op < 0 || !parse_page_size(argv[3], &size)) {
		printf("ERR usage: psc GPA private|shared|psmash 4k|2m\n");
		return;
	}
	if (!parse_arg(argv[1], &gpa)) {
		return;
	}
	const char *err = sim_host_psc(machine, gpa_init(gpa), size, op_values[op]);

	answer(err);
}

static void cmd_apcreate(int argc, char **argv)
{
	unsigned vcpu = 0;
	uint64_t vmsa = 0;

	if (argc != 3) {
		printf("ERR usage: apcreate VCPU VMSA\n");
		return;
	}
	if (!parse_vcpu(argv[1], &vcpu) || !parse_arg(argv[2], &vmsa)) {
		return;
	}
	const char *err = sim_host_ap_create(machine, vcpu, gpa_init(vmsa));

	answer(err);
}

static void cmd_measurement(int argc)
{
	if (argc != 1) {
		printf("ERR usage: measurement\n");
		return;
	}
	printf("OK ");
	print_hex(machine->psp.launch_digest, SNP_DIGEST_SIZE);
	printf("\n");
}

/* Opens path for writing; on failure answers the command with ERR saying why. */
static FILE *open_output(const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		int e = errno;

		printf("ERR cannot write ");
		print_excerpt(stdout, path);
		printf(": %s\n", strerror(e));
	}
	return f;
}

/* Closes f, which `ok` says was written whole; false (the command answered ERR) if not. */
static bool close_output(FILE *f, bool ok, const char *path)
{
	if (fclose(f) != 0 || !ok) {
		printf("ERR cannot write ");
		print_excerpt(stdout, path);
		printf("\n");
		return false;
	}
	return true;
}

static bool write_file(const char *path, const void *data, size_t len)
{
	FILE *f = open_output(path);

	return f != NULL && close_output(f, fwrite(data, 1, len, f) == len, path);
}

static void cmd_chipkey(int argc, char **argv)
{
	if (argc != 2) {
		printf("ERR usage: chipkey FILE\n");
		return;
	}
	FILE *f = open_output(argv[1]);

	if (f != NULL && close_output(f, sim_export_chip_key(machine, f), argv[1])) {
		printf("OK\n");
	}
}

/* attest VCPU BUF HEXNONCE REPORTFILE MANIFESTFILE: the guest's SVSM_ATTEST_SERVICES as
 * Linux's sev_svsm_report_new makes it. BUF is 7 pages the guest validated: the report
 * buffer (4K), the manifest buffer (4K), the certificate buffer (16K), then the page the
 * 64-byte nonce is written to. The operation structure goes to the vCPU's CAA+8; RDX and
 * R8 are -1. The report and manifest bytes the answer's sizes name go to the files. */
#define ATTEST_REPORT_BUF 0x1000U
#define ATTEST_MANIFEST_BUF 0x1000U
#define ATTEST_CERT_BUF 0x4000U
#define ATTEST_BUF_SIZE (ATTEST_REPORT_BUF + ATTEST_MANIFEST_BUF + ATTEST_CERT_BUF + 0x1000U)

static void cmd_attest(int argc, char **argv)
{
	static uint8_t out[ATTEST_REPORT_BUF];
	uint8_t nonce[SVSM_ATTEST_NONCE_SIZE];
	unsigned vcpu = 0;
	uint64_t buf = 0;

	if (argc != 6 || parse_hex_bytes(argv[3], nonce, sizeof(nonce)) != sizeof(nonce)) {
		printf("ERR usage: attest VCPU BUF HEXNONCE(64 bytes) REPORTFILE MANIFESTFILE\n");
		return;
	}
	if (!parse_vcpu(argv[1], &vcpu) || !parse_arg(argv[2], &buf)) {
		return;
	}
	if ((buf & (PAGE_SIZE - 1U)) != 0U || buf > UINT64_MAX - ATTEST_BUF_SIZE) {
		printf("ERR BUF must be a page-aligned gPA of 7 pages\n");
		return;
	}
	struct svsm_attest_single_op op = {
		.services = {
			.report_gpa = buf,
			.report_size = ATTEST_REPORT_BUF,
			.nonce_gpa = buf + ATTEST_BUF_SIZE - 0x1000U,
			.nonce_size = sizeof(nonce),
			.manifest_gpa = buf + ATTEST_REPORT_BUF,
			.manifest_size = ATTEST_MANIFEST_BUF,
			.cert_gpa = buf + ATTEST_REPORT_BUF + ATTEST_MANIFEST_BUF,
			.cert_size = ATTEST_CERT_BUF,
		},
	};
	uint64_t at = gpa_val(machine->vcpus[vcpu].caa) + 8U;
	const char *fault = sim_guest_write(machine, SIM_GUEST_VMPL,
					    gpa_init(op.services.nonce_gpa), nonce, sizeof(nonce));

	if (fault == NULL) {
		fault = sim_guest_write(machine, SIM_GUEST_VMPL, gpa_init(at), &op, sizeof(op));
	}
	if (fault != NULL) {
		printf("ERR %s\n", fault);
		return;
	}
	uint64_t rax = ((uint64_t)SVSM_PROTOCOL_ATTEST << 32) | SVSM_ATTEST_SERVICES;
	struct svsm_regs regs = { .rax = rax, .rcx = at, .rdx = ~0ULL, .r8 = ~0ULL };
	enum sim_call_status status = SIM_CALL_DONE;
	const char *err = sim_vcpu_call(machine, vcpu, &regs, &status);

	if (err != NULL || status != SIM_CALL_DONE) {
		printf("ERR %s\n", err != NULL ? err : "the vCPU deleted its own VMSA");
		return;
	}
	if (!quiet) {
		(void)fprintf(stderr, "svsm: vcpu%u ATTEST_SERVICES(0x%llx) -> 0x%llx\n", vcpu,
			      (unsigned long long)at, (unsigned long long)regs.rax);
	}
	if (regs.rax != SVSM_SUCCESS) {
		printf("ERR SVSM_ATTEST_SERVICES answered 0x%llx (RCX 0x%llx RDX 0x%llx R8 "
		       "0x%llx)\n",
		       (unsigned long long)regs.rax, (unsigned long long)regs.rcx,
		       (unsigned long long)regs.rdx, (unsigned long long)regs.r8);
		return;
	}
	if (regs.r8 > ATTEST_REPORT_BUF || regs.rcx > ATTEST_MANIFEST_BUF) {
		printf("ERR sizes larger than the buffers: report 0x%llx, manifest 0x%llx\n",
		       (unsigned long long)regs.r8, (unsigned long long)regs.rcx);
		return;
	}
	fault = sim_guest_read(machine, SIM_GUEST_VMPL, gpa_init(buf), out, (size_t)regs.r8);
	if (fault != NULL) {
		printf("ERR %s\n", fault);
		return;
	}
	if (!write_file(argv[4], out, (size_t)regs.r8)) {
		return;
	}
	fault = sim_guest_read(machine, SIM_GUEST_VMPL, gpa_init(op.services.manifest_gpa), out,
			       (size_t)regs.rcx);
	if (fault != NULL) {
		printf("ERR %s\n", fault);
		return;
	}
	if (write_file(argv[5], out, (size_t)regs.rcx)) {
		printf("OK report=0x%llx manifest=0x%llx certificates=0x%llx\n",
		       (unsigned long long)regs.r8, (unsigned long long)regs.rcx,
		       (unsigned long long)regs.rdx);
	}
}

/* report HEXNONCE: Donjon's own attestation report (VMPL0, through an SNP guest message)
 * with the nonce as REPORT_DATA (up to 64 bytes, zero-padded); one field per line. */
static void cmd_report(int argc, char **argv)
{
	uint8_t nonce[64] = { 0 };
	uint8_t r[SNP_REPORT_SIZE];
	uint32_t status = 0;

	if (argc != 2 || parse_hex_bytes(argv[1], nonce, sizeof(nonce)) == 0) {
		printf("ERR usage: report HEXNONCE (1 to 64 bytes)\n");
		return;
	}
	switch (svsm_attest_report(nonce, r, &status)) {
	case SVSM_REPORT_OK:
		break;
	case SVSM_REPORT_NO_KEY:
		printf("ERR no VMPCK0 in the secrets page\n");
		return;
	case SVSM_REPORT_FIRMWARE:
		printf("ERR the PSP refused the request: status 0x%x\n", status);
		return;
	default:
		printf("ERR the response is not the PSP's answer to this request\n");
		return;
	}
	static const struct {
		const char *name;
		unsigned off, len;
	} fields[] = {
		{ "version", SNP_REPORT_VERSION_OFF, 4 },
		{ "guest_svn", SNP_REPORT_GUEST_SVN_OFF, 4 },
		{ "policy", SNP_REPORT_POLICY_OFF, 8 },
		{ "family_id", SNP_REPORT_FAMILY_ID_OFF, 16 },
		{ "image_id", SNP_REPORT_IMAGE_ID_OFF, 16 },
		{ "vmpl", SNP_REPORT_VMPL_OFF, 4 },
		{ "signature_algo", SNP_REPORT_SIG_ALGO_OFF, 4 },
		{ "signer_info", SNP_REPORT_SIGNER_INFO_OFF, 4 },
		{ "report_data", SNP_REPORT_DATA_OFF, 64 },
		{ "measurement", SNP_REPORT_MEASUREMENT_OFF, SNP_DIGEST_SIZE },
		{ "host_data", SNP_REPORT_HOST_DATA_OFF, 32 },
		{ "id_key_digest", SNP_REPORT_ID_KEY_DIGEST_OFF, SNP_DIGEST_SIZE },
		{ "author_key_digest", SNP_REPORT_AUTHOR_KEY_DIGEST_OFF, SNP_DIGEST_SIZE },
		{ "report_id", SNP_REPORT_ID_OFF, 32 },
		{ "chip_id", SNP_REPORT_CHIP_ID_OFF, 64 },
		{ "signature_r", SNP_REPORT_SIG_R_OFF, SNP_REPORT_SIG_COMPONENT },
		{ "signature_s", SNP_REPORT_SIG_S_OFF, SNP_REPORT_SIG_COMPONENT },
	};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		printf("%s=", fields[i].name);
		if (fields[i].len <= 8U) {
			uint64_t v = 0;

			memcpy(&v, r + fields[i].off, fields[i].len);
			printf("0x%llx\n", (unsigned long long)v);
		} else {
			print_hex(r + fields[i].off, fields[i].len);
			printf("\n");
		}
	}
	printf("OK\n");
}

/* service: the vTPM service's state. */
static void cmd_service(int argc)
{
	int pid = 0;
	const char *state = sim_service_state(SVSM_SERVICE_VTPM, &pid);

	if (argc != 1) {
		printf("ERR usage: service\n");
	} else if (state == NULL) {
		printf("OK vtpm none\n");
	} else if (state[0] == '\0') {
		printf("OK vtpm running pid %d\n", pid);
	} else {
		printf("OK vtpm stopped: %s\n", state);
	}
}

/* tcti PORT GPA [VCPU]: tpm2-tools' mssim endpoint, the guest's calls on VCPU (default 0)
 * through its page at GPA. */
static void cmd_tcti(int argc, char **argv)
{
	uint64_t port = 0;
	uint64_t gpa = 0;
	unsigned vcpu = 0;
	uint16_t bound = 0;
	const char *err = NULL;

	if (argc < 3 || argc > 4 || parse_number(argv[1], &port) != NUMBER_OK ||
	    port > UINT16_MAX || (argc == 4 && !parse_vcpu(argv[3], &vcpu))) {
		printf("ERR usage: tcti PORT GPA [VCPU]\n");
		return;
	}
	if (!parse_arg(argv[2], &gpa)) {
		return;
	}
	if (!plat_service_running(SVSM_SERVICE_VTPM)) {
		printf("ERR no vTPM service is running (--vtpm PATH)\n");
		return;
	}
	err = sim_tcti_start(machine, (uint16_t)port, gpa_init(gpa), vcpu, &bound);
	if (err != NULL) {
		printf("ERR %s\n", err);
		return;
	}
	printf("OK listening on 127.0.0.1 ports %u and %u\n", bound, bound + 1U);
}

/* Splits line into words, up to a word starting with '#': a comment to the end of the line.
 * At most max + 1 words are kept, so a command told more than max knows it got too many
 * and every argv[i] below the count is a word. */
static int split_words(char *line, char **argv, unsigned max)
{
	unsigned n = 0;
	char *save = NULL;

	for (char *tok = strtok_r(line, " \t\r\n", &save); tok != NULL && tok[0] != '#' && n <= max;
	     tok = strtok_r(NULL, " \t\r\n", &save)) {
		argv[n++] = tok;
	}
	return (int)n;
}

/* One command line of len bytes; false for quit. */
static bool run_line(char *line, size_t len)
{
	char *argv[MAX_WORDS + 1];

	/* The C string would end at the NUL: the command would not be the line. */
	if (memchr(line, '\0', len) != NULL) {
		printf("ERR NUL byte in the line\n");
		return true;
	}
	int argc = split_words(line, argv, MAX_WORDS);

	if (argc == 0) {
		return true;
	}
	const char *cmd = argv[0];

	if (strcmp(cmd, "quit") == 0) {
		return false;
	} else if (strcmp(cmd, "info") == 0) {
		cmd_info(argc);
	} else if (strcmp(cmd, "caa") == 0) {
		cmd_caa(argc, argv);
	} else if (strcmp(cmd, "write") == 0) {
		cmd_write(argc, argv);
	} else if (strcmp(cmd, "read") == 0) {
		cmd_read(argc, argv);
	} else if (strcmp(cmd, "writeq") == 0) {
		cmd_writeq(argc, argv);
	} else if (strcmp(cmd, "readq") == 0) {
		cmd_readq(argc, argv);
	} else if (strcmp(cmd, "call") == 0) {
		cmd_call(argc, argv);
	} else if (strcmp(cmd, "rmp") == 0) {
		cmd_rmp(argc, argv);
	} else if (strcmp(cmd, "psc") == 0) {
		cmd_psc(argc, argv);
	} else if (strcmp(cmd, "apcreate") == 0) {
		cmd_apcreate(argc, argv);
	} else if (strcmp(cmd, "measurement") == 0) {
		cmd_measurement(argc);
	} else if (strcmp(cmd, "chipkey") == 0) {
		cmd_chipkey(argc, argv);
	} else if (strcmp(cmd, "report") == 0) {
		cmd_report(argc, argv);
	} else if (strcmp(cmd, "attest") == 0) {
		cmd_attest(argc, argv);
	} else if (strcmp(cmd, "migrate") == 0) {
		cmd_migrate(machine, argc, argv);
	} else if (strcmp(cmd, "migcancel") == 0) {
		cmd_migcancel(machine, argc);
	} else if (strcmp(cmd, "statehash") == 0) {
		cmd_statehash(machine, argc);
	} else if (strcmp(cmd, "service") == 0) {
		cmd_service(argc);
	} else if (strcmp(cmd, "tcti") == 0) {
		cmd_tcti(argc, argv);
	} else if (strcmp(cmd, "hidefaults") == 0 && argc == 1) {
		machine->host_hides_faults = true;
		printf("OK\n");
	} else {
		printf("ERR unknown command ");
		print_excerpt(stdout, cmd);
		printf(" (info, caa, write, read, writeq, readq, call, rmp, psc, apcreate, "
		       "measurement, chipkey, report, attest, migrate, migcancel, statehash, "
		       "service, tcti, hidefaults, quit)\n");
	}
	return true;
}

static void usage(FILE *out)
{
	(void)fprintf(
		out,
		"usage: donjon-sim [--mem SIZE] [--mem-prealloc] [--vcpus N] [--migrate-key HEX]\n"
		"                  [--incoming PATH]\n"
		"                  [--migrate-policy LIST] [--migrate-mode M] [--vtpm PATH]\n"
		"                  [--vtpm-state DIR] [--service-budget MS] [-s FILE] [-q]\n"
		"                  [FILE.igvm]\n"
		"  FILE.igvm    launch from this IGVM file as QEMU and KVM would (without it:\n"
		"               the built-in layout, Donjon's range measured as zero pages)\n"
		"  --mem SIZE   guest memory in bytes, K/M/G suffix allowed (default 256M)\n"
		"  --mem-prealloc  allocate all guest memory at start, as QEMU's -mem-prealloc\n"
		"  --vcpus N    vCPUs, 1 to %u (default 1)\n"
		"  --migrate-key HEX  a 32-byte pre-shared migration key (test key, stage 1)\n"
		"  --migrate-policy LIST  the guest's migration policy, measured at launch (not\n"
		"               with FILE.igvm, which carries its own): none (default), out, in,\n"
		"               test-key, same-measurement, measurement=HEX96, min-tcb=HEX\n"
		"  --migrate-mode M   how the host keys a session: auto (default: the test key\n"
		"               when the launch has one and its policy allows it), test-key,\n"
		"               or attested (ECDH bound to both SVSMs' reports)\n"
		"  --incoming PATH    first be a migration's destination: listen on the Unix\n"
		"               socket PATH and take one migration, then read commands\n"
		"  --vtpm PATH  run the vTPM service PATH (build/services/vtpm) as a child\n"
		"               process: the guest gets the vTPM protocol and a manifest entry\n"
		"  --vtpm-state DIR   the vTPM's state directory (default: a new temporary one)\n"
		"  --service-budget MS  stop a service that takes longer over one request\n"
		"               (default %u)\n"
		"  -s FILE      read commands from FILE instead of stdin\n"
		"  -q           no log on stderr\n"
		"Commands: see docs/sim-protocol.md\n",
		SVSM_MAX_VCPUS, SIM_SERVICE_BUDGET_MS);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mem", required_argument, NULL, 'm' },
		{ "vcpus", required_argument, NULL, 'v' },
		{ "migrate-key", required_argument, NULL, 'k' },
		{ "incoming", required_argument, NULL, 'i' },
		{ "migrate-policy", required_argument, NULL, 'p' },
		{ "migrate-mode", required_argument, NULL, 'o' },
		{ "vtpm", required_argument, NULL, 't' },
		{ "vtpm-state", required_argument, NULL, 'd' },
		{ "service-budget", required_argument, NULL, 'b' },
		{ "mem-prealloc", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t mem = SIM_MEM_DEFAULT;
	uint64_t vcpus = 1;
	const char *script = NULL;
	const char *incoming = NULL;
	bool policy_given = false;
	const char *vtpm = NULL;
	const char *vtpm_state = NULL;
	uint64_t budget = SIM_SERVICE_BUDGET_MS;
	uint8_t key[32];
	char err[256];
	int c = 0;

	while ((c = getopt_long(argc, argv, "s:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (!parse_size(optarg, &mem)) {
				(void)fputs("donjon-sim: bad --mem ", stderr);
				print_excerpt(stderr, optarg);
				(void)fputs("\n", stderr);
				return 2;
			}
			break;
		case 'v':
			/* One answer for every refusal: zero, too many, not a number. */
			if (parse_number(optarg, &vcpus) != NUMBER_OK || vcpus == 0U ||
			    vcpus > SVSM_MAX_VCPUS) {
				(void)fputs("donjon-sim: bad --vcpus ", stderr);
				print_excerpt(stderr, optarg);
				(void)fprintf(stderr, ": want 1 to %u\n", SVSM_MAX_VCPUS);
				return 2;
			}
			break;
		case 'k':
			if (strlen(optarg) != 64U ||
			    parse_hex_bytes(optarg, key, sizeof(key)) != 32U) {
				(void)fputs("donjon-sim: --migrate-key wants 64 hex digits\n",
					    stderr);
				return 2;
			}
			sim_set_migrate_key(key);
			break;
		case 'i':
			incoming = optarg;
			break;
		case 'o':
			if (strcmp(optarg, "auto") == 0) {
				sim_migrate_set_mode(SIM_MIGRATE_AUTO);
			} else if (strcmp(optarg, "test-key") == 0) {
				sim_migrate_set_mode(SIM_MIGRATE_TEST_KEY);
			} else if (strcmp(optarg, "attested") == 0) {
				sim_migrate_set_mode(SIM_MIGRATE_ATTESTED);
			} else {
				(void)fputs("donjon-sim: --migrate-mode wants auto, test-key or "
					    "attested\n",
					    stderr);
				return 2;
			}
			break;
		case 'p': {
			struct launch_migrate_policy policy;

			if (!igvm_migrate_policy_parse(optarg, &policy, err, sizeof(err))) {
				(void)fprintf(stderr, "donjon-sim: %s\n", err);
				return 2;
			}
			sim_set_migrate_policy(&policy);
			policy_given = true;
			break;
		}
		case 'P':
			sim_set_mem_prealloc(true);
			break;
		case 't':
			vtpm = optarg;
			break;
		case 'd':
			vtpm_state = optarg;
			break;
		case 'b':
			if (parse_number(optarg, &budget) != NUMBER_OK || budget == 0U ||
			    budget > 3600000U) {
				(void)fputs("donjon-sim: --service-budget wants 1 to 3600000 ms\n",
					    stderr);
				return 2;
			}
			break;
		case 's':
			script = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind + 1 < argc) {
		usage(stderr);
		return 2;
	}
	if (optind < argc && policy_given) {
		(void)fputs("donjon-sim: --migrate-policy is for the built-in launch; an IGVM file "
			    "carries its own (donjon-igvm build --migrate-policy)\n",
			    stderr);
		return 2;
	}
	if (vtpm_state != NULL && vtpm == NULL) {
		(void)fputs("donjon-sim: --vtpm-state needs --vtpm\n", stderr);
		return 2;
	}
	sim_service_set_budget((unsigned)budget);
	/* Before the launch: Donjon's core finds its services running when it starts. */
	if (vtpm != NULL &&
	    !sim_service_start(SVSM_SERVICE_VTPM, vtpm, vtpm_state, err, sizeof(err))) {
		(void)fprintf(stderr, "donjon-sim: --vtpm: %s\n", err);
		return 2;
	}
	if (optind < argc) {
		size_t len = 0;
		uint8_t *igvm = igvm_read_file(argv[optind], &len);

		if (igvm == NULL) {
			(void)fprintf(stderr, "donjon-sim: cannot read %s: %s\n", argv[optind],
				      strerror(errno));
			sim_service_end_all();
			return 2;
		}
		machine = sim_create_igvm(mem, (unsigned)vcpus, igvm, len, err, sizeof(err));
		free(igvm);
	} else {
		machine = sim_create(mem, (unsigned)vcpus, err, sizeof(err));
	}
	if (machine == NULL) {
		(void)fprintf(stderr, "donjon-sim: %s\n", err);
		sim_service_end_all();
		return 2;
	}
	FILE *script_file = NULL;

	if (script != NULL) {
		script_file = fopen(script, "r");
		if (script_file == NULL) {
			(void)fprintf(stderr, "donjon-sim: cannot open %s: %s\n", script,
				      strerror(errno));
			sim_destroy(machine);
			sim_service_end_all();
			return 2;
		}
	}
	if (!quiet) {
		(void)fprintf(stderr,
			      "sim: %u vCPU(s), 0x%llx bytes; Donjon at VMPL0 [0x%llx, +0x%llx)\n",
			      machine->vcpu_count, (unsigned long long)machine->mem_size,
			      (unsigned long long)machine->svsm_base,
			      (unsigned long long)machine->svsm_size);
	}
	(void)setvbuf(stdout, NULL, _IOLBF, 0);
	if (incoming != NULL) {
		sim_migrate_incoming(machine, incoming);
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t len = 0;

	while ((len = getline(&line, &cap, script_file != NULL ? script_file : stdin)) != -1) {
		sim_host_lock();
		bool more = run_line(line, (size_t)len);

		sim_host_unlock();
		if (!more) {
			break;
		}
	}
	free(line);
	if (script_file != NULL) {
		(void)fclose(script_file);
	}
	sim_tcti_stop();
	sim_destroy(machine);
	sim_service_end_all();
	return 0;
}
