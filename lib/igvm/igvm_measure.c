/* The SEV-SNP launch digest: PAGE_INFO per page, chained with SHA-384 (spec sheet 3.1).
 * One digest context is reused for every hash: the cost per page is the two hashes. */
#include "igvm_measure.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <donjon/bytes.h>

/* The algorithm is fetched once: an implicit fetch per hash costs more than hashing a
 * PAGE_INFO. */
static bool sha384(struct snp_digest *d, const void *data, size_t len, uint8_t out[SNP_DIGEST_SIZE])
{
	return EVP_DigestInit_ex2(d->md, d->sha384, NULL) == 1 &&
	       EVP_DigestUpdate(d->md, data, len) == 1 && EVP_DigestFinal_ex(d->md, out, NULL) == 1;
}

bool snp_digest_init(struct snp_digest *d)
{
	static const uint8_t zeros[IGVM_PAGE];

	memset(d, 0, sizeof(*d));
	d->md = EVP_MD_CTX_new();
	d->sha384 = EVP_MD_fetch(NULL, "SHA384", NULL);
	return d->md != NULL && d->sha384 != NULL &&
	       sha384(d, zeros, sizeof(zeros), d->zero_page_hash);
}

void snp_digest_fini(struct snp_digest *d)
{
	EVP_MD_CTX_free(d->md);
	EVP_MD_free(d->sha384);
	d->md = NULL;
	d->sha384 = NULL;
}

bool snp_digest_contents(struct snp_digest *d, enum snp_page_type type, const uint8_t *data,
			 uint8_t contents[SNP_DIGEST_SIZE])
{
	memset(contents, 0, SNP_DIGEST_SIZE);
	if (type != SNP_PAGE_NORMAL && type != SNP_PAGE_VMSA) {
		return true;
	}
	if (data == NULL) {
		memcpy(contents, d->zero_page_hash, SNP_DIGEST_SIZE);
		return true;
	}
	return sha384(d, data, IGVM_PAGE, contents);
}

bool snp_digest_extend(struct snp_digest *d, enum snp_page_type type, uint64_t gpa,
		       const uint8_t contents[SNP_DIGEST_SIZE])
{
	struct snp_page_info info;

	memset(&info, 0, sizeof(info));
	memcpy(info.digest_cur, d->ld, SNP_DIGEST_SIZE);
	memcpy(info.contents, contents, SNP_DIGEST_SIZE);
	info.length = sizeof(info);
	info.page_type = (uint8_t)type;
	info.gpa = gpa;
	return sha384(d, &info, sizeof(info), d->ld);
}

bool snp_digest_page(struct snp_digest *d, enum snp_page_type type, uint64_t gpa,
		     const uint8_t *data, uint8_t contents[SNP_DIGEST_SIZE])
{
	return snp_digest_contents(d, type, data, contents) &&
	       snp_digest_extend(d, type, gpa, contents);
}

const char *snp_page_type_name(enum snp_page_type type)
{
	static const char *const names[] = { "?",	   "NORMAL",  "VMSA", "ZERO",
					     "UNMEASURED", "SECRETS", "CPUID" };

	return (unsigned)type < sizeof(names) / sizeof(names[0]) ? names[type] : "?";
}

/* NORMAL pages with data are hashed in batches, half of each on a second thread; the
 * chain of PAGE_INFOs stays in order on the first. Any other page ends the batch. */
#define BATCH_PAGES 1024U
#define THREAD_MIN 64U

struct pending {
	uint64_t gpa;
	const uint8_t *data; /* file data: lives as long as the walk */
	uint32_t record;
	uint8_t contents[SNP_DIGEST_SIZE];
};

struct half {
	struct snp_digest *d;
	struct pending *p;
	size_t n;
	bool ok;
};

struct measure_ctx {
	struct snp_digest d, helper;
	FILE *verbose;
	struct pending batch[BATCH_PAGES];
	size_t n;
};

static void *hash_pages(void *arg)
{
	struct half *h = arg;

	h->ok = true;
	for (size_t i = 0; i < h->n && h->ok; i++) {
		h->ok = snp_digest_contents(h->d, SNP_PAGE_NORMAL, h->p[i].data, h->p[i].contents);
	}
	return NULL;
}

static void print_page(FILE *out, uint64_t gpa, enum snp_page_type type,
		       const uint8_t contents[SNP_DIGEST_SIZE])
{
	(void)fprintf(out, "0x%012llx %-10s ", (unsigned long long)gpa, snp_page_type_name(type));
	for (unsigned i = 0; i < SNP_DIGEST_SIZE; i++) {
		(void)fprintf(out, "%02x", contents[i]);
	}
}

static bool sha_failed(struct igvm_error *err, uint32_t record)
{
	err->offset = record;
	(void)snprintf(err->message, sizeof(err->message), "SHA-384 failed");
	return false;
}

static bool flush(struct measure_ctx *m, struct igvm_error *err)
{
	size_t split = m->n >= THREAD_MIN ? m->n / 2U : m->n;
	struct half second = { &m->helper, m->batch + split, m->n - split, true };
	struct half first = { &m->d, m->batch, split, true };
	pthread_t t;
	bool threaded = second.n != 0U && pthread_create(&t, NULL, hash_pages, &second) == 0;

	if (!threaded) {
		first.n = m->n;
	}
	hash_pages(&first);
	if (threaded) {
		(void)pthread_join(t, NULL);
	}
	for (size_t i = 0; i < m->n; i++) {
		const struct pending *p = &m->batch[i];

		if (!first.ok || !second.ok ||
		    !snp_digest_extend(&m->d, SNP_PAGE_NORMAL, p->gpa, p->contents)) {
			return sha_failed(err, p->record);
		}
		if (m->verbose != NULL) {
			print_page(m->verbose, p->gpa, SNP_PAGE_NORMAL, p->contents);
			(void)fputc('\n', m->verbose);
		}
	}
	m->n = 0;
	return true;
}

static bool measure_page(void *ctx, const struct igvm_launch_page *p, struct igvm_error *err)
{
	struct measure_ctx *m = ctx;
	uint8_t contents[SNP_DIGEST_SIZE];

	if (p->event != IGVM_EV_PAGE) {
		return true;
	}
	if (p->type == SNP_PAGE_NORMAL && p->data != NULL) {
		m->batch[m->n++] = (struct pending){ p->gpa, p->data, p->record, { 0 } };
		return m->n < BATCH_PAGES || flush(m, err);
	}
	if (!flush(m, err)) {
		return false;
	}
	if (!snp_digest_page(&m->d, p->type, p->gpa, p->data, contents)) {
		return sha_failed(err, p->record);
	}
	if (m->verbose != NULL) {
		print_page(m->verbose, p->gpa, p->type, contents);
		if (p->type == SNP_PAGE_VMSA) {
			(void)fprintf(m->verbose, " vcpu %u%s", p->vp,
				      p->record == 0U ? " (reset state)" : "");
		}
		(void)fputc('\n', m->verbose);
	}
	return true;
}

bool igvm_measure(const struct igvm_file *f, const struct igvm_host *host, FILE *verbose,
		  uint8_t ld[SNP_DIGEST_SIZE], struct igvm_launch *launch, struct igvm_error *err)
{
	struct measure_ctx *m = calloc(1, sizeof(*m));
	bool ok = m != NULL && snp_digest_init(&m->d) && snp_digest_init(&m->helper);

	if (!ok) {
		err->offset = 0;
		(void)snprintf(err->message, sizeof(err->message), "no SHA-384 or no memory");
	} else {
		m->verbose = verbose;
		/* A file whose walk ends early leaves its batch unmeasured: no digest. */
		ok = igvm_snp_launch(f, host, measure_page, m, launch, err);
		memcpy(ld, m->d.ld, SNP_DIGEST_SIZE);
	}
	if (m != NULL) {
		snp_digest_fini(&m->d);
		snp_digest_fini(&m->helper);
	}
	free(m);
	return ok;
}
