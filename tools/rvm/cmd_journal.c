/* tools/rvm/cmd_journal.c - `rvm journal RUNDIR`: list a run's journal; --check replays every agent
 * from its journaled inputs and compares its memory with the digests recorded live. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rvm/agent.h>
#include <rvm/bytes.h>
#include <rvm/journal.h>
#include <rvm/sha256.h>
#include <rvm/wasm.h>

#include "cmd.h"
#include "journal_gpu.h"

#define ARENA (4u << 20)

struct stream {
	const struct rvm_journal_entry **e;
	size_t n, cap, at;
};

/* Everything replay needs for one agent's life, split by kind. */
struct life {
	const struct rvm_journal_entry *start;
	struct stream recv, now, spawn, send, digest, gpu;
};

struct replay {
	struct life *l;
	uint64_t limit;	    /* entries with seq >= limit are not yet visible */
	uint32_t empties;   /* polls answered -1 since the last message */
	uint32_t fails;	    /* sends answered -1 since the last journaled send */
	uint32_t oks;	    /* sends accepted since the last journaled send */
	uint32_t last_edge;
	uint32_t rights;
	bool bad;	    /* the agent asked for an input the journal does not hold */
	bool yielded;	    /* like the live kernel: a yield suspends once */
	bool waiting;	    /* suspended in recv: no visible message */
	struct rvm_wasm_func imports[RVM_AGENT_IMPORTS];
	struct journal_gpu_src gpu; /* rvm.gpu_* answers (journal_gpu.c) */
};

static int push(struct stream *s, const struct rvm_journal_entry *e)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		const struct rvm_journal_entry **p = realloc(s->e, cap * sizeof(*p));

		if (!p)
			return -1;
		s->e = p;
		s->cap = cap;
	}
	s->e[s->n++] = e;
	return 0;
}

/* The next entry of s if it is visible, else NULL. */
static const struct rvm_journal_entry *peek(struct replay *r, struct stream *s)
{
	return s->at < s->n && s->e[s->at]->seq < r->limit ? s->e[s->at] : NULL;
}

static uint8_t *span(struct rvm_wasm_instance *inst, uint64_t p, uint64_t n)
{
	struct rvm_wasm_memory *m = rvm_wasm_instance_memory(inst);

	return m && p <= m->size && n <= m->size - p ? m->data + p : NULL;
}

static enum rvm_wasm_trap r_send(void *ctx, struct rvm_wasm_instance *inst, uint64_t *s)
{
	struct replay *r = ctx;
	const struct rvm_journal_entry *e = peek(r, &r->l->send);
	int32_t res = 0;

	(void)inst;
	/* Entry {accepted A, refused R, then}: A sends answered 0, R answered -1, then one
	 * answered `then` (-1: counts only, taken at a digest). */
	if (e && e->len == 12) {
		uint32_t oks = rvm_load_le32(e->payload), refusals = rvm_load_le32(e->payload + 4);
		int32_t then = (int32_t)rvm_load_le32(e->payload + 8);
		bool used_up;

		if (r->oks < oks) {
			res = 0;
			used_up = ++r->oks == oks && refusals == 0 && then == -1;
		} else if (r->fails < refusals) {
			res = -1;
			used_up = ++r->fails == refusals && then == -1;
		} else {
			res = then;
			used_up = true;
		}
		if (used_up) {
			r->oks = r->fails = 0;
			r->l->send.at++;
		}
	} else if (e) {
		r->bad = true;
	}
	s[0] = (uint32_t)res;
	return RVM_WASM_TRAP_NONE;
}

static enum rvm_wasm_trap do_recv(struct replay *r, struct rvm_wasm_instance *inst, uint64_t *s,
				  bool blocking)
{
	const struct rvm_journal_entry *e;
	uint32_t cap = (uint32_t)s[1], polls, len;
	uint8_t *p = span(inst, (uint32_t)s[0], cap);

	if (!p)
		return RVM_WASM_TRAP_HOST;
	if (!(r->rights & RVM_AGENT_RIGHT_RECV)) {
		s[0] = (uint32_t)-3;
		return RVM_WASM_TRAP_NONE;
	}
	for (;;) {
		e = peek(r, &r->l->recv);
		if (!e)
			break;
		polls = rvm_load_le32(e->payload);
		if (!blocking && r->empties < polls) {
			r->empties++;
			s[0] = (uint32_t)-1;
			return RVM_WASM_TRAP_NONE;
		}
		if (e->aux == UINT32_MAX) { /* counted empty polls, no message: used up */
			r->l->recv.at++;
			r->empties = 0;
			continue;
		}
		len = e->len - RVM_JOURNAL_RECV_PREFIX;
		if (len)
			memcpy(p, e->payload + RVM_JOURNAL_RECV_PREFIX, len < cap ? len : cap);
		r->last_edge = e->aux;
		r->empties = 0;
		r->l->recv.at++;
		s[0] = len;
		return RVM_WASM_TRAP_NONE;
	}
	if (blocking) {
		r->waiting = true;
		return RVM_WASM_TRAP_SUSPEND; /* live it was waiting here too */
	}
	r->empties++;
	s[0] = (uint32_t)-1;
	return RVM_WASM_TRAP_NONE;
}

static enum rvm_wasm_trap r_recv(void *ctx, struct rvm_wasm_instance *inst, uint64_t *s)
{
	return do_recv(ctx, inst, s, true);
}

static enum rvm_wasm_trap r_poll(void *ctx, struct rvm_wasm_instance *inst, uint64_t *s)
{
	return do_recv(ctx, inst, s, false);
}

static enum rvm_wasm_trap r_yield(void *ctx, struct rvm_wasm_instance *inst, uint64_t *s)
{
	struct replay *r = ctx;

	(void)inst;
	(void)s;
	/* As live: the first call suspends, its retry returns. A digest taken while the live
	 * agent sat in yield then finds the replay at the same instruction. */
	if (r->yielded) {
		r->yielded = false;
		return RVM_WASM_TRAP_NONE;
	}
	r->yielded = true;
	return RVM_WASM_TRAP_SUSPEND;
}

static enum rvm_wasm_trap r_now(void *ctx, struct rvm_wasm_instance *inst, uint64_t *s)
{
	struct replay *r = ctx;
	const struct rvm_journal_entry *e = peek(r, &r->l->now);

	(void)inst;
	if (!e || e->len != 8) {
		r->bad = true;
		return RVM_WASM_TRAP_HOST;
	}
	s[0] = rvm_load_le64(e->payload);
	r->l->now.at++;
	return RVM_WASM_TRAP_NONE;
}

static enum rvm_wasm_trap r_log(void *ctx, struct rvm_wasm_instance *inst, uint64_t *s)
{
	(void)ctx;
	return span(inst, (uint32_t)s[0], (uint32_t)s[1]) ? RVM_WASM_TRAP_NONE : RVM_WASM_TRAP_HOST;
}

static enum rvm_wasm_trap r_spawn(void *ctx, struct rvm_wasm_instance *inst, uint64_t *s)
{
	struct replay *r = ctx;
	const struct rvm_journal_entry *e = peek(r, &r->l->spawn);

	if (!span(inst, (uint32_t)s[0], (uint32_t)s[1]))
		return RVM_WASM_TRAP_HOST;
	if (!e || e->len != 4) {
		r->bad = true;
		return RVM_WASM_TRAP_HOST;
	}
	s[0] = rvm_load_le32(e->payload);
	r->l->spawn.at++;
	return RVM_WASM_TRAP_NONE;
}

static enum rvm_wasm_trap r_edge(void *ctx, struct rvm_wasm_instance *inst, uint64_t *s)
{
	(void)inst;
	s[0] = ((struct replay *)ctx)->last_edge;
	return RVM_WASM_TRAP_NONE;
}

/* The next visible GPU entry, consumed. */
static const struct rvm_journal_entry *next_gpu(void *ctx)
{
	struct replay *r = ctx;
	const struct rvm_journal_entry *e = peek(r, &r->l->gpu);

	if (e)
		r->l->gpu.at++;
	return e;
}

/* In the order of rvm_agent_imports (kernel/agent_host.c); the GPU ones follow. */
static rvm_wasm_host_fn *const replay_fns[RVM_AGENT_BASE_IMPORTS] = {
	r_send, r_recv, r_yield, r_now, r_log, r_spawn, r_edge, r_poll,
};

static uint8_t *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)))
		*len = fread(buf, 1, (size_t)n, f);
	fclose(f);
	return buf;
}

struct modset {
	uint8_t *bytes[RVM_AGENT_MODULES];
	size_t len[RVM_AGENT_MODULES];
};

/* Replays one life; returns digests that matched, or -1 on a mismatch (reported). */
static int replay_life(const char *dir, struct modset *ms, uint32_t agent, struct life *l,
		       uint8_t *mod_arena, uint8_t *inst_arena, uint8_t *mem, uint64_t mem_cap,
		       bool verbose)
{
	static struct replay r;
	const struct rvm_journal_entry *st = l->start;
	uint32_t mi = st->aux, n;
	struct rvm_wasm_extern ext[RVM_AGENT_IMPORTS], fn;
	struct rvm_wasm_config cfg = { .memory = mem, .memory_cap = mem_cap };
	struct rvm_wasm_module *m;
	struct rvm_wasm_instance *inst;
	struct rvm_wasm_error werr;
	uint8_t sha[32];
	uint64_t used_total = 0, args[RVM_AGENT_ARGS];
	int matched = 0;

	(void)dir;
	if (mi >= RVM_AGENT_MODULES || !ms->bytes[mi] || st->len < 32 + 8 * RVM_AGENT_ARGS + 4) {
		printf("agent %u: START at seq %" PRIu64 " names module %u, which the run directory "
		       "does not hold\n",
		       agent, st->seq, mi);
		return -1;
	}
	rvm_sha256(NULL, ms->bytes[mi], ms->len[mi], sha);
	if (memcmp(sha, st->payload, 32) != 0) {
		printf("agent %u: module %u is not the one the run started (hash differs)\n", agent, mi);
		return -1;
	}
	m = rvm_wasm_module_load(ms->bytes[mi], ms->len[mi], mod_arena, ARENA, &werr);
	if (!m)
		return printf("agent %u: module %u: %s\n", agent, mi, werr.msg), -1;
	memset(&r, 0, sizeof(r));
	r.l = l;
	r.gpu.next = next_gpu;
	r.gpu.ctx = &r;
	r.rights = rvm_load_le32(st->payload + 32 + 8 * RVM_AGENT_ARGS);
	n = rvm_wasm_module_import_count(m);
	for (uint32_t i = 0; i < n && i < RVM_AGENT_IMPORTS; i++) {
		struct rvm_wasm_import_desc d;
		uint32_t j;

		rvm_wasm_module_import(m, i, &d);
		for (j = 0; j < RVM_AGENT_IMPORTS; j++)
			if (strlen(rvm_agent_imports[j].name) == d.name_len &&
			    !memcmp(rvm_agent_imports[j].name, d.name, d.name_len))
				break;
		if (j == RVM_AGENT_IMPORTS)
			return printf("agent %u: unknown import\n", agent), -1;
		if (j < RVM_AGENT_BASE_IMPORTS)
			rvm_wasm_host_func(&r.imports[j], rvm_agent_imports[j].type, replay_fns[j], &r);
#if RVM_AGENT_GPU_IMPORTS > 0
		else
			rvm_wasm_host_func(&r.imports[j], rvm_agent_imports[j].type,
					   journal_gpu_fns[j - RVM_AGENT_BASE_IMPORTS], &r.gpu);
#endif
		ext[i].kind = RVM_WASM_KIND_FUNC;
		ext[i].u.func = &r.imports[j];
	}
	memset(mem, 0, mem_cap);
	inst = rvm_wasm_instantiate(m, ext, n, &cfg, inst_arena, ARENA, &werr, NULL);
	if (!inst)
		return printf("agent %u: instantiate: %s\n", agent, werr.msg), -1;
	for (uint32_t i = 0; i < RVM_AGENT_ARGS; i++)
		args[i] = rvm_load_le64(st->payload + 32 + 8 * i);
	if (rvm_wasm_export(inst, "init", 4, &fn)) {
		r.limit = 0; /* init sees no input */
		rvm_wasm_call(inst, fn.u.func, args, RVM_AGENT_ARGS);
		if (rvm_wasm_run(inst, RVM_AGENT_INIT_FUEL, NULL) != RVM_WASM_DONE)
			return printf("agent %u: init did not finish\n", agent), -1;
	}
	if (!rvm_wasm_export(inst, "run", 3, &fn) || rvm_wasm_call(inst, fn.u.func, NULL, 0))
		return printf("agent %u: no run export\n", agent), -1;
	for (size_t d = 0; d < l->digest.n; d++) {
		const struct rvm_journal_entry *de = l->digest.e[d];
		uint64_t fuel = rvm_load_le64(de->payload), used = 0;
		struct rvm_wasm_memory *mm = rvm_wasm_instance_memory(inst);
		enum rvm_wasm_status stt = RVM_WASM_READY;

		r.limit = de->seq;
		r.waiting = false;
		while (used_total < fuel) {
			stt = rvm_wasm_run(inst, fuel - used_total, &used);
			used_total += used;
			if (stt == RVM_WASM_SUSPENDED && r.waiting && used == 0)
				break; /* waiting for a message the journal has not shown yet */
			r.waiting = false;
			if (stt != RVM_WASM_OUT_OF_FUEL && stt != RVM_WASM_SUSPENDED)
				break;
		}
		rvm_sha256(NULL, mm ? mm->data : mem, mm ? mm->size : 0, sha);
		r.bad |= r.gpu.bad;
		if (used_total != fuel || memcmp(sha, de->payload + 8, 32) != 0 || r.bad) {
			printf("agent %u: MISMATCH at seq %" PRIu64 ": live fuel %" PRIu64
			       ", replay fuel %" PRIu64 " (status %d)%s%s\n",
			       agent, de->seq, fuel, used_total, (int)stt,
			       memcmp(sha, de->payload + 8, 32) ? ", memory differs" : "",
			       r.bad ? ", asked for an input the journal lacks" : "");
			return -1;
		}
		if (verbose)
			printf("  agent %u seq %" PRIu64 ": fuel %" PRIu64 " memory digest matches\n",
			       agent, de->seq, fuel);
		matched++;
	}
	return matched;
}

static void free_life(struct life *l)
{
	free(l->recv.e);
	free(l->now.e);
	free(l->spawn.e);
	free(l->send.e);
	free(l->digest.e);
	free(l->gpu.e);
}

int rvm_cmd_journal(int argc, char **argv)
{
	const char *dir = NULL;
	bool check = false, verbose = false;
	long only = -1;
	char path[4200];
	uint8_t *buf, *mod_arena = NULL, *inst_arena = NULL, *mem = NULL;
	size_t len = 0, off = RVM_JOURNAL_HEADER, count = 0, kinds[RVM_JK_COUNT] = { 0 };
	struct rvm_journal_entry *ents = NULL;
	struct modset ms = { 0 };
	enum rvm_err err;
	int rc = 0;
	uint64_t digests = 0, lives = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--check"))
			check = true;
		else if (!strcmp(argv[i], "--verbose"))
			verbose = true;
		else if (!strcmp(argv[i], "--agent") && i + 1 < argc)
			only = strtol(argv[++i], NULL, 10);
		else if (argv[i][0] != '-' && !dir)
			dir = argv[i];
		else
			dir = NULL, i = argc;
	}
	if (!dir) {
		fprintf(stderr, "usage: rvm journal RUNDIR [--check] [--agent N] [--verbose]\n"
				"  Lists the journal of a run directory (rvm run). --check replays every\n"
				"  agent from its journaled inputs and compares its memory with each digest\n"
				"  the live kernel recorded (exit 1 on a mismatch).\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/journal.log", dir);
	if (!(buf = read_all(path, &len))) {
		fprintf(stderr, "rvm journal: cannot read %s\n", path);
		return 2;
	}
	if ((err = rvm_journal_check_header(buf, len)) != RVM_OK) {
		fprintf(stderr, "rvm journal: %s: %s: %s\n", path, rvm_err_name(err), rvm_err_str(err));
		free(buf);
		return 2;
	}
	ents = malloc((len / RVM_JOURNAL_HEAD + 1) * sizeof(*ents));
	while (ents && (err = rvm_journal_next(buf, len, &off, &ents[count])) == RVM_OK) {
		/* A batched entry has no hash of its own: its batch's record binds it. */
		if (!(ents[count].flags & RVM_JOURNAL_F_BATCH) &&
		    rvm_journal_hash8(NULL, ents[count].payload, ents[count].len) !=
			    rvm_load_le64(ents[count].hash8)) {
			printf("entry at seq %" PRIu64 ": payload does not match its hash\n",
			       ents[count].seq);
			rc = 1;
		}
		kinds[ents[count].kind]++;
		count++;
	}
	printf("rvm journal: %s: %zu entries (recv %zu, now %zu, spawn %zu, send %zu, start %zu, "
	       "digest %zu, gpu %zu)%s\n",
	       path, count, kinds[RVM_JK_RECV], kinds[RVM_JK_NOW], kinds[RVM_JK_SPAWN],
	       kinds[RVM_JK_SEND], kinds[RVM_JK_START], kinds[RVM_JK_DIGEST], kinds[RVM_JK_GPU],
	       err == RVM_E_TRUNCATED ? ", torn tail ignored" : "");
	if (err == RVM_E_CORRUPT) {
		printf("corrupt entry after %zu good ones\n", count);
		rc = 1;
	}
	/* Every entry against the record that binds it in the run's verified witness log. */
	if (check && rc == 0)
		rc = rvm_tool_journal_bind(dir, buf, len);
	if (check && rc == 0) {
		mod_arena = malloc(ARENA);
		inst_arena = malloc(ARENA);
		mem = calloc(1, 16u << 20);
		for (uint32_t i = 0; i < RVM_AGENT_MODULES; i++) {
			snprintf(path, sizeof(path), "%s/modules/%u.wasm", dir, i);
			ms.bytes[i] = read_all(path, &ms.len[i]);
		}
		/* Per agent, per life (START to the next START), in journal order. */
		for (uint32_t a = 0; a < RVM_AGENT_MAX && rc == 0; a++) {
			struct life l;
			bool in = false;

			if (only >= 0 && a != (uint32_t)only)
				continue;
			memset(&l, 0, sizeof(l));
			for (size_t i = 0; i <= count && rc == 0; i++) {
				const struct rvm_journal_entry *e = i < count ? &ents[i] : NULL;

				if (e && e->agent != a)
					continue;
				if (!e || e->kind == RVM_JK_START) {
					if (in && l.digest.n) {
						int got = replay_life(dir, &ms, a, &l, mod_arena,
								      inst_arena, mem, 16u << 20,
								      verbose);

						if (got < 0)
							rc = 1;
						else
							digests += (uint64_t)got, lives++;
					}
					free_life(&l);
					memset(&l, 0, sizeof(l));
					l.start = e;
					in = e != NULL;
					continue;
				}
				if (!in)
					continue;
				struct stream *s = e->kind == RVM_JK_RECV    ? &l.recv
						   : e->kind == RVM_JK_NOW   ? &l.now
						   : e->kind == RVM_JK_SPAWN ? &l.spawn
						   : e->kind == RVM_JK_SEND  ? &l.send
						   : e->kind == RVM_JK_GPU   ? &l.gpu
									     : &l.digest;
				if (push(s, e))
					rc = 2;
			}
			free_life(&l);
		}
		if (rc == 0)
			printf("replay: %" PRIu64 " digests over %" PRIu64 " agent lives match the live "
			       "run\n",
			       digests, lives);
		if (rc == 0 && digests == 0) {
			printf("replay: the journal holds no digests to check\n");
			rc = 1;
		}
	}
	for (uint32_t i = 0; i < RVM_AGENT_MODULES; i++)
		free(ms.bytes[i]);
	free(mod_arena);
	free(inst_arena);
	free(mem);
	free(ents);
	free(buf);
	return rc;
}
