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

#include <rvm/kernel_recover.h>

#include "agent_replay.h"
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
		"  Rebuilds partition P as it was after witness record N, from the nearest\n"
		"  checkpoint in RUNDIR/checkpoints, the witness log and the journal: its regions\n"
		"  (SHA-256 each) and its agents (re-run from their nearest snapshot with their\n"
		"  journaled inputs, to their last recorded point at or before N: memory SHA-256\n"
		"  and state digest, checked against the live DIGEST), and the partition digest.\n"
		"  --dump writes each region's bytes to DIR. --check rebuilds at every\n"
		"  recovery.digest record of P and compares with the digest recorded live (exit 1\n"
		"  on any difference).\n");
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

/* ---- agents: rebuilt from their journal, from the nearest snapshot ---- */

/* One agent's state at a seq, as replay rebuilt it. */
struct agent_state {
	uint32_t agent;
	bool alive;	    /* a life of it had started by then */
	bool has_point;	    /* a recorded point (DIGEST) of that life at or before the seq */
	bool match;	    /* replay reached it with the live fuel and memory */
	bool at_start;	    /* no DIGEST of the life yet: the state it started in (no live
			     * record to compare with) */
	uint64_t life_seq;  /* its START or RESUME */
	uint64_t from_ckpt; /* snapshot replay started from (0: the module) */
	uint64_t point_seq; /* the DIGEST the state is at */
	uint64_t fuel;
	uint8_t mem[32], state[32]; /* memory SHA-256; state digest (what recovery.digest folds) */
};

static void keep_point(void *ctx, uint32_t agent, const struct ar_point *p)
{
	struct agent_state *as = ctx;

	(void)agent;
	as->has_point = true;
	as->at_start = !p->digest;
	as->match = p->match;
	as->point_seq = p->digest ? p->digest->seq : as->life_seq;
	as->fuel = p->fuel;
	memcpy(as->mem, p->mem, 32);
}

/* Agent a's partition after every record <= seq: its hostcall (and batch) records' actor,
 * agent.move records. */
static void partitions_at(const struct run *run, uint64_t seq, uint32_t part[RVM_AGENT_MAX])
{
	for (uint32_t i = 0; i < RVM_AGENT_MAX; i++)
		part[i] = UINT32_MAX;
	for (uint64_t s = 0; s <= seq && s < run->nrec; s++) {
		const struct rvm_witness_record *r = &run->rec[s];

		if (r->target >= RVM_AGENT_MAX || r->flags)
			continue;
		if (r->action == RVM_ACT_HOSTCALL || r->action == RVM_ACT_HOSTCALL_BATCH)
			part[r->target] = r->actor;
		else if (r->action == RVM_ACT_AGENT_MOVE)
			part[r->target] = (uint32_t)r->arg1;
	}
}

/* Does checkpoint record s hold agent a's snapshot, as the log announced it? */
static bool ckpt_holds(struct run *run, const struct rvm_witness_record *r, uint32_t a)
{
	struct rvm_ckpt_view v;
	struct rvm_ckpt_agent ca;
	const uint8_t *buf;
	size_t len;

	return src_checkpoint(run, r->arg0, &buf, &len) == RVM_OK &&
	       rvm_checkpoint_parse(buf, len, NULL, &v) == RVM_OK && v.seq == r->seq &&
	       rvm_load_le64(v.sha256) == r->arg1 && rvm_ckpt_find_agent(&v, a, &ca) == RVM_OK;
}

/*
 * Rebuilds agent a at seq: its life then, replayed from the newest checkpoint of that life
 * at or before seq that holds its snapshot (the DIGEST written with it gives the fuel), else
 * from the life's start, through its last DIGEST at or before seq.
 */
static int agent_at(struct run *run, struct ar_run *ar, uint32_t a, uint64_t seq,
		    struct agent_state *as)
{
	struct ar_life l;
	struct ar_from from = { 0 };
	bool have_from = false;
	size_t li = SIZE_MAX;
	int got;

	memset(as, 0, sizeof(*as));
	as->agent = a;
	for (size_t i = 0; i < ar->count && ar->ents[i].seq <= seq; i++)
		if (ar->ents[i].agent == a && ar_is_start(&ar->ents[i]))
			li = i;
	if (li == SIZE_MAX)
		return 0;
	as->alive = true;
	if (ar_life_collect(ar, li, &l) != 0)
		return 2;
	as->life_seq = l.start->seq;
	if (l.start->kind == RVM_JK_RESUME)
		as->from_ckpt = rvm_load_le64(l.start->payload);
	for (uint64_t s = seq < run->nrec ? seq : run->nrec - 1; s > l.start->seq && !have_from;
	     s--) {
		const struct rvm_witness_record *r = &run->rec[s];

		if (r->action != RVM_ACT_STATE_CHECKPOINT || r->flags || !ckpt_holds(run, r, a))
			continue;
		for (size_t d = l.digest.n; d-- > 0;)
			if (l.digest.e[d]->seq < s) {
				from = (struct ar_from){ r->arg0, s, rvm_load_le64(l.digest.e[d]->payload) };
				have_from = l.digest.e[d]->seq > l.start->seq;
				break;
			}
	}
	if (have_from)
		as->from_ckpt = from.ckpt;
	got = ar_replay(ar, &l, have_from ? &from : NULL, seq, keep_point, as);
	ar_life_free(&l);
	if (as->has_point)
		rvm_kernel_agent_state_digest(NULL, as->fuel, as->mem, as->state);
	return got < 0 ? 1 : 0;
}

/* The agents a recovery.digest record of p at seq folded in: the DIGEST entries written for
 * p just before it, in agent order. */
static uint32_t digest_group(const struct run *run, uint64_t seq, uint32_t p,
			     uint32_t out[RVM_AGENT_MAX])
{
	uint32_t n = 0;

	for (uint64_t s = seq; s-- > 0;) {
		const struct rvm_witness_record *r = &run->rec[s];

		/* The group, and the batches of pending inputs each DIGEST bound first; a chain
		 * checkpoint (every N records) or a tape given up may fall between them. */
		if (r->action == RVM_ACT_CHAIN_CHECKPOINT || r->action == RVM_ACT_TAPE_LOST)
			continue;
		if ((r->action != RVM_ACT_HOSTCALL && r->action != RVM_ACT_HOSTCALL_BATCH) ||
		    r->actor != p)
			break;
		if (r->action == RVM_ACT_HOSTCALL && r->arg0 >> 32 == RVM_JK_DIGEST && n < RVM_AGENT_MAX && r->target < RVM_AGENT_MAX) {
			bool seen = false;

			/* Walking back, an agent's first DIGEST is its latest: the group's. */
			for (uint32_t i = 0; i < n && !seen; i++)
				seen = out[i] == r->target;
			if (!seen)
				out[n++] = (uint32_t)r->target;
		}
	}
	/* The partition digest folds its agents in agent-number order. */
	for (uint32_t i = 1; i < n; i++)
		for (uint32_t j = i; j > 0 && out[j - 1] > out[j]; j--) {
			uint32_t t = out[j];

			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	return n;
}

struct agents {
	struct agent_state st[RVM_AGENT_MAX];
	uint32_t n;
};

static enum rvm_err agents_cb(void *ctx, uint32_t partition, uint32_t index, uint32_t *agent,
			      uint8_t digest[32])
{
	const struct agents *ag = ctx;

	(void)partition;
	if (index >= ag->n)
		return RVM_E_NOTFOUND;
	*agent = ag->st[index].agent;
	memcpy(digest, ag->st[index].state, 32);
	return RVM_OK;
}

/* The agents of p at seq (the digest group when seq is p's recovery.digest), rebuilt. */
static int agents_rebuild(struct run *run, struct ar_run *ar, uint32_t p, uint64_t seq,
			  bool group, struct agents *ag)
{
	uint32_t list[RVM_AGENT_MAX], n = 0;
	static uint32_t part[RVM_AGENT_MAX];
	int rc;

	ag->n = 0;
	if (!ar)
		return 0;
	if (group) {
		n = digest_group(run, seq, p, list);
	} else {
		partitions_at(run, seq, part);
		for (uint32_t a = 0; a < RVM_AGENT_MAX; a++)
			if (part[a] == p)
				list[n++] = a;
	}
	for (uint32_t i = 0; i < n; i++) {
		if ((rc = agent_at(run, ar, list[i], seq, &ag->st[ag->n])) != 0)
			return rc;
		if (ag->st[ag->n].alive)
			ag->n++;
	}
	return 0;
}

/* Regions of p at seq, then its agents (ar: the run's agent journal, or NULL), and the digest. */
static int rebuild(struct run *run, struct space *sp, struct ar_run *ar, uint32_t p, uint64_t seq,
		   struct rvm_replay_stats *st, struct agents *ag, uint8_t digest[32])
{
	struct rvm_replay_source src = {src_record, src_payload, src_checkpoint, run};
	bool group = run->rec[seq].action == RVM_ACT_STATE_DIGEST && run->rec[seq].target == p;
	enum rvm_err err;
	int rc;

	space_reset(sp);
	memset(st, 0, sizeof(*st));
	err = rvm_replay_rebuild(&sp->ck, &src, run->nrec, p, seq, st);
	if (err == RVM_OK && (rc = agents_rebuild(run, ar, p, seq, group, ag)) != 0)
		return rc;
	if (err == RVM_OK)
		err = rvm_partition_digest(&sp->s, p, agents_cb, ag, digest);
	if (err != RVM_OK) {
		fprintf(stderr, "rvm replay: %s: partition %u at seq %" PRIu64 ": %s\n",
			rvm_err_name(err), p, seq, rvm_err_str(err));
		return err == RVM_E_CORRUPT ? 1 : 2;
	}
	return 0;
}

static void show_agent(const struct opts *o, const struct agent_state *a, bool first)
{
	char mh[65], sh[65];

	rvm_tool_hex(a->mem, 32, mh);
	rvm_tool_hex(a->state, 32, sh);
	if (o->json) {
		printf("%s{\"agent\": %u, \"life_seq\": %" PRIu64 ", \"from_checkpoint\": \"%016" PRIx64
		       "\", \"at_seq\": %" PRIu64 ", \"at_start\": %s, \"fuel\": %" PRIu64
		       ", \"memory_sha256\": \"%s\", \"state\": \"%s\", \"live\": \"%s\"}",
		       first ? "" : ", ", a->agent, a->life_seq, a->from_ckpt, a->point_seq,
		       a->at_start ? "true" : "false", a->fuel, mh, sh,
		       a->at_start ? "none" : a->match ? "match" : "differs");
		return;
	}
	if (a->at_start) {
		printf("  agent %3u life from seq %" PRIu64 " (from %s%.16" PRIx64
		       "), no recorded point yet: its start state, memory sha256 %s\n",
		       a->agent, a->life_seq, a->from_ckpt ? "checkpoint " : "its module",
		       a->from_ckpt ? a->from_ckpt : 0, mh);
		return;
	}
	if (!a->has_point) {
		printf("  agent %3u life from seq %" PRIu64 ": no recorded point of it yet\n",
		       a->agent, a->life_seq);
		return;
	}
	printf("  agent %3u life from seq %" PRIu64 ", replayed from %s%.16" PRIx64
	       ", at its digest seq %" PRIu64 ": fuel %" PRIu64 " memory sha256 %s (live: %s)\n",
	       a->agent, a->life_seq, a->from_ckpt ? "checkpoint " : "its module",
	       a->from_ckpt ? a->from_ckpt : 0, a->point_seq, a->fuel, mh,
	       a->match ? "match" : "DIFFERS");
	if (o->check)
		return;
	printf("            state digest %s\n", sh);
}

static int show(const struct opts *o, struct run *run, struct space *sp, struct ar_run *ar)
{
	static struct agents ag;
	struct rvm_replay_stats st;
	uint8_t d[32], live[16];
	char dh[65], rh[65];
	int rc = rebuild(run, sp, ar, o->partition, o->seq, &st, &ag, d), n = 0;
	bool has_live, agents_ok = true;

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
	if (o->json)
		printf("], \"agents\": [");
	for (uint32_t i = 0; i < ag.n; i++) {
		show_agent(o, &ag.st[i], i == 0);
		agents_ok &= !ag.st[i].has_point || ag.st[i].match;
	}
	if (o->json) {
		printf("], \"digest\": \"%s\", \"live\": %s}\n", dh,
		       !has_live ? "null"
				 : (memcmp(live, d, 16) != 0 ? "\"differs\"" : "\"match\""));
	} else {
		if (!ar)
			printf("  agents: none in this run's journal\n");
		printf("  digest %s\n", dh);
		if (has_live)
			printf("  live digest recorded at this seq: %s\n",
			       memcmp(live, d, 16) != 0 ? "DIFFERS" : "match");
	}
	return (has_live && memcmp(live, d, 16) != 0) || !agents_ok ? 1 : 0;
}

/* Every recovery.digest record of the partition, rebuilt (regions and agents) and compared. */
static int check_all(const struct opts *o, struct run *run, struct space *sp, struct ar_run *ar)
{
	static struct agents ag;
	uint64_t checked = 0, bad = 0, agents = 0;

	for (uint64_t s = 0; s < run->nrec; s++) {
		struct rvm_replay_stats st;
		uint8_t live[16], d[32];
		int rc;

		if (!live_digest(run, s, o->partition, live))
			continue;
		rc = rebuild(run, sp, ar, o->partition, s, &st, &ag, d);
		if (rc)
			return rc;
		checked++;
		agents += ag.n;
		if (memcmp(live, d, 16) != 0) {
			bad++;
			printf("seq %" PRIu64 ": replay digest differs from the live one\n", s);
			for (uint32_t i = 0; i < ag.n; i++)
				show_agent(o, &ag.st[i], i == 0);
		}
	}
	printf("partition %u: %" PRIu64 " live digests checked (%" PRIu64
	       " agent states rebuilt), %" PRIu64 " differ\n",
	       o->partition, checked, agents, bad);
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
	static struct ar_run ar;
	struct ar_run *arp = NULL;
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
	/* Agents, when the journal holds any (rvm run): replayed from their journal. */
	if (rc == 0 && run.jbuf && ar_open(&ar, o.dir) == 0 &&
	    ar.kinds[RVM_JK_START] + ar.kinds[RVM_JK_RESUME] > 0)
		arp = &ar;
	if (rc == 0)
		rc = o.check ? check_all(&o, &run, &sp, arp) : show(&o, &run, &sp, arp);
	ar_close(&ar);
	free(run.rec);
	free(run.jbuf);
	free(run.jent);
	free(run.ckbuf);
	return rc;
}
