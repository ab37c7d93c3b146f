/* donjon-sim's host side of live migration (migrate.h). The host is untrusted: it only
 * carries what the SVSM puts in the ring, and what it reports is the SVSM's status. */
#include "migrate.h"
#include "sockio.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <donjon/bytes.h>
#include <donjon/launch.h>
#include <donjon/migrate_host.h>

/* The mailbox page and the ring at the top of guest memory, made shared by the host. */
#define RING_SIZE 0x40000U
#define FRAME_MAX (RING_SIZE)
/* The header's flag for a record of a 2 MiB page (core/migrate/stream.h). */
#define MIG_FLAG_2M_HOST 0x02U

struct host {
	struct sim_machine *m;
	uint64_t ctl;
	uint64_t ring;
	int fd;
};

static uint8_t frame[FRAME_MAX];

/* A frame on the stream: u32 length, then the bytes. */
static bool send_frame(int fd, const uint8_t *buf, uint32_t len)
{
	uint8_t hdr[4];

	store32(hdr, 0, len);
	return sock_write_all(fd, hdr, sizeof(hdr)) && sock_write_all(fd, buf, len);
}

static bool recv_frame(int fd, uint8_t *buf, uint32_t *len)
{
	uint8_t hdr[4];

	if (!sock_read_all(fd, hdr, sizeof(hdr))) {
		return false;
	}
	*len = load32(hdr, 0);
	return *len <= FRAME_MAX && sock_read_all(fd, buf, *len);
}

static const char *setup(struct host *h, struct sim_machine *m)
{
	h->m = m;
	h->ctl = m->mem_size - RING_SIZE - PAGE_SIZE;
	h->ring = h->ctl + PAGE_SIZE;
	for (uint64_t p = h->ctl; p < m->mem_size; p += PAGE_SIZE) {
		struct rmp_entry e;

		if (!sim_rmp_entry(m, gpa_init(p), &e) || e.validated) {
			return "the top of memory, where the mailbox goes, is the guest's";
		}
		const char *err = sim_host_psc(m, gpa_init(p), PAGE_4K, PSC_SHARED);

		if (err != NULL) {
			return err;
		}
	}
	return NULL;
}

static uint8_t *mb(struct host *h)
{
	return h->m->mem + h->ctl;
}

static uint8_t *ring(struct host *h)
{
	return h->m->mem + h->ring;
}

/* One mailbox command; the SVSM's status. */
static uint32_t request(struct host *h, uint32_t cmd, uint64_t arg, uint32_t used)
{
	uint8_t *b = mb(h);

	memset(b, 0, MIG_HOST_MAILBOX_SIZE);
	store32(b, MIG_MB_MAGIC, MIG_HOST_MAGIC);
	store32(b, MIG_MB_VERSION, MIG_HOST_VERSION);
	store32(b, MIG_MB_CMD, cmd);
	store64(b, MIG_MB_ARG, arg);
	store64(b, MIG_MB_RING_GPA, h->ring);
	store32(b, MIG_MB_RING_SIZE, RING_SIZE);
	store32(b, MIG_MB_RING_USED, used);
	return svsm_migrate_request(gpa_init(h->ctl));
}

static uint32_t out_used(struct host *h)
{
	return load32(mb(h), MIG_MB_RING_USED);
}

static uint32_t out_flags(struct host *h)
{
	return load32(mb(h), MIG_MB_OUT_FLAGS);
}

struct status {
	uint32_t phase, round;
	uint64_t records, pages, bytes, dirty, round_pages, last_round_pages, faults;
	char why[128];
};

static void status(struct host *h, struct status *s)
{
	memset(s, 0, sizeof(*s));
	if (request(h, MIG_CMD_STATUS, 0, 0) != MIG_ST_OK) {
		(void)snprintf(s->why, sizeof(s->why), "no status");
		return;
	}
	const uint8_t *r = ring(h);

	s->phase = load32(r, 0);
	s->round = load32(r, 4);
	s->records = load64(r, 8);
	s->pages = load64(r, 16);
	s->bytes = load64(r, 24);
	s->dirty = load64(r, 32);
	s->round_pages = load64(r, 40);
	s->last_round_pages = load64(r, 48);
	s->faults = load64(r, 56);
	memcpy(s->why, r + MIG_STATUS_WHY, sizeof(s->why) - 1U);
}

/* Send the records the ring holds, one frame each, in one write. A record is at least
 * 80 bytes, so its 4-byte length prefix at most doubles nothing. */
static uint8_t out_frames[RING_SIZE + RING_SIZE / 16U];

static bool send_records(struct host *h, uint32_t used)
{
	const uint8_t *r = ring(h);
	uint32_t off = 0;
	size_t n = 0;

	while (off < used) {
		uint32_t size = 64U + load32(r + off, 20) + 16U;

		if (size > used - off || n + 4U + size > sizeof(out_frames)) {
			return false;
		}
		store32(out_frames, n, size);
		memcpy(out_frames + n + 4U, r + off, size);
		n += 4U + size;
		off += size;
	}
	return sock_write_all(h->fd, out_frames, n);
}

/* The destination's side of the stream: frames read in large chunks, so that every frame
 * already here can go to the SVSM in one PUSH. */
static uint8_t in_buf[2U * RING_SIZE];
static size_t in_lo, in_hi;

/* True if a complete frame is at the front, *len its length. */
static bool frame_ready(uint32_t *len)
{
	if (in_hi - in_lo < 4U) {
		return false;
	}
	*len = load32(in_buf, in_lo);
	return *len <= in_hi - in_lo - 4U;
}

/* Reads until a whole frame is at the front; false at the end of the stream or for a
 * frame larger than the ring. */
static bool fill_frame(int fd)
{
	uint32_t len = 0;

	while (!frame_ready(&len)) {
		if (in_hi - in_lo >= 4U && load32(in_buf, in_lo) > RING_SIZE) {
			return false;
		}
		if (in_lo != 0U) {
			memmove(in_buf, in_buf + in_lo, in_hi - in_lo);
			in_hi -= in_lo;
			in_lo = 0;
		}
		ssize_t n = read(fd, in_buf + in_hi, sizeof(in_buf) - in_hi);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			return false;
		}
		in_hi += (size_t)n;
	}
	return true;
}

/* Why the SVSM refused, for *err: the launch policy's reason, or what the status means. */
static const char *refusal(struct host *h, uint32_t st, const char *otherwise)
{
	static char why[200];
	struct status s;

	if (st != MIG_ST_POLICY && st != MIG_ST_REFUSED) {
		return otherwise;
	}
	status(h, &s);
	(void)snprintf(why, sizeof(why), "the SVSM refused: %s", s.why);
	return why;
}

static enum sim_migrate_mode session_mode = SIM_MIGRATE_AUTO;

void sim_migrate_set_mode(enum sim_migrate_mode mode)
{
	session_mode = mode;
}

/* The mode the host asks for: as set, or (auto) the test key when the launch has one and
 * its policy allows it, attested otherwise. */
static bool attested_mode(struct host *h)
{
	if (session_mode != SIM_MIGRATE_AUTO) {
		return session_mode == SIM_MIGRATE_ATTESTED;
	}
	if (request(h, MIG_CMD_QUERY, 0, 0) != MIG_ST_OK || out_used(h) < 20U) {
		return true;
	}
	return load32(ring(h), 12) == 0U || (load32(ring(h), 16) & LAUNCH_MIGRATE_TEST_KEY) == 0U;
}

static bool hello_exchange(struct host *h, uint32_t role, const char **err)
{
	uint32_t len = 0;
	bool attested = attested_mode(h);
	uint32_t st = request(h, MIG_CMD_HELLO, role | (attested ? MIG_HELLO_ATTESTED : 0U), 0);

	if (st != MIG_ST_OK) {
		*err = refusal(h, st, "the SVSM made no hello (a session already ran)");
		return false;
	}
	/* The host attaches the chip's certificate, as it would the VCEK's. */
	if (attested &&
	    !sim_chip_certificate(h->m, ring(h) + MIG_HELLO_CHIP_ID, ring(h) + MIG_HELLO_CHIP_PUB,
				  ring(h) + MIG_HELLO_ENDORSEMENT)) {
		*err = "the simulated PSP gave no chip certificate";
		return false;
	}
	if (!send_frame(h->fd, ring(h), out_used(h)) || !recv_frame(h->fd, frame, &len) ||
	    len > RING_SIZE) {
		*err = "the peer's hello did not arrive";
		return false;
	}
	memcpy(ring(h), frame, len);
	st = request(h, MIG_CMD_PEER, 0, len);
	if (st != MIG_ST_OK) {
		*err = refusal(h, st, "the SVSM refused the session");
		return false;
	}
	return true;
}

static double now_s(void)
{
	struct timespec t;

	(void)clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void bind_vcpus(struct sim_machine *m)
{
	for (unsigned i = 0; i < m->vcpu_count; i++) {
		gpa_t vmsa = svsm_vcpu_vmsa(i);

		m->vcpus[i].vmsa = vmsa;
		m->vcpus[i].caa = svsm_vcpu_caa(i);
		m->vcpus[i].runnable = gpa_val(vmsa) != 0U;
	}
}

void sim_migrate_incoming(struct sim_machine *m, const char *path)
{
	struct host h;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	const char *err = setup(&h, m);
	int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	uint64_t frames = 0;

	if (err != NULL || lfd < 0 || strlen(path) >= sizeof(addr.sun_path)) {
		printf("ERR migration: %s\n", err != NULL ? err : "no socket");
		return;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1U);
	(void)unlink(path);
	if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(lfd, 1) != 0 ||
	    (h.fd = accept(lfd, NULL, NULL)) < 0) {
		printf("ERR migration: cannot listen on %s: %s\n", path, strerror(errno));
		(void)close(lfd);
		return;
	}
	(void)close(lfd);
	if (!hello_exchange(&h, MIG_ROLE_DEST, &err)) {
		printf("ERR migration: %s\n", err);
		(void)close(h.fd);
		return;
	}
	in_lo = in_hi = 0;
	for (;;) {
		uint32_t used = 0;
		uint64_t first = frames;

		if (!fill_frame(h.fd)) {
			struct status s;

			status(&h, &s);
			printf("ERR migration: the stream ended before FINAL (%llu records); the "
			       "guest does not run here\n",
			       (unsigned long long)s.records);
			break;
		}
		/* Every complete frame already read that fits goes into one PUSH. */
		uint32_t len = 0;

		while (frame_ready(&len) && len <= RING_SIZE - used) {
			uint8_t *rec = ring(&h) + used;
			struct rmp_entry e;

			memcpy(rec, in_buf + in_lo + 4U, len);
			in_lo += 4U + len;
			used += len;
			frames++;
			/* The headers are in clear: the host makes the 2 MiB private RMP entries
			 * that the records of 2M pages need before the SVSM can validate them. */
			if (len >= 64U && (rec[3] & MIG_FLAG_2M_HOST) != 0U &&
			    (load64(rec, 24) & (PAGE_SIZE_2M - 1U)) == 0U &&
			    sim_rmp_entry(m, gpa_init(load64(rec, 24)), &e) && !e.size_2m) {
				(void)sim_host_psc(m, gpa_init(load64(rec, 24)), PAGE_2M,
						   PSC_PRIVATE);
			}
		}
		uint32_t st = request(&h, MIG_CMD_PUSH, 0, used);

		/* The record the SVSM stopped at: the last one it looked at. */
		frames = first + load32(mb(&h), MIG_MB_OUT_RECORDS);
		if ((out_flags(&h) & MIG_OUT_REPLY) != 0U) {
			(void)send_frame(h.fd, ring(&h), out_used(&h));
		}
		if (st != MIG_ST_OK) {
			struct status s;

			status(&h, &s);
			printf("ERR migration refused at record %llu: %s; the guest does not run "
			       "here\n",
			       (unsigned long long)frames, s.why);
			break;
		}
		if ((out_flags(&h) & MIG_OUT_COMMITTED) != 0U) {
			struct status s;

			status(&h, &s);
			bind_vcpus(m);
			printf("OK migration committed: %llu records, %llu pages, %llu bytes\n",
			       (unsigned long long)s.records, (unsigned long long)s.pages,
			       (unsigned long long)s.bytes);
			break;
		}
	}
	(void)close(h.fd);
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end = NULL;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno == 0 && end != s && *end == '\0';
}

/* The workload: the counter goes up by one, and the first 8 bytes of each dirty page get
 * the counter. Writes go through the guest's path (a write fault goes to the SVSM). */
static uint64_t workload(struct sim_machine *m, uint64_t counter, uint64_t base, uint64_t pages,
			 uint64_t *refused)
{
	uint64_t v = 0;

	if (counter == 0U || sim_guest_read(m, SIM_GUEST_VMPL, gpa_init(counter), &v, 8) != NULL) {
		return 0;
	}
	v++;
	if (sim_guest_write(m, SIM_GUEST_VMPL, gpa_init(counter), &v, 8) != NULL) {
		(*refused)++;
	}
	for (uint64_t i = 0; i < pages; i++) {
		if (sim_guest_write(m, SIM_GUEST_VMPL, gpa_init(base + i * PAGE_SIZE), &v, 8) !=
		    NULL) {
			(*refused)++;
		}
	}
	return v;
}

void cmd_migrate(struct sim_machine *m, int argc, char **argv)
{
	struct host h;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	uint64_t rounds = 0, counter = 0, base = 0, pages = 0, refused = 0;
	const char *err = NULL;

	if ((argc != 3 && argc != 6) || !parse_u64(argv[2], &rounds) || rounds == 0U ||
	    (argc == 6 && (!parse_u64(argv[3], &counter) || !parse_u64(argv[4], &base) ||
			   !parse_u64(argv[5], &pages))) ||
	    strlen(argv[1]) >= sizeof(addr.sun_path)) {
		printf("ERR usage: migrate PATH ROUNDS [COUNTER DIRTYBASE DIRTYPAGES]\n");
		return;
	}
	if ((err = setup(&h, m)) != NULL) {
		printf("ERR %s\n", err);
		return;
	}
	memcpy(addr.sun_path, argv[1], strlen(argv[1]) + 1U);
	h.fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (h.fd < 0 || connect(h.fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		printf("ERR cannot connect to %s: %s\n", argv[1], strerror(errno));
		if (h.fd >= 0) {
			(void)close(h.fd);
		}
		return;
	}
	if (!hello_exchange(&h, MIG_ROLE_SOURCE, &err)) {
		printf("ERR %s\n", err);
		(void)close(h.fd);
		return;
	}
	bool stopped = false;
	double t0 = now_s(), t_round = t0, downtime = 0, first_round = 0;
	uint64_t value = 0;

	for (;;) {
		uint32_t st = request(&h, MIG_CMD_PULL, 0, 0);
		uint32_t flags = out_flags(&h);

		if (st != MIG_ST_OK || !send_records(&h, out_used(&h))) {
			struct status s;

			status(&h, &s);
			/* Before FINAL the source may give up and run its guest again. */
			bool resumed = request(&h, MIG_CMD_CANCEL, 0, 0) == MIG_ST_OK ||
				       s.phase == MIG_PHASE_IDLE;

			printf("ERR migration failed: %s; %s\n",
			       st != MIG_ST_OK ? s.why : "the stream to the destination broke",
			       resumed ? "the guest runs here again" : "the guest stays stopped");
			(void)close(h.fd);
			return;
		}
		if ((flags & MIG_OUT_FINAL) != 0U) {
			break;
		}
		uint64_t v = stopped ? 0U : workload(m, counter, base, pages, &refused);

		if (v != 0U) {
			value = v;
		}
		if ((flags & MIG_OUT_ROUND_END) != 0U && !stopped) {
			struct status s;
			double t = now_s();

			status(&h, &s);
			double rate = (double)s.dirty / (t - t_round);
			double bw = (double)s.bytes / (t - t0);

			/* The progress a person running the migration sees (stderr). */
			(void)fprintf(stderr,
				      "migrate: round %u: %llu pages sent, %llu dirty, %.0f dirty "
				      "pages/s, %llu bytes in all, about %.1f ms left\n",
				      s.round - 1U, (unsigned long long)s.last_round_pages,
				      (unsigned long long)s.dirty, rate,
				      (unsigned long long)s.bytes,
				      bw > 0 ? (double)s.dirty * 4096.0 / bw * 1e3 : 0.0);
			if (s.round == 1U) {
				first_round = t - t0;
			}
			t_round = t;
			if (s.round >= rounds) {
				if (request(&h, MIG_CMD_STOP, 0, 0) != MIG_ST_OK) {
					printf("ERR the SVSM would not stop the guest\n");
					(void)close(h.fd);
					return;
				}
				stopped = true;
				downtime = now_s();
			}
		}
	}
	struct status s;
	uint32_t len = 0;

	status(&h, &s);
	/* Downtime ends with the destination's reply: it has committed and runs the guest. */
	bool replied = recv_frame(h.fd, frame, &len) && len <= RING_SIZE;

	downtime = now_s() - downtime;
	if (!replied) {
		printf("ERR no reply from the destination after FINAL: the guest stays stopped\n");
		(void)close(h.fd);
		return;
	}
	(void)close(h.fd);
	memcpy(ring(&h), frame, len);
	uint32_t st = request(&h, MIG_CMD_REPLY, 0, len);
	uint32_t flags = out_flags(&h);

	if (st != MIG_ST_OK) {
		printf("ERR the destination's reply does not authenticate: the guest stays "
		       "stopped\n");
	} else if ((flags & MIG_OUT_COMMITTED) != 0U) {
		printf("OK committed: %u rounds, %llu records, %llu page records, %llu write "
		       "faults, "
		       "counter %llu, %llu guest writes refused, downtime %.1f ms, first round "
		       "%.1f ms\n",
		       s.round, (unsigned long long)s.records, (unsigned long long)s.pages,
		       (unsigned long long)s.faults, (unsigned long long)value,
		       (unsigned long long)refused, downtime * 1e3, first_round * 1e3);
	} else {
		printf("OK aborted by the destination: the guest runs here again\n");
	}
}

void cmd_migcancel(struct sim_machine *m, int argc)
{
	struct host h = { .m = m };

	if (argc != 1) {
		printf("ERR usage: migcancel\n");
		return;
	}
	h.ctl = m->mem_size - RING_SIZE - PAGE_SIZE;
	h.ring = h.ctl + PAGE_SIZE;
	uint32_t st = request(&h, MIG_CMD_CANCEL, 0, 0);

	if (st == MIG_ST_OK) {
		printf("OK the guest runs again\n");
	} else {
		printf("ERR the SVSM refused to resume the guest (status %u)\n", st);
	}
}

/* SHA-384 over what a migration must carry, as the host sees the machine: for each page
 * outside Donjon's range that the RMP says is validated, its address, size, VMSA bit and
 * VMPL1-3 permissions, and its contents if any VMPL may read it or it is a VMSA (with
 * EFER.SVME masked: the VMSA's run state is the migration's, not the guest's). */
void cmd_statehash(struct sim_machine *m, int argc)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t out[48];
	unsigned int n = 0;
	uint64_t pages = 0;

	if (argc != 1 || ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha384(), NULL) != 1) {
		printf("ERR usage: statehash\n");
		EVP_MD_CTX_free(ctx);
		return;
	}
	for (uint64_t p = 0; p < m->mem_size; p += PAGE_SIZE) {
		struct rmp_entry e;
		uint8_t rec[16] = { 0 };

		if (!sim_rmp_entry(m, gpa_init(p), &e) || !e.validated ||
		    (p >= m->svsm_base && p - m->svsm_base < m->svsm_size)) {
			continue;
		}
		store64(rec, 0, p);
		rec[8] = e.size_2m ? 1U : 0U;
		rec[9] = e.vmsa;
		memcpy(rec + 10, &e.perms[1], 3);
		(void)EVP_DigestUpdate(ctx, rec, sizeof(rec));
		if (e.vmsa || (e.perms[1] | e.perms[2] | e.perms[3]) != 0U) {
			uint8_t page[PAGE_SIZE];

			memcpy(page, m->mem + p, PAGE_SIZE);
			if (e.vmsa) {
				store64(page, VMSA_EFER_OFF,
					load64(page, VMSA_EFER_OFF) & ~(uint64_t)EFER_SVME);
			}
			(void)EVP_DigestUpdate(ctx, page, sizeof(page));
		}
		pages++;
	}
	/* The startup VMSAs live in Donjon's range; they are the guest's vCPUs too. */
	for (unsigned i = 0; i < m->vcpu_count; i++) {
		uint64_t v = SIM_VMSA_BASE + i * PAGE_SIZE;
		uint8_t page[PAGE_SIZE];

		memcpy(page, m->mem + v, PAGE_SIZE);
		store64(page, VMSA_EFER_OFF, load64(page, VMSA_EFER_OFF) & ~(uint64_t)EFER_SVME);
		(void)EVP_DigestUpdate(ctx, page, sizeof(page));
	}
	(void)EVP_DigestFinal_ex(ctx, out, &n);
	EVP_MD_CTX_free(ctx);
	printf("OK %llu pages ", (unsigned long long)pages);
	for (unsigned i = 0; i < n; i++) {
		printf("%02x", out[i]);
	}
	printf("\n");
}
