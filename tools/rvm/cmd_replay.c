/* tools/rvm/cmd_replay.c - `rvm replay RUNDIR --partition P --seq N`: a partition's state at seq N,
 * rebuilt. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rvm/bytes.h>
#include <rvm/journal.h>
#include <rvm/replay.h>
#include <rvm/witness_file.h>

#include "cmd.h"
#include "hosted.h"
#include "logfile.h"

/* The journal file (docs/journal.md): a 16-byte header, then 32-byte entry heads + payloads. */
#define JRNL_MAGIC  "RVM-JOURNAL"
#define JRNL_HEADER 16u
#define JRNL_HEAD   32u

struct jentry {
	uint64_t seq;
	const uint8_t *payload;
	uint32_t len;
};

/* Everything one replay reads: the verified log, the journal, the checkpoint directory. */
struct run {
	const char *dir;
	struct rvm_witness_record *rec;
	uint64_t nrec, caprec;
	uint8_t *jbuf;
	struct jentry *jent;
	size_t njent;
	uint8_t *ckbuf;
	size_t cklen;
};

struct opts {
	const char *dir, *dump;
	uint32_t partition;
	uint64_t seq;
	bool has_part, has_seq, check, json;
	uint64_t memory_mib;
};

static int usage(void)
{
	fprintf(stderr,
		"usage: rvm replay RUNDIR --partition P (--seq N | --check) [--dump DIR] [--json]\n"
		"                  [--memory MIB]\n"
		"  Rebuilds partition P's regions as they were after witness record N, from the\n"
		"  nearest checkpoint in RUNDIR/checkpoints, the witness log and the journal, and\n"
		"  prints the SHA-256 of every region and the partition digest. --dump writes "
		"each\n"
		"  region's bytes to DIR. --check rebuilds at every recovery.digest record of P "
		"and\n"
		"  compares with the digest recorded live (exit 1 on any difference).\n");
	return 2;
}

static int parse(int argc, char **argv, struct opts *o)
{
	uint64_t v;

	memset(o, 0, sizeof(*o));
	o->memory_mib = 256;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--check")) {
			o->check = true;
		} else if (!strcmp(a, "--json")) {
			o->json = true;
		} else if (a[0] != '-' && !o->dir) {
			o->dir = a;
		} else if (val && !strcmp(a, "--dump")) {
			o->dump = argv[++i];
		} else if (val && (!strcmp(a, "--partition") || !strcmp(a, "--seq") ||
				   !strcmp(a, "--memory"))) {
			if (!rvm_tool_parse_u64(val, false, &v)) {
				fprintf(stderr, "rvm replay: %s: bad value for %s: '%s'\n",
					rvm_err_name(RVM_E_INVAL), a, val);
				return 2;
			}
			i++;
			if (!strcmp(a, "--seq")) {
				o->seq = v, o->has_seq = true;
			} else if (!strcmp(a, "--memory")) {
				o->memory_mib = v;
			} else if (v >= RVM_MAX_PARTITIONS) {
				fprintf(stderr,
					"rvm replay: %s: partition %" PRIu64 " (at most %u)\n",
					rvm_err_name(RVM_E_RANGE), v, RVM_MAX_PARTITIONS - 1);
				return 2;
			} else {
				o->partition = (uint32_t)v, o->has_part = true;
			}
		} else {
			return usage();
		}
	}
	if (!o->dir || !o->has_part || o->has_seq == o->check || o->memory_mib == 0 ||
	    o->memory_mib > 65536)
		return usage();
	return 0;
}

/* ---- reading the run directory ---- */

static void collect(void *ctx, const struct rvm_witness_record *r)
{
	struct run *run = ctx;

	if (run->nrec == run->caprec) {
		run->caprec = run->caprec ? run->caprec * 2 : 4096;
		run->rec = realloc(run->rec, run->caprec * sizeof(*run->rec));
		if (!run->rec) {
			fprintf(stderr, "rvm replay: out of memory\n");
			exit(2);
		}
	}
	run->rec[run->nrec++] = *r;
}

static int read_log(struct run *run)
{
	static struct rvm_witness_reader rd;
	const struct rvm_witness_verdict *v;
	char path[4200], pub[4200];
	uint8_t key[32];
	const uint8_t *keyp = NULL;

	snprintf(path, sizeof(path), "%s/witness.log", run->dir);
	snprintf(pub, sizeof(pub), "%s/witness.pub", run->dir);
	if (access(pub, F_OK) == 0) {
		if (rvm_tool_key_read(pub, RVM_KEY_ED25519_PUBLIC, key, 32) != RVM_OK)
			return 2;
		keyp = key;
	}
	rvm_witness_reader_init(&rd, rvm_sha256_detect(), keyp, collect, run);
	if (rvm_tool_verify_file(path, &rd) != RVM_OK)
		return 2;
	v = rvm_witness_reader_finish(&rd);
	if (v->err != RVM_OK) {
		fprintf(stderr, "rvm replay: %s: %s: %s; records before it are used\n", path,
			rvm_err_name(v->err), v->why ? v->why : rvm_err_str(v->err));
		if (v->where == RVM_WHERE_HEADER)
			return 2;
	}
	return 0;
}

static uint8_t *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)n;
	}
	fclose(f);
	return buf;
}

/* Indexes the journal's entries by seq; a torn last entry is ignored, a bad header refused. */
static int read_journal(struct run *run)
{
	char path[4200];
	size_t len = 0, pos = JRNL_HEADER;

	snprintf(path, sizeof(path), "%s/journal.log", run->dir);
	run->jbuf = read_all(path, &len);
	if (!run->jbuf || len == 0)
		return 0; /* no payloads: replay fails only if a write needs one */
	if (len < JRNL_HEADER || memcmp(run->jbuf, JRNL_MAGIC, sizeof(JRNL_MAGIC)) != 0) {
		fprintf(stderr, "rvm replay: %s: %s: not a journal (bad magic)\n", path,
			rvm_err_name(RVM_E_FORMAT));
		return 2;
	}
	run->jent = calloc(len / JRNL_HEAD + 1, sizeof(*run->jent));
	if (!run->jent)
		return 2;
	while (len - pos >= JRNL_HEAD) {
		const uint8_t *h = run->jbuf + pos;
		uint32_t n = rvm_load_le32(h + 16);
		size_t padded = ((size_t)n + 7) & ~(size_t)7;

		if (padded > len - pos - JRNL_HEAD)
			break;
		/* Region writes' payloads; agent inputs are the agent replay's (agent_replay.c). */
		if (rvm_load_le16(h + 12) == RVM_JK_REGION_WRITE)
			run->jent[run->njent++] = (struct jentry){rvm_load_le64(h), h + JRNL_HEAD, n};
		pos += JRNL_HEAD + padded;
	}
	return 0;
}

/* ---- the replay source over the run ---- */

static enum rvm_err src_record(void *ctx, uint64_t seq, struct rvm_witness_record *out)
{
	const struct run *run = ctx;

	if (seq >= run->nrec)
		return RVM_E_NOTFOUND;
	*out = run->rec[seq];
	return RVM_OK;
}

static enum rvm_err src_payload(void *ctx, uint64_t seq, const uint8_t **data, size_t *len)
{
	const struct run *run = ctx;

	/* Entries are in seq order as written; look from the back (recent first is as good). */
	for (size_t i = run->njent; i-- > 0;)
		if (run->jent[i].seq == seq) {
			*data = run->jent[i].payload;
			*len = run->jent[i].len;
			return RVM_OK;
		}
	return RVM_E_NOTFOUND;
}

static enum rvm_err src_checkpoint(void *ctx, uint64_t id, const uint8_t **buf, size_t *len)
{
	struct run *run = ctx;
	char path[4200];

	snprintf(path, sizeof(path), "%s/checkpoints/%016llx.ckpt", run->dir,
		 (unsigned long long)id);
	free(run->ckbuf);
	run->ckbuf = read_all(path, &run->cklen);
	if (!run->ckbuf)
		return errno == ENOENT ? RVM_E_NOTFOUND : RVM_E_IO;
	*buf = run->ckbuf;
	*len = run->cklen;
	return RVM_OK;
}

/* ---- a region space to rebuild into ---- */

struct space {
	struct rvm_hosted hosted;
	struct rvm_platform plat;
	struct rvm_witness_log wlog;
	struct rvm_buddy buddy;
	struct rvm_buddy_frame *bframes;
	struct rvm_region_frame *rframes;
	struct rvm_region_store store;
	struct rvm_region_space s;
	struct rvm_ckpt_ctx ck;
	uint8_t *arena;
	uint64_t size;
	uint8_t store_buf[4096];
};

static int space_open(struct space *sp, uint64_t mib)
{
	struct rvm_witness_config cfg = {.chain = RVM_CHAIN_SHA256, .boot_nonce = {1}};
	struct rvm_phys_range r;
	uint64_t nframes;

	sp->size = mib << 20;
	nframes = sp->size / RVM_FRAME_SIZE;
	sp->arena = aligned_alloc(4u << 20, sp->size);
	sp->bframes = calloc(nframes, sizeof(*sp->bframes));
	sp->rframes = calloc(nframes, sizeof(*sp->rframes));
	if (!sp->arena || !sp->bframes || !sp->rframes ||
	    rvm_hosted_open(&sp->hosted, NULL, RVM_HOSTED_QUIET, &sp->plat) != RVM_OK ||
	    rvm_witness_init(&sp->wlog, &sp->plat, &cfg) != RVM_OK)
		return 2;
	r.base = (uint64_t)(uintptr_t)sp->arena;
	r.size = sp->size;
	rvm_region_store_init(&sp->store, sp->store_buf, sizeof(sp->store_buf));
	if (rvm_buddy_init(&sp->buddy, sp->bframes, (size_t)nframes, &r, 1) != RVM_OK ||
	    rvm_region_space_init(&sp->s, &sp->buddy, sp->rframes, (size_t)nframes, &sp->store,
				  &sp->wlog, &sp->plat) != RVM_OK)
		return 2;
	sp->ck.regions = &sp->s;
	return 0;
}

/* Empties the space for the next rebuild. */
static void space_reset(struct space *sp)
{
	struct rvm_phys_range r = {(uint64_t)(uintptr_t)sp->arena, sp->size};

	(void)rvm_buddy_init(&sp->buddy, sp->bframes, (size_t)(sp->size / RVM_FRAME_SIZE), &r, 1);
	(void)rvm_region_space_init(&sp->s, &sp->buddy, sp->rframes,
				    (size_t)(sp->size / RVM_FRAME_SIZE), &sp->store, &sp->wlog,
				    &sp->plat);
}

static void hex(const uint8_t *p, size_t n, char *out)
{
	rvm_tool_hex(p, n, out);
}

static int dump_region(const char *dir, rvm_region_id id, const struct rvm_region *r)
{
	char path[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/region-%016llx.bin", dir, (unsigned long long)id);
	f = fopen(path, "wb");
	if (!f || fwrite(rvm_phys_ptr(r->base), 1, (size_t)rvm_region_size(r), f) !=
			  (size_t)rvm_region_size(r)) {
		if (f)
			fclose(f);
		fprintf(stderr, "rvm replay: %s: cannot write %s\n", rvm_err_name(RVM_E_IO), path);
		return 2;
	}
	return fclose(f) == 0 ? 0 : 2;
}

/* The digest recorded live at seq for the partition, if record seq is one. */
static bool live_digest(const struct run *run, uint64_t seq, uint32_t p, uint8_t out[16])
{
	const struct rvm_witness_record *r = &run->rec[seq];

	if (r->action != RVM_ACT_STATE_DIGEST || r->target != p || r->flags)
		return false;
	rvm_store_le64(out, r->arg0);
	rvm_store_le64(out + 8, r->arg1);
	return true;
}

static int rebuild(struct run *run, struct space *sp, uint32_t p, uint64_t seq,
		   struct rvm_replay_stats *st, uint8_t digest[32])
{
	struct rvm_replay_source src = {src_record, src_payload, src_checkpoint, run};
	enum rvm_err err;

	space_reset(sp);
	memset(st, 0, sizeof(*st));
	err = rvm_replay_rebuild(&sp->ck, &src, run->nrec, p, seq, st);
	if (err == RVM_OK)
		err = rvm_partition_digest(&sp->s, p, NULL, NULL, digest);
	if (err != RVM_OK) {
		fprintf(stderr, "rvm replay: %s: partition %u at seq %" PRIu64 ": %s\n",
			rvm_err_name(err), p, seq, rvm_err_str(err));
		return err == RVM_E_CORRUPT ? 1 : 2;
	}
	return 0;
}

static int show(const struct opts *o, struct run *run, struct space *sp)
{
	struct rvm_replay_stats st;
	uint8_t d[32], live[16];
	char dh[65], rh[65];
	int rc = rebuild(run, sp, o->partition, o->seq, &st, d), n = 0;
	bool has_live;

	if (rc)
		return rc;
	if (o->dump && mkdir(o->dump, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "rvm replay: %s: cannot create %s\n", rvm_err_name(RVM_E_IO),
			o->dump);
		return 2;
	}
	hex(d, 32, dh);
	has_live = live_digest(run, o->seq, o->partition, live);
	if (o->json)
		printf("{\"partition\": %u, \"seq\": %" PRIu64 ", \"start_seq\": %" PRIu64
		       ", \"restores\": %" PRIu64 ", \"writes\": %" PRIu64 ", \"regions\": [",
		       o->partition, o->seq, st.start_seq, st.restores, st.writes);
	else
		printf("partition %u at seq %" PRIu64 ": replayed from seq %" PRIu64 " (%" PRIu64
		       " checkpoint restores, %" PRIu64 " writes, %" PRIu64 " bytes)\n",
		       o->partition, o->seq, st.start_seq, st.restores, st.writes, st.bytes);
	for (uint32_t i = 0; i < RVM_REGION_SLOTS; i++) {
		const struct rvm_region *r = &sp->s.slots[i];
		rvm_region_id id = (uint64_t)r->generation << 32 | i;
		uint8_t rd[32];

		if (!r->used || r->owner != o->partition)
			continue;
		(void)rvm_region_content_digest(&sp->s, id, rd);
		hex(rd, 32, rh);
		if (o->json)
			printf("%s{\"id\": %" PRIu64 ", \"size\": %" PRIu64 ", \"type\": %u, "
			       "\"sha256\": \"%s\"}",
			       n ? ", " : "", id, rvm_region_size(r), r->type, rh);
		else
			printf("  region 0x%016" PRIx64 " %8" PRIu64 " bytes type %u sha256 %s\n",
			       id, rvm_region_size(r), r->type, rh);
		n++;
		if (o->dump && (rc = dump_region(o->dump, id, r)) != 0)
			return rc;
	}
	if (o->json) {
		printf("], \"digest\": \"%s\", \"live\": %s}\n", dh,
		       !has_live ? "null"
				 : (memcmp(live, d, 16) != 0 ? "\"differs\"" : "\"match\""));
	} else {
		printf("  agents: not rebuilt (regions only; agent snapshots are in the checkpoints)\n");
		printf("  digest %s\n", dh);
		if (has_live)
			printf("  live digest recorded at this seq: %s\n",
			       memcmp(live, d, 16) != 0 ? "DIFFERS" : "match");
	}
	return has_live && memcmp(live, d, 16) != 0 ? 1 : 0;
}

/* Every recovery.digest record of the partition, rebuilt and compared. */
static int check_all(const struct opts *o, struct run *run, struct space *sp)
{
	uint64_t checked = 0, bad = 0;

	for (uint64_t s = 0; s < run->nrec; s++) {
		struct rvm_replay_stats st;
		uint8_t live[16], d[32];
		int rc;

		if (!live_digest(run, s, o->partition, live))
			continue;
		rc = rebuild(run, sp, o->partition, s, &st, d);
		if (rc)
			return rc;
		checked++;
		if (memcmp(live, d, 16) != 0) {
			bad++;
			printf("seq %" PRIu64 ": replay digest differs from the live one\n", s);
		}
	}
	printf("partition %u: %" PRIu64 " live digests checked, %" PRIu64 " differ\n", o->partition,
	       checked, bad);
	if (checked == 0)
		fprintf(stderr, "rvm replay: %s: no recovery.digest record for partition %u\n",
			rvm_err_name(RVM_E_NOTFOUND), o->partition);
	return bad ? 1 : checked ? 0 : 2;
}

int rvm_cmd_replay(int argc, char **argv)
{
	struct run run;
	struct opts o;
	static struct space sp;
	int rc = parse(argc, argv, &o);

	if (rc)
		return rc;
	memset(&run, 0, sizeof(run));
	run.dir = o.dir;
	rc = read_log(&run);
	if (rc == 0)
		rc = read_journal(&run);
	if (rc == 0 && o.has_seq && o.seq >= run.nrec) {
		fprintf(stderr,
			"rvm replay: %s: seq %" PRIu64 " is past the log's last record (%" PRIu64
			" records)\n",
			rvm_err_name(RVM_E_RANGE), o.seq, run.nrec);
		rc = 2;
	}
	if (rc == 0 && space_open(&sp, o.memory_mib) != 0) {
		fprintf(stderr, "rvm replay: %s: cannot set up %" PRIu64 " MiB to rebuild into\n",
			rvm_err_name(RVM_E_NOMEM), o.memory_mib);
		rc = 2;
	}
	if (rc == 0)
		rc = o.check ? check_all(&o, &run, &sp) : show(&o, &run, &sp);
	free(run.rec);
	free(run.jbuf);
	free(run.jent);
	free(run.ckbuf);
	return rc;
}
