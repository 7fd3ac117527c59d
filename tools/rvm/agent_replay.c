/* tools/rvm/agent_replay.c - re-running swarm agents from a run directory's journal and
 * checkpoints: the replay host functions, lives, and the digest checks. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rvm/bytes.h>
#include <rvm/checkpoint.h>
#include <rvm/kernel_recover.h>
#include <rvm/sha256.h>
#include <rvm/wasm.h>

#include "agent_replay.h"
#include "journal_gpu.h"

#define ARENA  (4u << 20)
#define MEMCAP (16u << 20)

struct replay {
	struct ar_life *l;
	uint64_t limit;	  /* entries with seq >= limit are not yet visible */
	uint32_t empties; /* polls answered -1 since the last message */
	uint32_t fails;	  /* sends answered -1 since the last journaled send */
	uint32_t oks;	  /* sends accepted since the last journaled send */
	uint32_t last_edge;
	uint32_t rights;
	bool bad;     /* the agent asked for an input the journal does not hold */
	bool yielded; /* like the live kernel: a yield suspends once */
	bool waiting; /* suspended in recv: no visible message */
	struct rvm_wasm_func imports[RVM_AGENT_IMPORTS];
	struct journal_gpu_src gpu; /* rvm.gpu_* answers (journal_gpu.c) */
};

static int push(struct ar_stream *s, const struct rvm_journal_entry *e)
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
static const struct rvm_journal_entry *peek(struct replay *r, struct ar_stream *s)
{
	return s->at < s->n && s->e[s->at]->seq < r->limit ? s->e[s->at] : NULL;
}

static uint8_t *span(struct rvm_wasm_instance *inst, uint64_t p, uint64_t n)
{
	struct rvm_wasm_memory *m = rvm_wasm_instance_memory(inst);

	return m && p <= m->size && n <= m->size - p ? m->data + p : NULL;
}

/*
 * Does the agent still have a visible input to consume before the digest? A RECV that only
 * counted empty polls, all answered, is used up (it is taken at the next receive).
 */
static bool inputs_left(struct replay *r)
{
	struct ar_stream *s = &r->l->recv;
	size_t at = s->at;

	if (at < s->n && s->e[at]->seq < r->limit && s->e[at]->aux == UINT32_MAX &&
	    r->empties >= rvm_load_le32(s->e[at]->payload))
		at++;
	if (at < s->n && s->e[at]->seq < r->limit)
		return true;
	return peek(r, &r->l->now) || peek(r, &r->l->spawn) || peek(r, &r->l->send) ||
	       peek(r, &r->l->gpu);
}

static enum rvm_wasm_trap r_send(void *ctx, struct rvm_wasm_instance *inst, uint64_t *s)
{
	struct replay *r = ctx;
	const struct rvm_journal_entry *e = peek(r, &r->l->send);
	int32_t res = 0;

	(void)inst;
	/* Every send before a digest is counted in an entry written before it: none visible,
	 * and this send came after (or recovery's replay went live here). Stop, as for recv. */
	if (!e) {
		r->waiting = true;
		return RVM_WASM_TRAP_SUSPEND;
	}
	/* Entry {accepted A, refused R, then}: A sends answered 0, R answered -1, then one
	 * answered `then` (-1: counts only, taken at a digest). */
	if (e->len == 12) {
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
	} else {
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
	/* Nothing the journal shows yet: live this call came after the digest (an empty poll
	 * before it would be counted in a visible entry), or it is where a replay during
	 * recovery went live: stop here, as the live agent did. */
	r->waiting = true;
	return RVM_WASM_TRAP_SUSPEND;
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
	if (!e) {
		r->waiting = true; /* after the digest, or where a recovery replay went live */
		return RVM_WASM_TRAP_SUSPEND;
	}
	if (e->len != 8) {
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
	if (!e) {
		r->waiting = true; /* after the digest, or where a recovery replay went live */
		return RVM_WASM_TRAP_SUSPEND;
	}
	if (e->len != 4) {
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

	*len = 0;
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)))
		*len = fread(buf, 1, (size_t)n, f);
	fclose(f);
	return buf;
}

int ar_open(struct ar_run *run, const char *dir)
{
	char path[4200];
	size_t off = RVM_JOURNAL_HEADER;
	enum rvm_err err;

	memset(run, 0, sizeof(*run));
	run->dir = dir;
	snprintf(path, sizeof(path), "%s/journal.log", dir);
	if (!(run->jbuf = read_all(path, &run->jlen))) {
		fprintf(stderr, "cannot read %s\n", path);
		return 2;
	}
	if ((err = rvm_journal_check_header(run->jbuf, run->jlen)) != RVM_OK) {
		fprintf(stderr, "%s: %s: %s\n", path, rvm_err_name(err), rvm_err_str(err));
		return 2;
	}
	run->ents = malloc((run->jlen / RVM_JOURNAL_HEAD + 1) * sizeof(*run->ents));
	if (!run->ents)
		return 2;
	while ((err = rvm_journal_next(run->jbuf, run->jlen, &off, &run->ents[run->count])) ==
	       RVM_OK) {
		const struct rvm_journal_entry *e = &run->ents[run->count];

		/* A batched entry has no hash of its own: its batch's record binds it. */
		if (!(e->flags & RVM_JOURNAL_F_BATCH) &&
		    rvm_journal_hash8(NULL, e->payload, e->len) != rvm_load_le64(e->hash8)) {
			if (!run->bad_hash++)
				run->first_bad = e->seq;
		}
		run->kinds[e->kind]++;
		run->count++;
	}
	run->end = err;
	for (uint32_t i = 0; i < RVM_AGENT_MODULES; i++) {
		snprintf(path, sizeof(path), "%s/modules/%u.wasm", dir, i);
		run->mod[i] = read_all(path, &run->modlen[i]);
	}
	run->mod_arena = malloc(ARENA);
	run->inst_arena = malloc(ARENA);
	run->mem = calloc(1, MEMCAP);
	run->raw = malloc(MEMCAP + ARENA);
	return run->mod_arena && run->inst_arena && run->mem && run->raw ? 0 : 2;
}

void ar_close(struct ar_run *run)
{
	for (uint32_t i = 0; i < RVM_AGENT_MODULES; i++)
		free(run->mod[i]);
	free(run->mod_arena);
	free(run->inst_arena);
	free(run->mem);
	free(run->raw);
	free(run->ckbuf);
	free(run->ents);
	free(run->jbuf);
	memset(run, 0, sizeof(*run));
}

void ar_life_free(struct ar_life *l)
{
	free(l->recv.e);
	free(l->now.e);
	free(l->spawn.e);
	free(l->send.e);
	free(l->digest.e);
	free(l->gpu.e);
	memset(l, 0, sizeof(*l));
}

int ar_life_collect(const struct ar_run *run, size_t i, struct ar_life *l)
{
	memset(l, 0, sizeof(*l));
	l->start = &run->ents[i];
	l->agent = l->start->agent;
	for (size_t j = i + 1; j < run->count; j++) {
		const struct rvm_journal_entry *e = &run->ents[j];
		struct ar_stream *s;

		if (e->agent != l->agent)
			continue;
		if (ar_is_start(e))
			break;
		s = e->kind == RVM_JK_RECV     ? &l->recv
		    : e->kind == RVM_JK_NOW    ? &l->now
		    : e->kind == RVM_JK_SPAWN  ? &l->spawn
		    : e->kind == RVM_JK_SEND   ? &l->send
		    : e->kind == RVM_JK_DIGEST ? &l->digest
		    : e->kind == RVM_JK_GPU    ? &l->gpu
					       : NULL;
		if (s && push(s, e))
			return 2;
	}
	return 0;
}

/* The checkpoint file id of the run, read and validated into run->ckbuf. */
static enum rvm_err load_ckpt(struct ar_run *run, uint64_t id, struct rvm_ckpt_view *v)
{
	char path[4200];

	free(run->ckbuf);
	snprintf(path, sizeof(path), "%s/checkpoints/%016llx.ckpt", run->dir,
		 (unsigned long long)id);
	if (!(run->ckbuf = read_all(path, &run->cklen)))
		return RVM_E_NOTFOUND;
	return rvm_checkpoint_parse(run->ckbuf, run->cklen, NULL, v);
}

/* Restores the agent's snapshot from checkpoint id into inst; fills the host-side state. */
static int from_snapshot(struct ar_run *run, uint32_t agent, uint64_t id,
			 struct rvm_wasm_instance *inst, struct replay *r)
{
	struct rvm_ckpt_view v;
	struct rvm_ckpt_agent ca;
	struct rvm_snapblob_info info;
	enum rvm_err err = load_ckpt(run, id, &v);

	if (err == RVM_OK && RVM_CKPT_ID(v.partition, v.seq) != id)
		err = RVM_E_CORRUPT;
	if (err == RVM_OK)
		err = rvm_ckpt_find_agent(&v, agent, &ca);
	if (err == RVM_OK)
		err = rvm_snapblob_decode(NULL, ca.snap, ca.len, run->raw, MEMCAP + ARENA, &info);
	if (err == RVM_OK)
		err = rvm_wasm_restore(inst, run->raw, (size_t)info.raw_len);
	if (err != RVM_OK) {
		printf("agent %u: snapshot in checkpoint %016" PRIx64 ": %s: %s\n", agent, id,
		       rvm_err_name(err), rvm_err_str(err));
		return -1;
	}
	r->yielded = (info.flags & RVM_SNAPBLOB_YIELDED) != 0;
	r->last_edge = info.last_edge;
	return 0;
}

/* Skips the entries of s before seq (consumed before the snapshot). */
static void skip_to(struct ar_stream *s, uint64_t seq)
{
	while (s->at < s->n && s->e[s->at]->seq < seq)
		s->at++;
}

int ar_replay(struct ar_run *run, struct ar_life *l, const struct ar_from *from, uint64_t upto,
	      ar_point_fn *fn, void *ctx)
{
	static struct replay r;
	const struct rvm_journal_entry *st = l->start;
	bool resume = st->kind == RVM_JK_RESUME;
	uint32_t mi = st->aux, n, agent = l->agent;
	size_t need = resume ? RVM_JOURNAL_RESUME_LEN : 32 + 8 * RVM_AGENT_ARGS + 4;
	const uint8_t *msha = resume ? st->payload + 8 : st->payload;
	struct rvm_wasm_extern ext[RVM_AGENT_IMPORTS], fn_ext;
	struct rvm_wasm_config cfg = {.memory = run->mem, .memory_cap = MEMCAP};
	struct rvm_wasm_module *m;
	struct rvm_wasm_instance *inst;
	struct rvm_wasm_error werr;
	struct ar_from start = {0, st->seq, 0};
	uint8_t sha[32];
	uint64_t used_total, args[RVM_AGENT_ARGS];
	int matched = 0;

	if (mi >= RVM_AGENT_MODULES || !run->mod[mi] || st->len != need) {
		printf("agent %u: %s at seq %" PRIu64 " names module %u, which the run directory "
		       "does not hold\n",
		       agent, resume ? "RESUME" : "START", st->seq, mi);
		return -1;
	}
	rvm_sha256(NULL, run->mod[mi], run->modlen[mi], sha);
	if (memcmp(sha, msha, 32) != 0) {
		printf("agent %u: module %u is not the one the run started (hash differs)\n", agent,
		       mi);
		return -1;
	}
	m = rvm_wasm_module_load(run->mod[mi], run->modlen[mi], run->mod_arena, ARENA, &werr);
	if (!m)
		return printf("agent %u: module %u: %s\n", agent, mi, werr.msg), -1;
	memset(&r, 0, sizeof(r));
	r.l = l;
	r.gpu.next = next_gpu;
	r.gpu.ctx = &r;
	r.rights = rvm_load_le32(resume ? st->payload + 40 : st->payload + 32 + 8 * RVM_AGENT_ARGS);
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
	memset(run->mem, 0, MEMCAP);
	inst = rvm_wasm_instantiate(m, ext, n, &cfg, run->inst_arena, ARENA, &werr, NULL);
	if (!inst)
		return printf("agent %u: instantiate: %s\n", agent, werr.msg), -1;
	if (resume)
		start.ckpt = rvm_load_le64(st->payload);
	if (from)
		start = *from;
	if (start.ckpt) {
		if (from_snapshot(run, agent, start.ckpt, inst, &r) != 0)
			return -1;
	} else {
		for (uint32_t i = 0; i < RVM_AGENT_ARGS; i++)
			args[i] = rvm_load_le64(st->payload + 32 + 8 * i);
		if (rvm_wasm_export(inst, "init", 4, &fn_ext)) {
			r.limit = 0; /* init sees no input */
			rvm_wasm_call(inst, fn_ext.u.func, args, RVM_AGENT_ARGS);
			if (rvm_wasm_run(inst, RVM_AGENT_INIT_FUEL, NULL) != RVM_WASM_DONE)
				return printf("agent %u: init did not finish\n", agent), -1;
		}
		if (!rvm_wasm_export(inst, "run", 3, &fn_ext) ||
		    rvm_wasm_call(inst, fn_ext.u.func, NULL, 0))
			return printf("agent %u: no run export\n", agent), -1;
	}
	used_total = start.fuel;
	l->recv.at = l->now.at = l->spawn.at = l->send.at = l->digest.at = l->gpu.at = 0;
	skip_to(&l->recv, start.seq);
	skip_to(&l->now, start.seq);
	skip_to(&l->spawn, start.seq);
	skip_to(&l->send, start.seq);
	skip_to(&l->digest, start.seq);
	skip_to(&l->gpu, start.seq);
	if (fn && (l->digest.at == l->digest.n || l->digest.e[l->digest.at]->seq > upto)) {
		/* No recorded point yet: the state the life started in. */
		struct rvm_wasm_memory *mm = rvm_wasm_instance_memory(inst);
		struct ar_point pt = { .digest = NULL, .fuel = used_total, .match = true };

		rvm_sha256(NULL, mm ? mm->data : run->mem, mm ? mm->size : 0, pt.mem);
		fn(ctx, agent, &pt);
	}
	for (size_t d = l->digest.at; d < l->digest.n && l->digest.e[d]->seq <= upto; d++) {
		const struct rvm_journal_entry *de = l->digest.e[d];
		uint64_t fuel = rvm_load_le64(de->payload), used = 0;
		struct rvm_wasm_memory *mm = rvm_wasm_instance_memory(inst);
		enum rvm_wasm_status stt = RVM_WASM_READY;
		struct ar_point pt;

		r.limit = de->seq;
		r.waiting = false;
		/* Fuel is charged ahead for a straight stretch of code: inputs consumed (and a
		 * trap) after the last charge need one more run at no new fuel; a run that has to
		 * charge again has gone past the digest, and the fuel check says so. */
		while (used_total < fuel || (used_total == fuel && inputs_left(&r))) {
			stt = rvm_wasm_run(inst, used_total < fuel ? fuel - used_total : 1, &used);
			used_total += used;
			if (stt == RVM_WASM_SUSPENDED && r.waiting && used == 0)
				break; /* waiting for a message the journal has not shown yet */
			r.waiting = false;
			if (stt != RVM_WASM_OUT_OF_FUEL && stt != RVM_WASM_SUSPENDED)
				break;
		}
		rvm_sha256(NULL, mm ? mm->data : run->mem, mm ? mm->size : 0, sha);
		r.bad |= r.gpu.bad;
		pt.digest = de;
		pt.fuel = used_total;
		memcpy(pt.mem, sha, 32);
		pt.match = used_total == fuel && memcmp(sha, de->payload + 8, 32) == 0 && !r.bad;
		if (fn)
			fn(ctx, agent, &pt);
		if (!pt.match) {
			printf("agent %u: MISMATCH at seq %" PRIu64 ": live fuel %" PRIu64
			       ", replay fuel %" PRIu64 " (status %d)%s%s\n",
			       agent, de->seq, fuel, used_total, (int)stt,
			       memcmp(sha, de->payload + 8, 32) ? ", memory differs" : "",
			       r.bad ? ", asked for an input the journal lacks" : "");
			return -1;
		}
		matched++;
	}
	return matched;
}
