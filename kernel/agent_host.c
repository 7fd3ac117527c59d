/* kernel/agent_host.c - the host functions agents import from module "rvm", each capability-gated. */
#include <rvm/bytes.h>
#include <rvm/world.h>

#include "agent_priv.h"
#include "recover_priv.h"

static const uint8_t t_i32[] = { RVM_WASM_I32, RVM_WASM_I32, RVM_WASM_I32 };
static const uint8_t t_i64[] = { RVM_WASM_I64 };

static const struct rvm_wasm_functype ft_send = { 3, 1, t_i32, t_i32 };
static const struct rvm_wasm_functype ft_i32i32_i32 = { 2, 1, t_i32, t_i32 };
static const struct rvm_wasm_functype ft_void = { 0, 0, t_i32, t_i32 };
static const struct rvm_wasm_functype ft_now = { 0, 1, t_i64, t_i64 };
static const struct rvm_wasm_functype ft_log = { 2, 0, t_i32, t_i32 };
static const struct rvm_wasm_functype ft_edge = { 0, 1, t_i32, t_i32 };

const struct rvm_agent_import_desc rvm_agent_imports[RVM_AGENT_IMPORTS] = {
	{ "send", &ft_send },	       { "recv", &ft_i32i32_i32 }, { "yield", &ft_void },
	{ "now", &ft_now },	       { "log", &ft_log },	   { "spawn", &ft_i32i32_i32 },
	{ "edge", &ft_edge },	       { "poll", &ft_i32i32_i32 },
	RVM_AGENT_GPU_IMPORT_DESCS
};

/* The agent's memory range [p, p + n), or NULL when it leaves the memory (a trap). */
static uint8_t *span(struct rvm_wasm_instance *inst, uint64_t p, uint64_t n)
{
	struct rvm_wasm_memory *m = rvm_wasm_instance_memory(inst);

	if (!m || p > m->size || n > m->size - p)
		return NULL;
	return m->data + p;
}

/* Host calls take the kernel lock, except in a replay, which recovery runs under it. */
static void enter(struct rvm_agent *a)
{
	if (!a->replay)
		rvm_kernel_lock(a->w->k);
}

static void leave(struct rvm_agent *a)
{
	if (!a->replay)
		rvm_kernel_unlock(a->w->k);
}

/* A call that must wait: for the next slice (a full tape) or, replaying, to be retried live. */
#define WAIT RVM_REPLAY_LIVE

/* P1 on the agent's own cap; a refusal is witnessed (CAP_DENIED) by the check. */
static bool allowed(struct rvm_agent *a, uint8_t right)
{
	return rvm_cap_check(&a->w->gate, a->part, a->cap, RVM_OBJ_AGENT, a->id, right) == RVM_OK;
}

enum rvm_err rvm_agent_journal_bind(struct rvm_agent *a)
{
	struct rvm_kernel *k = a->w->k;
	uint64_t seq, before = k->witness.next_seq;
	enum rvm_err err;

	if (!a->jb.count)
		return RVM_OK;
	err = rvm_witness_emit(&k->witness, RVM_ACT_HOSTCALL_BATCH, 0, a->part, a->num,
			       a->jb.count, rvm_journal_batch_hash8(&a->jb, k->plat), &seq);
	/* A failing periodic checkpoint after the record still leaves the record. */
	if (k->witness.next_seq == before)
		return err;
	rvm_tape_bound(a, seq);
	return rvm_journal_batch_commit(&a->w->journal, &a->jb, seq);
}

enum rvm_err rvm_agent_journal(struct rvm_agent *a, enum rvm_journal_kind kind, uint32_t aux,
			       const void *payload, uint32_t len)
{
	struct rvm_kernel *k = a->w->k;
	uint64_t seq, h;
	enum rvm_err err;

	if (kind != RVM_JK_START && kind != RVM_JK_DIGEST && kind != RVM_JK_RESUME) {
		err = rvm_journal_batch_add(&a->jb, a->num, kind, aux, payload, len);
		if (err == RVM_E_FULL && (err = rvm_agent_journal_bind(a)) == RVM_OK)
			err = rvm_journal_batch_add(&a->jb, a->num, kind, aux, payload, len);
		/* Live inputs go on the agent's tape too (a replay's are on it already). */
		if (err == RVM_OK)
			rvm_tape_record(a, kind, aux, payload, len, (uint8_t)(a->jb.count - 1));
		if (err != RVM_E_RANGE)
			return err;
	}
	/* A single entry: what was staged before it goes first, so the agent's inputs stay in
	 * order in the journal and each has a lower seq than the next. */
	if ((err = rvm_agent_journal_bind(a)) != RVM_OK)
		return err;
	h = rvm_journal_hash8(k->plat, payload, len);
	err = rvm_witness_emit(&k->witness, RVM_ACT_HOSTCALL, 0, a->part, a->num,
			       (uint64_t)kind << 32 | len, h, &seq);
	if (err != RVM_OK)
		return err;
	rvm_tape_record(a, kind, aux, payload, len, 0xff);
	rvm_tape_bound(a, seq);
	return rvm_journal_append(&a->w->journal, seq, a->num, kind, aux, payload, len);
}

static enum rvm_wasm_trap h_send(void *ctx, struct rvm_wasm_instance *inst, uint64_t *s)
{
	struct rvm_agent *a = ctx;
	uint32_t edge = (uint32_t)s[0], len = (uint32_t)s[2];
	uint8_t *p = span(inst, (uint32_t)s[1], len);
	int32_t r;

	if (a->initialising)
		return RVM_WASM_TRAP_HOST;

	if (!p || len > RVM_MSG_MAX)
		return RVM_WASM_TRAP_HOST;
	enter(a);
	if (a->replay)
		r = rvm_replay_send(a, edge, p, len);
	else if (a->fault_pending)
		r = -4; /* an injected fault: trap */
	else if (!rvm_tape_room(a, 12))
		r = WAIT;
	else if (!allowed(a, RVM_AGENT_RIGHT_SEND))
		r = -3;
	else if (edge >= a->nout)
		r = -2;
	else if ((r = rvm_chan_send(a, edge, p, len)) == 0)
		rvm_tape_sent(a, edge, p, len);
	if (r == WAIT || r == RVM_REPLAY_BAD) {
		leave(a);
		return r == WAIT ? RVM_WASM_TRAP_SUSPEND : RVM_WASM_TRAP_HOST;
	}
	/* Sends answered "full" are counted; the next other result is journaled with the count
	 * (a plain success after none is the default and costs nothing). */
	if (r == 0 && !a->refusals) {
		a->sends_ok++;
	} else if (r == -1) {
		a->refusals++;
	} else if (r == 0 || r == -2 || r == -3) {
		uint8_t b[12];

		rvm_store_le32(b, a->sends_ok);
		rvm_store_le32(b + 4, a->refusals);
		rvm_store_le32(b + 8, (uint32_t)r);
		if (rvm_agent_journal(a, RVM_JK_SEND, edge, b, 12) != RVM_OK)
			r = -4;
		a->sends_ok = a->refusals = 0;
	}
	leave(a);
	if (r == -4)
		return RVM_WASM_TRAP_HOST; /* the log or journal cannot take the record */
	s[0] = (uint32_t)r;
	return RVM_WASM_TRAP_NONE;
}

/* recv and poll: blocking decides what "nothing waiting" does. */
static enum rvm_wasm_trap do_recv(struct rvm_agent *a, struct rvm_wasm_instance *inst,
				  uint64_t *s, bool blocking)
{
	uint32_t cap = (uint32_t)s[1];
	uint8_t *p = span(inst, (uint32_t)s[0], cap);
	int32_t r;

	if (a->initialising || !p)
		return RVM_WASM_TRAP_HOST;
	enter(a);
	if (a->replay)
		r = rvm_replay_recv(a, p, cap, blocking);
	else if (a->fault_pending)
		r = -4; /* an injected fault: trap */
	else if (!rvm_tape_room(a, RVM_JOURNAL_RECV_PREFIX + RVM_MSG_MAX))
		r = WAIT;
	else if (!allowed(a, RVM_AGENT_RIGHT_RECV))
		r = -3;
	else if (blocking && !rvm_agent_has_mail(a))
		r = -5;
	else
		r = rvm_chan_recv(a, p, cap);
	/* Suspended: the retry happens once mail is there; nothing was consumed or written. */
	if (r == -5)
		a->waiting = true;
	leave(a);
	if (r == -5 || r == WAIT)
		return RVM_WASM_TRAP_SUSPEND;
	if (r == -4 || r == RVM_REPLAY_BAD)
		return RVM_WASM_TRAP_HOST;
	s[0] = (uint32_t)r;
	return RVM_WASM_TRAP_NONE;
}

static enum rvm_wasm_trap h_recv(void *ctx, struct rvm_wasm_instance *inst, uint64_t *s)
{
	return do_recv(ctx, inst, s, true);
}

static enum rvm_wasm_trap h_poll(void *ctx, struct rvm_wasm_instance *inst, uint64_t *s)
{
	return do_recv(ctx, inst, s, false);
}

static enum rvm_wasm_trap h_yield(void *ctx, struct rvm_wasm_instance *inst, uint64_t *s)
{
	struct rvm_agent *a = ctx;

	(void)inst;
	(void)s;
	/* The first call ends the slice; its retry, on the next slice, returns (replay does the
	 * same, so a digest taken while an agent sits in yield is reproduced exactly). */
	if (a->yielded) {
		a->yielded = false;
		return RVM_WASM_TRAP_NONE;
	}
	a->yielded = true;
	return RVM_WASM_TRAP_SUSPEND;
}

static enum rvm_wasm_trap h_now(void *ctx, struct rvm_wasm_instance *inst, uint64_t *s)
{
	struct rvm_agent *a = ctx;
	struct rvm_kernel *k = a->w->k;
	uint8_t b[8];
	uint64_t t;
	enum rvm_err err = RVM_OK;

	if (a->initialising)
		return RVM_WASM_TRAP_HOST;

	(void)inst;
	enter(a);
	if (a->replay) {
		int32_t r = rvm_replay_now(a, &t);

		if (r != 0) {
			leave(a);
			return r == WAIT ? RVM_WASM_TRAP_SUSPEND : RVM_WASM_TRAP_HOST;
		}
	} else if (!rvm_tape_room(a, 8)) {
		leave(a);
		return RVM_WASM_TRAP_SUSPEND;
	} else {
		t = rvm_platform_now_ns(k->plat) - k->boot_start_ns;
		if (!allowed(a, RVM_AGENT_RIGHT_TIME))
			t = 0; /* a denied clock reads zero (and the denial is witnessed) */
	}
	rvm_store_le64(b, t);
	err = rvm_agent_journal(a, RVM_JK_NOW, 0, b, 8);
	leave(a);
	if (err != RVM_OK)
		return RVM_WASM_TRAP_HOST;
	s[0] = t;
	return RVM_WASM_TRAP_NONE;
}

static enum rvm_wasm_trap h_log(void *ctx, struct rvm_wasm_instance *inst, uint64_t *s)
{
	struct rvm_agent *a = ctx;
	uint32_t len = (uint32_t)s[1];
	uint8_t *p = span(inst, (uint32_t)s[0], len);
	uint32_t n = len < sizeof(a->last_log) - 1 ? len : (uint32_t)sizeof(a->last_log) - 1;

	if (a->initialising)
		return RVM_WASM_TRAP_HOST;
	if (!p)
		return RVM_WASM_TRAP_HOST;
	if (a->replay)
		return RVM_WASM_TRAP_NONE; /* output, and it was shown live already */
	rvm_kernel_lock(a->w->k);
	if (allowed(a, RVM_AGENT_RIGHT_LOG)) {
		for (uint32_t i = 0; i < n; i++)
			a->last_log[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
		a->last_log[n] = 0;
		a->logs++;
	}
	rvm_kernel_unlock(a->w->k);
	return RVM_WASM_TRAP_NONE;
}

static enum rvm_wasm_trap h_spawn(void *ctx, struct rvm_wasm_instance *inst, uint64_t *s)
{
	struct rvm_agent *a = ctx;
	uint32_t len = (uint32_t)s[1];
	uint8_t *p = span(inst, (uint32_t)s[0], len);
	uint8_t b[4];
	int32_t r;
	uint32_t tmpl = RVM_AGENT_MODULES;
	enum rvm_err err;

	if (a->initialising)
		return RVM_WASM_TRAP_HOST;
	if (!p)
		return RVM_WASM_TRAP_HOST;
	enter(a);
	if (a->replay) {
		int32_t q = rvm_replay_spawn(a, &r, &tmpl);

		if (q != 0) {
			leave(a);
			return q == WAIT ? RVM_WASM_TRAP_SUSPEND : RVM_WASM_TRAP_HOST;
		}
	} else if (!rvm_tape_room(a, 4)) {
		leave(a);
		return RVM_WASM_TRAP_SUSPEND;
	} else {
		r = allowed(a, RVM_AGENT_RIGHT_SPAWN) ? rvm_agent_spawn_child(a, p, len, &tmpl) : -3;
	}
	rvm_store_le32(b, (uint32_t)r);
	err = rvm_agent_journal(a, RVM_JK_SPAWN, tmpl, b, 4);
	leave(a);
	if (err != RVM_OK)
		return RVM_WASM_TRAP_HOST;
	s[0] = (uint32_t)r;
	return RVM_WASM_TRAP_NONE;
}

static enum rvm_wasm_trap h_edge(void *ctx, struct rvm_wasm_instance *inst, uint64_t *s)
{
	struct rvm_agent *a = ctx;

	(void)inst;
	/* Not a new input: the edge of the last message is in its RECV journal entry. */
	s[0] = a->last_edge;
	return RVM_WASM_TRAP_NONE;
}

static rvm_wasm_host_fn *const host_fns[RVM_AGENT_IMPORTS] = {
	h_send, h_recv, h_yield, h_now, h_log, h_spawn, h_edge, h_poll,
	RVM_AGENT_GPU_HOST_FNS
};

/* A GPU call during a replay: the tape holds no GPU answers, so this is where it goes live. */
static enum rvm_wasm_trap h_other_replay(void *ctx, struct rvm_wasm_instance *inst, uint64_t *s)
{
	(void)inst;
	(void)s;
	return rvm_replay_other(ctx) == WAIT ? RVM_WASM_TRAP_SUSPEND : RVM_WASM_TRAP_HOST;
}

void rvm_agent_bind_replay(struct rvm_agent *a, bool on)
{
	for (uint32_t j = RVM_AGENT_BASE_IMPORTS; j < RVM_AGENT_IMPORTS; j++)
		if (a->imports[j].type)
			a->imports[j].host = on ? h_other_replay : host_fns[j];
}

static bool name_is(const char *s, uint32_t n, const char *want)
{
	return rvm_strlen(want) == n && rvm_memcmp(s, want, n) == 0;
}

enum rvm_err rvm_agent_link(struct rvm_agent *a, const struct rvm_wasm_module *m,
			    struct rvm_wasm_extern *ext, uint32_t cap, uint32_t *bad)
{
	uint32_t n = rvm_wasm_module_import_count(m);

	if (n > cap)
		return RVM_E_LINK;
	for (uint32_t i = 0; i < n; i++) {
		struct rvm_wasm_import_desc d;
		uint32_t j;

		rvm_wasm_module_import(m, i, &d);
		for (j = 0; j < RVM_AGENT_IMPORTS; j++)
			if (name_is(d.name, d.name_len, rvm_agent_imports[j].name))
				break;
		if (!name_is(d.module, d.module_len, "rvm") || d.kind != RVM_WASM_KIND_FUNC ||
		    j == RVM_AGENT_IMPORTS || !rvm_wasm_functype_eq(d.type, rvm_agent_imports[j].type)) {
			if (bad)
				*bad = i;
			return RVM_E_LINK;
		}
		rvm_wasm_host_func(&a->imports[j], rvm_agent_imports[j].type, host_fns[j], a);
		ext[i].kind = RVM_WASM_KIND_FUNC;
		ext[i].u.func = &a->imports[j];
	}
	return RVM_OK;
}
