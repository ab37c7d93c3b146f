/* donjon-igvm: Donjon's IGVM tool.
 *   build     pack the kernel, its launch pages and a guest into one IGVM file
 *   measure   the SEV-SNP launch digest QEMU and KVM would produce for a file
 *   dump      list every header and check the file as QEMU's loader would
 * Every problem in a file is reported with the offset of its record. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include <donjon/svsm.h>
#include <donjon/vmsa.h>

#include "igvm_build.h"
#include "igvm_file.h"
#include "igvm_measure.h"
#include "igvm_policy.h"

/* Read and parse path: 0, or the exit code after saying why not (2: cannot read,
 * 1: not a valid file). *buf is then freed. */
static int load(const char *path, uint8_t **buf, struct igvm_file *f)
{
	size_t len = 0;
	struct igvm_error err;

	*buf = igvm_read_file(path, &len);
	if (*buf == NULL) {
		(void)fprintf(stderr, "donjon-igvm: cannot read %s: %s\n", path, strerror(errno));
		return 2;
	}
	if (!igvm_parse(*buf, len, f, &err)) {
		printf("ERROR at offset 0x%x: %s\n", err.offset, err.message);
		free(*buf);
		return 1;
	}
	return 0;
}

static void print_record(const struct igvm_record *r)
{
	uint64_t gpa = 0;
	uint32_t a = 0, b = 0;

	printf("0x%06x %-26s", r->offset, igvm_type_name(r->type));
	switch (r->type) {
	case IGVM_VHT_SUPPORTED_PLATFORM: {
		struct igvm_supported_platform p;

		memcpy(&p, r->body, sizeof(p));
		printf(" mask=0x%x type=%u vtl=%u version=%u\n", p.compatibility_mask,
		       p.platform_type, p.highest_vtl, p.platform_version);
		return;
	}
	case IGVM_VHT_PAGE_DATA: {
		struct igvm_page_data d;

		memcpy(&d, r->body, sizeof(d));
		printf(" gpa=0x%llx mask=0x%x data=0x%x flags=0x%x type=%u\n",
		       (unsigned long long)d.gpa, d.compatibility_mask, d.file_offset, d.flags,
		       d.data_type);
		return;
	}
	case IGVM_VHT_VP_CONTEXT: {
		struct igvm_vp_context v;

		memcpy(&v, r->body, sizeof(v));
		printf(" gpa=0x%llx mask=0x%x data=0x%x vp=%u\n", (unsigned long long)v.gpa,
		       v.compatibility_mask, v.file_offset, v.vp_index);
		return;
	}
	default:
		memcpy(&gpa, r->body, r->length >= 8U ? 8U : r->length);
		if (r->length >= 16U) {
			memcpy(&a, r->body + 8, 4);
			memcpy(&b, r->body + 12, 4);
		}
		printf(" 0x%llx 0x%x 0x%x\n", (unsigned long long)gpa, a, b);
		return;
	}
}

static bool snp_ok(void *ctx, const struct igvm_launch_page *p, struct igvm_error *err)
{
	(void)ctx;
	(void)p;
	(void)err;
	return true;
}

/* The walk QEMU's loader makes for each platform the file declares. */
static int platform_checks(const struct igvm_file *f)
{
	struct igvm_error err;
	struct igvm_launch launch;
	struct igvm_host host = { .vcpus = 1,
				  .mem_size = 1ULL << 30,
				  .vcpu_sig = IGVM_VCPU_SIG_EPYC_V4 };
	int rc = 0;

	for (size_t i = 0; i < f->count; i++) {
		const struct igvm_record *r = &f->records[i];

		if (r->type != IGVM_VHT_SUPPORTED_PLATFORM) {
			continue;
		}
		uint8_t type = r->body[5];
		bool ok = type == IGVM_PLATFORM_SEV_SNP
				  ? igvm_snp_launch(f, &host, snp_ok, NULL, &launch, &err)
			  : type == IGVM_PLATFORM_NATIVE ? igvm_native_check(f, &err)
							 : true;

		if (!ok) {
			printf("ERROR at offset 0x%x: %s platform: %s\n", err.offset,
			       type == IGVM_PLATFORM_SEV_SNP ? "sev-snp" : "native", err.message);
			rc = 1;
		}
	}
	return rc;
}

static int dump(const char *path)
{
	uint8_t *buf = NULL;
	struct igvm_file f;
	int rc = load(path, &buf, &f);

	if (rc != 0) {
		return rc;
	}
	printf("IGVM version %u, %zu bytes, variable headers [0x%x, +0x%x), file data from 0x%x\n",
	       f.header.format_version, f.len, f.header.variable_header_offset,
	       f.header.variable_header_size, f.data_start);
	for (size_t i = 0; i < f.count; i++) {
		print_record(&f.records[i]);
	}
	rc = platform_checks(&f);
	if (rc == 0) {
		printf("OK: %zu records\n", f.count);
	}
	igvm_free(&f);
	free(buf);
	return rc;
}

/* ---- options ---- */

static bool parse_u64(const char *s, int base, uint64_t max, uint64_t *out)
{
	char *end = NULL;

	errno = 0;
	*out = strtoull(s, &end, base);
	return s[0] != '\0' && s[0] != '-' && *end == '\0' && errno == 0 && *out <= max;
}

static bool parse_hex_bytes(const char *s, uint8_t *out, size_t n)
{
	memset(out, 0, n);
	if (strlen(s) != 2U * n) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned v = 0;

		if (sscanf(s + 2U * i, "%2x", &v) != 1) {
			return false;
		}
		out[i] = (uint8_t)v;
	}
	return true;
}

static EVP_PKEY *read_key(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *key = f != NULL ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;

	if (f != NULL) {
		(void)fclose(f);
	}
	if (key == NULL) {
		(void)fprintf(stderr, "donjon-igvm: cannot read a private key from %s\n", path);
	}
	return key;
}

static int usage(void)
{
	(void)fprintf(
		stderr,
		"usage: donjon-igvm build --kernel ELF --guest IMAGE -o FILE [options]\n"
		"       donjon-igvm measure [--vcpus N] [--sev-features HEX] [--vcpu-sig HEX] "
		"[--verbose] FILE\n"
		"       donjon-igvm dump FILE\n"
		"build options:\n"
		"  --platform P        snp, native or both (default both: one file, "
		"compatibility masks 1 and 2)\n"
		"  --policy HEX        SNP guest policy (default 0x30000)\n"
		"  --sev-features HEX  SEV features of the SVSM's VMSA (default 0x1, SNPActive)\n"
		"  --id-key PEM        add an SNP ID block signed with this P-384 key\n"
		"  --author-key PEM    and sign the ID key with this P-384 author key\n"
		"  --id-vcpus N        the vCPU count the ID block's digest is for (default 1)\n"
		"  --family-id HEX32 --image-id HEX32 --guest-svn N   ID block fields\n"
		"  --migrate-policy LIST  the guest's migration policy in the launch info: none\n"
		"                      (default), out, in, test-key, same-measurement,\n"
		"                      measurement=HEX96 (up to 4), min-tcb=HEX\n"
		"measure options:\n"
		"  --vcpus N           vCPUs the host launches (QEMU -smp; default 1)\n"
		"  --sev-features HEX  the SEV features KVM applies (default: the file's VMSA)\n"
		"  --vcpu-sig HEX      CPUID(1).EAX of the vCPU model, in the APs' RDX "
		"(default 0x800f12, EPYC-v4)\n"
		"  --verbose           one line per measured page: gpa, type, content hash\n"
		"The digest is the last line of measure's output.\n");
	return 2;
}

static int build(int argc, char **argv)
{
	struct build_opts o = { .snp = true,
				.native = true,
				.policy = IGVM_DEFAULT_POLICY,
				.sev_features = SEV_FEATURE_SNP_ACTIVE,
				.id_vcpus = 1,
				.vcpu_sig = IGVM_VCPU_SIG_EPYC_V4 };
	const char *out = NULL;
	uint64_t v = 0;
	bool ok = true;

	for (int i = 2; i < argc && ok; i += 2) {
		const char *opt = argv[i], *arg = i + 1 < argc ? argv[i + 1] : NULL;

		if (arg == NULL) {
			(void)fprintf(stderr, "donjon-igvm build: %s needs a value\n", opt);
			return usage();
		}
		if (strcmp(opt, "--kernel") == 0) {
			o.kernel = arg;
		} else if (strcmp(opt, "--guest") == 0) {
			o.guest = arg;
		} else if (strcmp(opt, "-o") == 0) {
			out = arg;
		} else if (strcmp(opt, "--platform") == 0) {
			o.snp = strcmp(arg, "native") != 0;
			o.native = strcmp(arg, "snp") != 0;
			ok = strcmp(arg, "snp") == 0 || strcmp(arg, "native") == 0 ||
			     strcmp(arg, "both") == 0;
		} else if (strcmp(opt, "--policy") == 0) {
			ok = parse_u64(arg, 16, UINT64_MAX, &o.policy);
		} else if (strcmp(opt, "--sev-features") == 0) {
			ok = parse_u64(arg, 16, UINT64_MAX, &o.sev_features);
		} else if (strcmp(opt, "--id-key") == 0) {
			ok = (o.id_key = read_key(arg)) != NULL;
		} else if (strcmp(opt, "--author-key") == 0) {
			ok = (o.author_key = read_key(arg)) != NULL;
		} else if (strcmp(opt, "--id-vcpus") == 0) {
			ok = parse_u64(arg, 10, SVSM_MAX_VCPUS, &v) && v != 0U;
			o.id_vcpus = (unsigned)v;
		} else if (strcmp(opt, "--family-id") == 0) {
			ok = parse_hex_bytes(arg, o.id.family_id, sizeof(o.id.family_id));
		} else if (strcmp(opt, "--image-id") == 0) {
			ok = parse_hex_bytes(arg, o.id.image_id, sizeof(o.id.image_id));
		} else if (strcmp(opt, "--migrate-policy") == 0) {
			char why[160];

			ok = igvm_migrate_policy_parse(arg, &o.migrate, why, sizeof(why));
			if (!ok) {
				(void)fprintf(stderr, "donjon-igvm build: %s\n", why);
			}
		} else if (strcmp(opt, "--guest-svn") == 0) {
			ok = parse_u64(arg, 10, UINT32_MAX, &v);
			o.id.guest_svn = (uint32_t)v;
		} else {
			ok = false;
		}
		if (!ok) {
			(void)fprintf(stderr, "donjon-igvm build: bad option %s %s\n", opt, arg);
		}
	}
	if (!ok || o.kernel == NULL || o.guest == NULL || out == NULL ||
	    (o.author_key != NULL && o.id_key == NULL)) {
		EVP_PKEY_free(o.id_key);
		EVP_PKEY_free(o.author_key);
		return usage();
	}
	uint8_t *file = NULL;
	size_t len = 0;
	char why[200];

	ok = igvm_build(&o, &file, &len, why, sizeof(why));
	EVP_PKEY_free(o.id_key);
	EVP_PKEY_free(o.author_key);
	if (!ok) {
		(void)fprintf(stderr, "donjon-igvm build: %s\n", why);
		return 1;
	}
	FILE *f = fopen(out, "wb");

	ok = f != NULL && fwrite(file, 1, len, f) == len;
	ok = (f != NULL && fclose(f) == 0) && ok;
	free(file);
	if (!ok) {
		(void)fprintf(stderr, "donjon-igvm build: cannot write %s: %s\n", out,
			      strerror(errno));
		return 1;
	}
	return 0;
}

static void print_hex(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		printf("%02x", b[i]);
	}
	printf("\n");
}

static int measure(int argc, char **argv)
{
	struct igvm_host host = { .vcpus = 1,
				  .mem_size = 1ULL << 30,
				  .vcpu_sig = IGVM_VCPU_SIG_EPYC_V4 };
	const char *path = NULL;
	bool verbose = false, ok = true;
	uint64_t v = 0;

	for (int i = 2; i < argc && ok; i++) {
		const char *arg = i + 1 < argc ? argv[i + 1] : "";

		if (strcmp(argv[i], "--verbose") == 0 || strcmp(argv[i], "-v") == 0) {
			verbose = true;
		} else if (strcmp(argv[i], "--vcpus") == 0) {
			ok = parse_u64(arg, 10, SVSM_MAX_VCPUS, &v) && v != 0U;
			host.vcpus = (unsigned)v;
			i++;
		} else if (strcmp(argv[i], "--sev-features") == 0) {
			ok = parse_u64(arg, 16, UINT64_MAX, &host.sev_features);
			host.set_sev_features = true;
			i++;
		} else if (strcmp(argv[i], "--vcpu-sig") == 0) {
			ok = parse_u64(arg, 16, UINT32_MAX, &v);
			host.vcpu_sig = (uint32_t)v;
			i++;
		} else if (path == NULL && argv[i][0] != '-') {
			path = argv[i];
		} else {
			ok = false;
		}
	}
	if (!ok || path == NULL) {
		return usage();
	}
	uint8_t *buf = NULL;
	struct igvm_file f;
	struct igvm_error err;
	struct igvm_launch launch;
	uint8_t ld[SNP_DIGEST_SIZE];
	int rc = load(path, &buf, &f);

	if (rc != 0) {
		return rc;
	}
	ok = igvm_measure(&f, &host, verbose ? stdout : NULL, ld, &launch, &err);
	if (!ok) {
		printf("ERROR at offset 0x%x: %s\n", err.offset, err.message);
	} else {
		printf("vcpus %u, sev_features 0x%llx, policy 0x%llx\n", host.vcpus,
		       (unsigned long long)launch.sev_features, (unsigned long long)launch.policy);
		if (launch.id_block != NULL) {
			char why[160];

			ok = igvm_id_block_check(launch.id_block, ld, launch.policy, why,
						 sizeof(why));
			printf("ID block at 0x%x: %s\n", launch.id_block_record,
			       ok ? "signature verified, digest matches" : why);
		}
		print_hex(ld, sizeof(ld));
	}
	igvm_free(&f);
	free(buf);
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "build") == 0) {
		return build(argc, argv);
	}
	if (argc >= 2 && strcmp(argv[1], "measure") == 0) {
		return measure(argc, argv);
	}
	if (argc == 3 && strcmp(argv[1], "dump") == 0) {
		return dump(argv[2]);
	}
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		(void)usage();
		return 0;
	}
	return usage();
}
