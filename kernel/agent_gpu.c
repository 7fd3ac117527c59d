/* kernel/agent_gpu.c - the rvm.gpu_* host functions: an agent's GPU calls, gated, budgeted, witnessed
 * and journaled. */
#include <rvm/bytes.h>
#include <rvm/world.h>

#include "agent_priv.h"
#include "kernel_gpu.h"

#if RVM_AGENT_GPU_IMPORTS > 0

#if defined(RVM_HAS_GPU)
#include <rvm/gpu.h>
#endif

static const uint8_t t_i32[] = {RVM_WASM_I32};
static const uint8_t t_i64[] = {RVM_WASM_I64};
static const uint8_t t_i64i64[] = {RVM_WASM_I64, RVM_WASM_I64};
static const uint8_t t_xfer[] = {RVM_WASM_I64, RVM_WASM_I64, RVM_WASM_I32, RVM_WASM_I32};
static const uint8_t t_kernel[] = {RVM_WASM_I64, RVM_WASM_I32, RVM_WASM_I32, RVM_WASM_I32,
				   RVM_WASM_I32};
static const uint8_t t_i32i32[] = {RVM_WASM_I32, RVM_WASM_I32};

const struct rvm_wasm_functype rvm_agent_ft_gpu_out = {1, 1, t_i32, t_i32};
const struct rvm_wasm_functype rvm_agent_ft_gpu_alloc = {2, 1, t_i64i64, t_i64};
const struct rvm_wasm_functype rvm_agent_ft_gpu_free = {1, 1, t_i64, t_i32};
const struct rvm_wasm_functype rvm_agent_ft_gpu_xfer = {4, 1, t_xfer, t_i32};
const struct rvm_wasm_functype rvm_agent_ft_gpu_queue = {1, 1, t_i64, t_i64};
const struct rvm_wasm_functype rvm_agent_ft_gpu_kernel = {5, 1, t_kernel, t_i64};
const struct rvm_wasm_functype rvm_agent_ft_gpu_launch = {2, 1, t_i32i32, t_i32};

/* The agent's memory range [p, p + n), or NULL when it leaves the memory (a trap). */
static uint8_t *span(struct rvm_wasm_instance *inst, uint64_t p, uint64_t n)
{
	struct rvm_wasm_memory *m = rvm_wasm_instance_memory(inst);

	if (!m || p > m->size || n > m->size - p)
		return NULL;
	return m->data + p;
}

/* What the agent sees: 0 or a value, or -(enum rvm_err) for a refusal. */
static int64_t code(enum rvm_err e)
{
	return e == RVM_OK ? 0 : -(int64_t)e;
}

/*
 * Journals a call's result and the n bytes it wrote at out (chunks of RVM_JOURNAL_GPU_CHUNK,
 * each entry repeating the result), so replay hands the agent the same. Lock held.
 */
static enum rvm_err journal(struct rvm_agent *a, enum rvm_agent_gpu_op op, int64_t result,
			    const uint8_t *out, uint32_t n)
{
	uint8_t b[RVM_JOURNAL_MAX_PAYLOAD];
	uint32_t done = 0;
	enum rvm_err e;

	rvm_store_le64(b, (uint64_t)result);
	do {
		uint32_t k = n - done < RVM_JOURNAL_GPU_CHUNK ? n - done : RVM_JOURNAL_GPU_CHUNK;

		if (k)
			rvm_memcpy(b + 8, out + done, k);
		if ((e = rvm_agent_journal(a, RVM_JK_GPU, op, b, 8 + k)) != RVM_OK)
			return e;
		done += k;
	} while (done < n);
	return RVM_OK;
}

/* Hands the result to the agent once it is journaled; a journal that fails is a trap. */
static enum rvm_wasm_trap finish(struct rvm_agent *a, enum rvm_agent_gpu_op op, int64_t result,
				 const uint8_t *out, uint32_t n, uint64_t *s, bool wide)
{
	enum rvm_err e = journal(a, op, result, out, n);

	rvm_kernel_unlock(a->w->k);
	if (e != RVM_OK)
		return RVM_WASM_TRAP_HOST;
	s[0] = wide ? (uint64_t)result : (uint32_t)result;
	return RVM_WASM_TRAP_NONE;
}

#if defined(RVM_HAS_GPU)
/*
 * The GPU space with a context for a's partition, or NULL after a witnessed refusal: no GPU
 * in this kernel, or no grant for the partition (GATE_DENIED, arg0 the attempted action).
 */
static struct rvm_gpu_space *space(struct rvm_agent *a, uint16_t action, enum rvm_err *err)
{
	struct rvm_gpu_space *s = a->w->gpu;

	if (s && rvm_gpu_context_of(s, a->part))
		return s;
	*err = rvm_gate_refuse(&a->w->gate, RVM_ACT_GATE_DENIED, a->part, a->num, action,
			       s ? RVM_E_PERM : RVM_E_UNSUPPORTED);
	return NULL;
}

/* A cap handed to the agent as a non-negative i64 (generations stay far below 2^31). */
static int64_t cap_result(enum rvm_err e, rvm_cap_t cap)
{
	if (e != RVM_OK)
		return code(e);
	return cap <= (uint64_t)INT64_MAX ? (int64_t)cap : code(RVM_E_OVERFLOW);
}

/* The cap one of a's names stands for; a name that is not a's (or freed) is a witnessed
 * refusal (GATE_DENIED, arg0 the attempted action). */
static enum rvm_err unname(struct rvm_agent *a, uint16_t action, uint64_t name, rvm_cap_t *cap)
{
	enum rvm_err e = rvm_agent_gpu_lookup(a, name, cap);

	if (e != RVM_OK)
		return rvm_gate_refuse(&a->w->gate, RVM_ACT_GATE_DENIED, a->part, a->num, action, e);
	return RVM_OK;
}

/* Room for one more name, before anything is made (a full table: witnessed RVM_E_NOMEM). */
static enum rvm_err name_room(struct rvm_agent *a, uint16_t action)
{
	if (rvm_agent_gpu_room(a))
		return RVM_OK;
	return rvm_gate_refuse(&a->w->gate, RVM_ACT_GATE_DENIED, a->part, a->num, action,
			       RVM_E_NOMEM);
}

/* A new object's cap becomes a name of a's (room was checked: cannot fail). */
static int64_t name_result(struct rvm_agent *a, enum rvm_err e, uint8_t type, rvm_cap_t cap,
			   uint64_t size)
{
	uint64_t name = 0;

	if (e == RVM_OK)
		e = rvm_agent_gpu_name(a, type, cap, size, &name);
	return cap_result(e, name);
}

/* The name of a's for its partition's device or context: the one it has, or a new one. */
static enum rvm_err own_name(struct rvm_agent *a, uint8_t type, uint64_t *name)
{
	for (uint32_t i = 0; i < RVM_AGENT_GPU_HANDLES; i++)
		if (a->gpu.h[i].type == type) {
			*name = (uint64_t)a->gpu.h[i].gen << 32 | (uint64_t)(a->num & 0xffffu) << 16 |
				(i + 1u);
			return RVM_OK;
		}
	return rvm_agent_gpu_name(a, type, RVM_CAP_NULL, 0, name);
}
#endif

/* Common entry: init may not call the host (a trap). Takes the lock. */
static bool enter(struct rvm_agent *a)
{
	if (a->initialising)
		return false;
	rvm_kernel_lock(a->w->k);
	return true;
}

enum rvm_wasm_trap rvm_agent_h_gpu_open(void *ctx, struct rvm_wasm_instance *inst, uint64_t *s)
{
	struct rvm_agent *a = ctx;
	uint8_t *out = span(inst, (uint32_t)s[0], RVM_AGENT_GPU_OPEN_BYTES);
	uint8_t b[RVM_AGENT_GPU_OPEN_BYTES] = {0};
	enum rvm_err e = RVM_E_UNSUPPORTED;

	if (!out || !enter(a))
		return RVM_WASM_TRAP_HOST;
#if defined(RVM_HAS_GPU)
	struct rvm_gpu_space *gs = space(a, RVM_ACT_GPU_ATTACH, &e);

	uint64_t dev, cn;

	/* Names, not caps: they stay good when a split or merge moves the partition's caps. */
	if (gs && ((e = own_name(a, RVM_OBJ_GPU, &dev)) != RVM_OK ||
		   (e = own_name(a, RVM_OBJ_GPU_CONTEXT, &cn)) != RVM_OK))
		e = rvm_gate_refuse(&a->w->gate, RVM_ACT_GATE_DENIED, a->part, a->num,
				    RVM_ACT_GPU_ATTACH, e);
	else if (gs) {
		rvm_store_le64(b, dev);
		rvm_store_le64(b + 8, cn);
		rvm_memcpy(out, b, sizeof(b));
		e = RVM_OK;
	}
#endif
	return finish(a, RVM_AGPU_OPEN, code(e), b, e == RVM_OK ? sizeof(b) : 0, s, false);
}

enum rvm_wasm_trap rvm_agent_h_gpu_alloc(void *ctx, struct rvm_wasm_instance *inst, uint64_t *s)
{
	struct rvm_agent *a = ctx;
	int64_t r = code(RVM_E_UNSUPPORTED);

	(void)inst;
	if (!enter(a))
		return RVM_WASM_TRAP_HOST;
#if defined(RVM_HAS_GPU)
	enum rvm_err e;
	struct rvm_gpu_space *gs = space(a, RVM_ACT_GPU_ALLOC, &e);
	rvm_cap_t buf = 0, cx;

	if (gs && (e = unname(a, RVM_ACT_GPU_ALLOC, s[0], &cx)) == RVM_OK &&
	    (e = name_room(a, RVM_ACT_GPU_ALLOC)) == RVM_OK)
		e = rvm_gpu_alloc(gs, a->part, cx, s[1], &buf);
	r = name_result(a, e, RVM_OBJ_GPU_BUFFER, buf, s[1]);
#endif
	return finish(a, RVM_AGPU_ALLOC, r, NULL, 0, s, true);
}

enum rvm_wasm_trap rvm_agent_h_gpu_free(void *ctx, struct rvm_wasm_instance *inst, uint64_t *s)
{
	struct rvm_agent *a = ctx;
	enum rvm_err e = RVM_E_UNSUPPORTED;

	(void)inst;
	if (!enter(a))
		return RVM_WASM_TRAP_HOST;
#if defined(RVM_HAS_GPU)
	struct rvm_gpu_space *gs = space(a, RVM_ACT_GPU_FREE, &e);

	rvm_cap_t cap;

	if (gs && (e = unname(a, RVM_ACT_GPU_FREE, s[0], &cap)) == RVM_OK &&
	    (e = rvm_gpu_free(gs, a->part, cap)) == RVM_OK)
		rvm_agent_gpu_forget(a, s[0]);
#endif
	return finish(a, RVM_AGPU_FREE, code(e), NULL, 0, s, false);
}

/* gpu_write and gpu_read: the agent's bytes are checked before anything else (a trap). */
static enum rvm_wasm_trap xfer(struct rvm_agent *a, struct rvm_wasm_instance *inst, uint64_t *s,
			       bool write)
{
	uint32_t len = (uint32_t)s[3];
	uint8_t *p = span(inst, (uint32_t)s[2], len);
	enum rvm_err e = RVM_E_UNSUPPORTED;

	if (!p || !enter(a))
		return RVM_WASM_TRAP_HOST;
#if defined(RVM_HAS_GPU)
	struct rvm_gpu_space *gs = space(a, RVM_ACT_GPU_TRANSFER, &e);

	rvm_cap_t buf;

	if (gs && (e = unname(a, RVM_ACT_GPU_TRANSFER, s[0], &buf)) != RVM_OK)
		gs = NULL;
	if (gs && write)
		e = rvm_gpu_write(gs, a->part, buf, s[1], p, len);
	else if (gs)
		e = rvm_gpu_read(gs, a->part, buf, s[1], p, len);
#endif
	if (write)
		return finish(a, RVM_AGPU_WRITE, code(e), NULL, 0, s, false);
	/* What a read put into the agent's memory is an input: journaled with the result. */
	return finish(a, RVM_AGPU_READ, code(e), p, e == RVM_OK ? len : 0, s, false);
}

enum rvm_wasm_trap rvm_agent_h_gpu_write(void *ctx, struct rvm_wasm_instance *inst, uint64_t *s)
{
	return xfer(ctx, inst, s, true);
}

enum rvm_wasm_trap rvm_agent_h_gpu_read(void *ctx, struct rvm_wasm_instance *inst, uint64_t *s)
{
	return xfer(ctx, inst, s, false);
}

enum rvm_wasm_trap rvm_agent_h_gpu_queue(void *ctx, struct rvm_wasm_instance *inst, uint64_t *s)
{
	struct rvm_agent *a = ctx;
	int64_t r = code(RVM_E_UNSUPPORTED);

	(void)inst;
	if (!enter(a))
		return RVM_WASM_TRAP_HOST;
#if defined(RVM_HAS_GPU)
	enum rvm_err e;
	struct rvm_gpu_space *gs = space(a, RVM_ACT_GPU_QUEUE, &e);
	rvm_cap_t q = 0, cx;

	if (gs && (e = unname(a, RVM_ACT_GPU_QUEUE, s[0], &cx)) == RVM_OK &&
	    (e = name_room(a, RVM_ACT_GPU_QUEUE)) == RVM_OK)
		e = rvm_gpu_queue(gs, a->part, cx, &q);
	r = name_result(a, e, RVM_OBJ_GPU_QUEUE, q, 0);
#endif
	return finish(a, RVM_AGPU_QUEUE, r, NULL, 0, s, true);
}

#if defined(RVM_HAS_GPU)
/* A kernel name: 1..RVM_AGENT_GPU_NAME_MAX bytes, no NUL inside. */
static bool name_ok(const uint8_t *name, uint32_t n)
{
	if (n == 0 || n > RVM_AGENT_GPU_NAME_MAX)
		return false;
	for (uint32_t i = 0; i < n; i++)
		if (name[i] == 0)
			return false;
	return true;
}
#endif

enum rvm_wasm_trap rvm_agent_h_gpu_kernel(void *ctx, struct rvm_wasm_instance *inst, uint64_t *s)
{
	struct rvm_agent *a = ctx;
	uint32_t src_len = (uint32_t)s[2], name_len = (uint32_t)s[4];
	const uint8_t *src = span(inst, (uint32_t)s[1], src_len);
	const uint8_t *name = span(inst, (uint32_t)s[3], name_len);
	int64_t r = code(RVM_E_UNSUPPORTED);

	if (!src || !name || !enter(a))
		return RVM_WASM_TRAP_HOST;
#if defined(RVM_HAS_GPU)
	enum rvm_err e;
	struct rvm_gpu_space *gs = space(a, RVM_ACT_GPU_KERNEL, &e);
	char nm[RVM_AGENT_GPU_NAME_MAX + 1];
	rvm_cap_t k = 0, cx;

	if (gs && !name_ok(name, name_len)) {
		e = rvm_gate_refuse(&a->w->gate, RVM_ACT_GATE_DENIED, a->part, a->num,
				    RVM_ACT_GPU_KERNEL, RVM_E_RANGE);
	} else if (gs && (e = unname(a, RVM_ACT_GPU_KERNEL, s[0], &cx)) == RVM_OK &&
		   (e = name_room(a, RVM_ACT_GPU_KERNEL)) == RVM_OK) {
		rvm_memcpy(nm, name, name_len);
		nm[name_len] = 0;
		e = rvm_gpu_kernel(gs, a->part, cx, (const char *)src, src_len, nm, &k);
	}
	r = name_result(a, e, RVM_OBJ_GPU_KERNEL, k, 0);
#endif
	return finish(a, RVM_AGPU_KERNEL, r, NULL, 0, s, true);
}

enum rvm_wasm_trap rvm_agent_h_gpu_launch(void *ctx, struct rvm_wasm_instance *inst, uint64_t *s)
{
	struct rvm_agent *a = ctx;
	uint32_t len = (uint32_t)s[1];
	const uint8_t *p = span(inst, (uint32_t)s[0], len);
	enum rvm_err e = RVM_E_UNSUPPORTED;

	if (!p || !enter(a))
		return RVM_WASM_TRAP_HOST;
#if defined(RVM_HAS_GPU)
	struct rvm_gpu_space *gs = space(a, RVM_ACT_GPU_LAUNCH, &e);
	struct rvm_gpu_launch_req req;

	if (gs && ((e = rvm_gpu_wire_decode(p, len, &req)) != RVM_OK ||
		   (e = rvm_agent_gpu_unname_req(a, &req)) != RVM_OK))
		(void)rvm_gate_refuse(&a->w->gate, RVM_ACT_GATE_DENIED, a->part, a->num,
				      RVM_ACT_GPU_LAUNCH, e);
	else if (gs)
		e = rvm_gpu_launch(gs, a->part, &req);
#endif
	return finish(a, RVM_AGPU_LAUNCH, code(e), NULL, 0, s, false);
}

enum rvm_wasm_trap rvm_agent_h_gpu_budget(void *ctx, struct rvm_wasm_instance *inst, uint64_t *s)
{
	struct rvm_agent *a = ctx;
	uint8_t *out = span(inst, (uint32_t)s[0], RVM_AGENT_GPU_BUDGET_BYTES);
	uint8_t b[RVM_AGENT_GPU_BUDGET_BYTES] = {0};
	enum rvm_err e = RVM_E_UNSUPPORTED;

	if (!out || !enter(a))
		return RVM_WASM_TRAP_HOST;
#if defined(RVM_HAS_GPU)
	struct rvm_gpu_space *gs = space(a, RVM_ACT_GPU_EPOCH, &e);

	if (gs) {
		const struct rvm_gpu_budget *bu = &rvm_gpu_context_of(gs, a->part)->budget;

		for (unsigned d = 0; d < RVM_GPU_DIM_COUNT; d++) {
			rvm_store_le64(b + 8 * d, bu->limit[d]);
			rvm_store_le64(b + 32 + 8 * d, bu->used[d]);
		}
		rvm_memcpy(out, b, sizeof(b));
		e = RVM_OK;
	}
#endif
	return finish(a, RVM_AGPU_BUDGET, code(e), b, e == RVM_OK ? sizeof(b) : 0, s, false);
}

#endif
