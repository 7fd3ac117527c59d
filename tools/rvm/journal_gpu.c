/* tools/rvm/journal_gpu.c - replays rvm.gpu_* calls: each answers what the live call journaled. */
#include <string.h>

#include <rvm/bytes.h>

#include "journal_gpu.h"

#if RVM_AGENT_GPU_IMPORTS > 0

static uint8_t *span(struct rvm_wasm_instance *inst, uint64_t p, uint64_t n)
{
	struct rvm_wasm_memory *m = rvm_wasm_instance_memory(inst);

	return m && p <= m->size && n <= m->size - p ? m->data + p : NULL;
}

/*
 * Answers call op: the next entry must be op's. Copies the bytes the live call wrote into out
 * (a read spans several entries), sets the result. A missing or foreign entry is a trap with
 * src->bad set, as a live call the journal cannot explain.
 */
static enum rvm_wasm_trap answer(struct journal_gpu_src *src, uint32_t op, uint8_t *out,
				 uint32_t cap, uint64_t *s, bool wide)
{
	const struct rvm_journal_entry *e = src->next(src->ctx);
	uint32_t got = 0;
	int64_t result;

	if (!e || e->aux != op || e->len < 8)
		goto bad;
	result = (int64_t)rvm_load_le64(e->payload);
	for (;;) {
		uint32_t k = e->len - 8;

		if (k > cap - got)
			goto bad;
		if (k)
			memcpy(out + got, e->payload + 8, k);
		got += k;
		/* Only a read longer than one chunk continues in the next entry. */
		if (op != RVM_AGPU_READ || result != 0 || got == cap || k < RVM_JOURNAL_GPU_CHUNK)
			break;
		if (!(e = src->next(src->ctx)) || e->aux != op || e->len < 8 ||
		    (int64_t)rvm_load_le64(e->payload) != result)
			goto bad;
	}
	s[0] = wide ? (uint64_t)result : (uint32_t)result;
	return RVM_WASM_TRAP_NONE;
bad:
	src->bad = true;
	return RVM_WASM_TRAP_HOST;
}

static enum rvm_wasm_trap g_open(void *ctx, struct rvm_wasm_instance *inst, uint64_t *s)
{
	uint8_t *p = span(inst, (uint32_t)s[0], RVM_AGENT_GPU_OPEN_BYTES);

	return p ? answer(ctx, RVM_AGPU_OPEN, p, RVM_AGENT_GPU_OPEN_BYTES, s, false)
		 : RVM_WASM_TRAP_HOST;
}

static enum rvm_wasm_trap g_alloc(void *ctx, struct rvm_wasm_instance *inst, uint64_t *s)
{
	(void)inst;
	return answer(ctx, RVM_AGPU_ALLOC, NULL, 0, s, true);
}

static enum rvm_wasm_trap g_free(void *ctx, struct rvm_wasm_instance *inst, uint64_t *s)
{
	(void)inst;
	return answer(ctx, RVM_AGPU_FREE, NULL, 0, s, false);
}

static enum rvm_wasm_trap g_write(void *ctx, struct rvm_wasm_instance *inst, uint64_t *s)
{
	return span(inst, (uint32_t)s[2], (uint32_t)s[3])
		       ? answer(ctx, RVM_AGPU_WRITE, NULL, 0, s, false)
		       : RVM_WASM_TRAP_HOST;
}

static enum rvm_wasm_trap g_read(void *ctx, struct rvm_wasm_instance *inst, uint64_t *s)
{
	uint8_t *p = span(inst, (uint32_t)s[2], (uint32_t)s[3]);

	return p ? answer(ctx, RVM_AGPU_READ, p, (uint32_t)s[3], s, false) : RVM_WASM_TRAP_HOST;
}

static enum rvm_wasm_trap g_queue(void *ctx, struct rvm_wasm_instance *inst, uint64_t *s)
{
	(void)inst;
	return answer(ctx, RVM_AGPU_QUEUE, NULL, 0, s, true);
}

static enum rvm_wasm_trap g_kernel(void *ctx, struct rvm_wasm_instance *inst, uint64_t *s)
{
	return span(inst, (uint32_t)s[1], (uint32_t)s[2]) && span(inst, (uint32_t)s[3], (uint32_t)s[4])
		       ? answer(ctx, RVM_AGPU_KERNEL, NULL, 0, s, true)
		       : RVM_WASM_TRAP_HOST;
}

static enum rvm_wasm_trap g_launch(void *ctx, struct rvm_wasm_instance *inst, uint64_t *s)
{
	return span(inst, (uint32_t)s[0], (uint32_t)s[1])
		       ? answer(ctx, RVM_AGPU_LAUNCH, NULL, 0, s, false)
		       : RVM_WASM_TRAP_HOST;
}

static enum rvm_wasm_trap g_budget(void *ctx, struct rvm_wasm_instance *inst, uint64_t *s)
{
	uint8_t *p = span(inst, (uint32_t)s[0], RVM_AGENT_GPU_BUDGET_BYTES);

	return p ? answer(ctx, RVM_AGPU_BUDGET, p, RVM_AGENT_GPU_BUDGET_BYTES, s, false)
		 : RVM_WASM_TRAP_HOST;
}

rvm_wasm_host_fn *const journal_gpu_fns[RVM_AGENT_GPU_IMPORTS] = {
	g_open, g_alloc, g_free, g_write, g_read, g_queue, g_kernel, g_launch, g_budget,
};

#endif
