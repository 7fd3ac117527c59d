/* wasm/instance.c - instantiation (linking, segments, start), exports, calls and fuel. */
#include "internal.h"

const char *rvm_wasm_trap_str(enum rvm_wasm_trap trap)
{
	static const char *const s[RVM_WASM_TRAP_COUNT] = {
		"no trap",
		"unreachable executed",
		"out of bounds memory access",
		"out of bounds table access",
		"integer divide by zero",
		"integer overflow",
		"invalid conversion to integer",
		"undefined element",
		"uninitialized element",
		"indirect call type mismatch",
		"call stack exhausted",
		"call stack exhausted (call depth limit)",
		"host function trapped",
	};

	if (trap == RVM_WASM_TRAP_SUSPEND)
		return "host call suspended";
	return (unsigned)trap < RVM_WASM_TRAP_COUNT ? s[trap] : "unknown trap";
}

bool rvm_wasm_functype_eq(const struct rvm_wasm_functype *a, const struct rvm_wasm_functype *b)
{
	if (a == b)
		return true;
	if (a->nparams != b->nparams || a->nresults != b->nresults)
		return false;
	return (a->nparams == 0 || rvm_memcmp(a->params, b->params, a->nparams) == 0) &&
	       (a->nresults == 0 || rvm_memcmp(a->results, b->results, a->nresults) == 0);
}

void rvm_wasm_host_func(struct rvm_wasm_func *f, const struct rvm_wasm_functype *type,
			rvm_wasm_host_fn *fn, void *ctx)
{
	rvm_memset(f, 0, sizeof(*f));
	f->type = type;
	f->host = fn;
	f->host_ctx = ctx;
}

uint32_t rvm_wasm_module_import_count(const struct rvm_wasm_module *m)
{
	return m->nimports;
}

uint32_t rvm_wasm_module_export_count(const struct rvm_wasm_module *m)
{
	return m->nexports;
}

static void describe(const struct rvm_wasm_module *m, uint8_t kind, uint32_t index,
		     struct rvm_wasm_import_desc *out)
{
	out->kind = kind;
	switch (kind) {
	case RVM_WASM_KIND_FUNC:
		out->type = &m->types[m->func_type[index]];
		break;
	case RVM_WASM_KIND_TABLE:
		out->valtype = m->tables[index].type;
		out->min = m->tables[index].lim.min;
		out->max = m->tables[index].lim.max;
		out->has_max = m->tables[index].lim.has_max;
		break;
	case RVM_WASM_KIND_MEMORY:
		out->min = m->mem.min;
		out->max = m->mem.max;
		out->has_max = m->mem.has_max;
		break;
	default:
		out->valtype = m->globals[index].type;
		out->mut = m->globals[index].mut;
		break;
	}
}

void rvm_wasm_module_import(const struct rvm_wasm_module *m, uint32_t i,
			    struct rvm_wasm_import_desc *out)
{
	const struct wasm_import *im = &m->imports[i];

	rvm_memset(out, 0, sizeof(*out));
	out->module = im->module.s;
	out->module_len = im->module.len;
	out->name = im->name.s;
	out->name_len = im->name.len;
	describe(m, im->kind, im->kind == RVM_WASM_KIND_FUNC ? i : im->index, out);
	if (im->kind == RVM_WASM_KIND_FUNC)
		out->type = &m->types[im->index];
}

void rvm_wasm_module_export(const struct rvm_wasm_module *m, uint32_t i,
			    struct rvm_wasm_import_desc *out)
{
	const struct wasm_export *e = &m->exports[i];

	rvm_memset(out, 0, sizeof(*out));
	out->name = e->name.s;
	out->name_len = e->name.len;
	describe(m, e->kind, e->index, out);
}

void rvm_wasm_module_info(const struct rvm_wasm_module *m, struct rvm_wasm_module_info *out)
{
	out->types = m->ntypes;
	out->imports = m->nimports;
	out->funcs = m->nfuncs;
	out->tables = m->ntables;
	out->memories = m->nmems;
	out->globals = m->nglobals;
	out->exports = m->nexports;
	out->elems = m->nelems;
	out->datas = m->ndatas;
	out->has_start = m->start != UINT32_MAX;
	out->code_words = m->code_words;
	out->arena_used = m->arena_used;
}

static struct rvm_wasm_instance *fail(struct rvm_wasm_error *err, enum rvm_err code,
				      const char *msg)
{
	if (err) {
		size_t n = rvm_strlen(msg);

		if (n >= sizeof(err->msg))
			n = sizeof(err->msg) - 1;
		err->err = code;
		err->offset = 0;
		rvm_memcpy(err->msg, msg, n);
		err->msg[n] = 0;
	}
	return NULL;
}

static bool limits_match(uint64_t have_min, bool have_has_max, uint64_t have_max,
			 const struct wasm_limits *want)
{
	if (have_min < want->min)
		return false;
	if (want->has_max && (!have_has_max || have_max > want->max))
		return false;
	return true;
}

/* Checks import i against what the embedder supplied. */
static bool link_import(const struct rvm_wasm_module *m, uint32_t i, uint32_t fi,
			const struct rvm_wasm_extern *x)
{
	const struct wasm_import *im = &m->imports[i];

	if (x->kind != im->kind)
		return false;
	switch (im->kind) {
	case RVM_WASM_KIND_FUNC:
		return x->u.func && rvm_wasm_functype_eq(x->u.func->type, &m->types[im->index]);
	case RVM_WASM_KIND_TABLE: {
		const struct wasm_table_def *t = &m->tables[im->index];

		return x->u.table && x->u.table->type == t->type &&
		       limits_match(x->u.table->size, x->u.table->has_max, x->u.table->max,
				    &t->lim);
	}
	case RVM_WASM_KIND_MEMORY:
		return x->u.memory &&
		       limits_match(x->u.memory->size / RVM_WASM_PAGE, x->u.memory->has_max,
				    x->u.memory->max_pages, &m->mem);
	default:
		return x->u.global && x->u.global->type == m->globals[im->index].type &&
		       x->u.global->mut == m->globals[im->index].mut;
	}
	(void)fi;
}

static uint64_t cexpr_value(struct rvm_wasm_instance *inst, const struct wasm_cexpr *e)
{
	switch (e->op) {
	case CEXPR_CONST: return e->val;
	case CEXPR_GLOBAL: return inst->globals[e->val]->value;
	case CEXPR_REF_FUNC: return (uint64_t)(uintptr_t)inst->funcs[e->val];
	default: return 0;
	}
}

uint64_t wasm_cexpr_ref(struct rvm_wasm_instance *inst, const struct wasm_cexpr *e)
{
	return cexpr_value(inst, e);
}

enum rvm_wasm_trap wasm_table_init(struct rvm_wasm_instance *inst, uint32_t table,
				   uint32_t seg, uint32_t d, uint32_t s, uint32_t n)
{
	const struct wasm_elem *e = &inst->mod->elems[seg];
	struct rvm_wasm_table *t = inst->tables[table];
	uint64_t len = wasm_bit(inst->elem_dropped, seg) ? 0 : e->count;

	if ((uint64_t)s + n > len || (uint64_t)d + n > t->size)
		return RVM_WASM_TRAP_TABLE_OOB;
	for (uint32_t i = 0; i < n; i++)
		t->elems[d + i] = cexpr_value(inst, &e->items[s + i]);
	return RVM_WASM_TRAP_NONE;
}

#define ALLOC(a, ptr, count)                                                   \
	((ptr) = wasm_alloc((a), (size_t)(count) * sizeof(*(ptr)) + 1), (ptr) != NULL)

static enum rvm_wasm_trap run_segments(struct rvm_wasm_instance *inst)
{
	const struct rvm_wasm_module *m = inst->mod;

	for (uint32_t i = 0; i < m->nelems; i++) {
		const struct wasm_elem *e = &m->elems[i];

		if (e->mode == SEG_ACTIVE) {
			uint32_t off = (uint32_t)cexpr_value(inst, &e->offset);
			enum rvm_wasm_trap tr = wasm_table_init(inst, e->table, i, off, 0, e->count);

			if (tr)
				return tr;
		}
		if (e->mode != SEG_PASSIVE)
			wasm_bit_set(inst->elem_dropped, i);
	}
	for (uint32_t i = 0; i < m->ndatas; i++) {
		const struct wasm_data *d = &m->datas[i];

		if (d->mode != SEG_ACTIVE)
			continue;
		uint64_t off = (uint32_t)cexpr_value(inst, &d->offset);

		if (off + d->len > inst->mem->size)
			return RVM_WASM_TRAP_MEM_OOB;
		rvm_memcpy(inst->mem->data + off, d->bytes, d->len);
		wasm_bit_set(inst->data_dropped, i);
	}
	return RVM_WASM_TRAP_NONE;
}

struct rvm_wasm_instance *rvm_wasm_instantiate(const struct rvm_wasm_module *m,
					       const struct rvm_wasm_extern *imports,
					       uint32_t nimports,
					       const struct rvm_wasm_config *cfg, void *arena,
					       size_t arena_size, struct rvm_wasm_error *err,
					       enum rvm_wasm_trap *trap)
{
	struct wasm_arena a = { (uint8_t *)arena, 0, arena_size };
	struct rvm_wasm_config dflt = { 0 };
	struct rvm_wasm_instance *inst;
	uint32_t nf = 0, nt = 0, ng = 0;
	uint32_t table_limit;

	if (trap)
		*trap = RVM_WASM_TRAP_NONE;
	if (err)
		rvm_memset(err, 0, sizeof(*err));
	if (!cfg)
		cfg = &dflt;
	table_limit = cfg->table_cap_limit ? cfg->table_cap_limit : 100000;
	if (nimports != m->nimports)
		return fail(err, RVM_E_LINK, "wrong number of imports");
	inst = wasm_alloc(&a, sizeof(*inst));
	/* NOLINTBEGIN(bugprone-sizeof-expression): ALLOC sizes the pointed-to element type */
	if (!inst || !ALLOC(&a, inst->funcs, m->nfuncs) || !ALLOC(&a, inst->tables, m->ntables) ||
	    !ALLOC(&a, inst->globals, m->nglobals) ||
	    !ALLOC(&a, inst->own_funcs, m->nfuncs - m->nfunc_imports) ||
	    !ALLOC(&a, inst->own_tables, m->ntables - m->ntable_imports) ||
	    !ALLOC(&a, inst->own_globals, m->nglobals - m->nglobal_imports) ||
	    !ALLOC(&a, inst->elem_dropped, m->nelems / 8 + 1) ||
	    !ALLOC(&a, inst->data_dropped, m->ndatas / 8 + 1))
		return fail(err, RVM_E_NOMEM, "instance arena too small");
	/* NOLINTEND(bugprone-sizeof-expression) */
	inst->mod = m;
	for (uint32_t i = 0; i < m->nimports; i++) {
		const struct rvm_wasm_extern *x = &imports[i];

		if (!link_import(m, i, nf, x))
			return fail(err, RVM_E_LINK, "incompatible import type");
		switch (x->kind) {
		case RVM_WASM_KIND_FUNC: inst->funcs[nf++] = x->u.func; break;
		case RVM_WASM_KIND_TABLE: inst->tables[nt++] = x->u.table; break;
		case RVM_WASM_KIND_MEMORY: inst->mem = x->u.memory; break;
		default: inst->globals[ng++] = x->u.global; break;
		}
	}
	for (uint32_t i = nf; i < m->nfuncs; i++) {
		struct rvm_wasm_func *f = &inst->own_funcs[i - nf];

		f->type = &m->types[m->func_type[i]];
		f->inst = inst;
		f->code = &m->codes[i - nf];
		f->index = i;
		inst->funcs[i] = f;
	}
	for (uint32_t i = nt; i < m->ntables; i++) {
		struct rvm_wasm_table *t = &inst->own_tables[i - nt];
		const struct wasm_table_def *d = &m->tables[i];
		uint32_t cap = d->lim.has_max ? d->lim.max : 0xffffffffu;

		if (d->lim.min > table_limit)
			return fail(err, RVM_E_NOMEM, "table larger than the configured limit");
		if (cap > table_limit)
			cap = d->lim.min > table_limit ? d->lim.min : table_limit;
		t->type = d->type;
		t->size = d->lim.min;
		t->max = d->lim.max;
		t->has_max = d->lim.has_max;
		t->cap = cap;
		if (!ALLOC(&a, t->elems, cap))
			return fail(err, RVM_E_NOMEM, "instance arena too small for tables");
		inst->tables[i] = t;
	}
	if (m->nmems && !m->nmem_imports) {
		struct rvm_wasm_memory *mem = &inst->own_mem;
		uint64_t need = (uint64_t)m->mem.min * RVM_WASM_PAGE;

		if (!cfg->memory && need)
			return fail(err, RVM_E_NOMEM, "no linear memory buffer");
		if (cfg->memory_cap < need)
			return fail(err, RVM_E_NOMEM, "linear memory buffer too small");
		mem->data = cfg->memory;
		mem->cap = cfg->memory_cap;
		mem->size = need;
		mem->max_pages = m->mem.has_max ? m->mem.max : 65536;
		mem->has_max = m->mem.has_max;
		if (need && !cfg->memory_zeroed)
			wasm_zero(mem->data, (size_t)need);
		inst->mem = mem;
	}
	for (uint32_t i = ng; i < m->nglobals; i++) {
		struct rvm_wasm_global *g = &inst->own_globals[i - ng];

		g->type = m->globals[i].type;
		g->mut = m->globals[i].mut;
		inst->globals[i] = g;
		g->value = cexpr_value(inst, &m->globals[i].init);
	}
	/* The rest of the arena: call frames, then the value stack. */
	inst->max_frames = cfg->max_call_depth ? cfg->max_call_depth : 10000;
	inst->frames = wasm_alloc_raw(&a, (size_t)inst->max_frames * sizeof(*inst->frames));
	if (!inst->frames)
		return fail(err, RVM_E_NOMEM, "instance arena too small for call frames");
	a.used = (a.used + 7) & ~(size_t)7;
	inst->stack = (uint64_t *)(void *)(a.base + a.used);
	inst->stack_slots = (a.cap - a.used) / 8;
	if (inst->stack_slots < 16)
		return fail(err, RVM_E_NOMEM, "instance arena too small for the value stack");
	inst->status = RVM_WASM_IDLE;
	enum rvm_wasm_trap tr = run_segments(inst);

	if (tr == RVM_WASM_TRAP_NONE && m->start != UINT32_MAX) {
		uint64_t fuel = cfg->start_fuel ? cfg->start_fuel : RVM_WASM_START_FUEL;
		enum rvm_wasm_status st = RVM_WASM_IDLE;

		if (rvm_wasm_call(inst, inst->funcs[m->start], NULL, 0) == RVM_OK)
			st = rvm_wasm_run(inst, fuel, NULL);
		if (st == RVM_WASM_TRAPPED)
			tr = rvm_wasm_trap_of(inst);
		rvm_wasm_reset(inst);
		if (st == RVM_WASM_OUT_OF_FUEL)
			return fail(err, RVM_E_FUEL, "start function ran out of fuel");
		if (st == RVM_WASM_SUSPENDED)
			return fail(err, RVM_E_STATE, "start function suspended in a host call");
	}
	if (tr) {
		if (trap)
			*trap = tr;
		return fail(err, RVM_E_TRAP, rvm_wasm_trap_str(tr));
	}
	return inst;
}

bool rvm_wasm_export(struct rvm_wasm_instance *inst, const char *name, size_t name_len,
		     struct rvm_wasm_extern *out)
{
	const struct rvm_wasm_module *m = inst->mod;

	for (uint32_t i = 0; i < m->nexports; i++) {
		const struct wasm_export *e = &m->exports[i];

		if (e->name.len != name_len || rvm_memcmp(e->name.s, name, name_len) != 0)
			continue;
		out->kind = e->kind;
		switch (e->kind) {
		case RVM_WASM_KIND_FUNC: out->u.func = inst->funcs[e->index]; break;
		case RVM_WASM_KIND_TABLE: out->u.table = inst->tables[e->index]; break;
		case RVM_WASM_KIND_MEMORY: out->u.memory = inst->mem; break;
		default: out->u.global = inst->globals[e->index]; break;
		}
		return true;
	}
	return false;
}

struct rvm_wasm_memory *rvm_wasm_instance_memory(struct rvm_wasm_instance *inst)
{
	return inst->mem;
}

enum rvm_err rvm_wasm_call(struct rvm_wasm_instance *inst, struct rvm_wasm_func *f,
			   const uint64_t *args, uint32_t nargs)
{
	if (wasm_call_pending(inst->status))
		return RVM_E_STATE;
	if (nargs != f->type->nparams)
		return RVM_E_INVAL;
	if (inst->stack_slots < (uint64_t)nargs + f->type->nresults)
		return RVM_E_NOMEM;
	for (uint32_t i = 0; i < nargs; i++)
		inst->stack[i] = args[i];
	inst->entry = f;
	inst->cur = f;
	inst->fp = inst->stack;
	inst->pc = f->code ? f->code->words : NULL;
	inst->nframes = 0;
	inst->trap = RVM_WASM_TRAP_NONE;
	inst->fuel_debt = 0;
	inst->status = RVM_WASM_READY;
	if (f->code) {
		const struct rvm_wasm_code *c = f->code;

		if (inst->stack_slots < c->max_slots) {
			inst->status = RVM_WASM_TRAPPED;
			inst->trap = RVM_WASM_TRAP_STACK_EXHAUSTED;
			return RVM_OK;
		}
		for (uint32_t i = 0; i < c->nlocals; i++)
			inst->stack[c->nparams + i] = 0;
	}
	return RVM_OK;
}

enum rvm_wasm_status rvm_wasm_run(struct rvm_wasm_instance *inst, uint64_t fuel,
				  uint64_t *used)
{
	int64_t budget, left, start;

	if (used)
		*used = 0;
	if (!wasm_call_pending(inst->status))
		return (enum rvm_wasm_status)inst->status;
	if (inst->entry->host) {
		enum rvm_wasm_trap tr = inst->entry->host(inst->entry->host_ctx, inst, inst->stack);

		if (tr == RVM_WASM_TRAP_SUSPEND) {
			inst->status = RVM_WASM_SUSPENDED;
			return RVM_WASM_SUSPENDED;
		}
		inst->trap = (uint8_t)tr;
		inst->status = tr ? RVM_WASM_TRAPPED : RVM_WASM_DONE;
		return (enum rvm_wasm_status)inst->status;
	}
	/* A stretch charged past the last budget is paid from this one first. */
	budget = fuel >= (uint64_t)INT64_MAX / 2 ? INT64_MAX / 2 : (int64_t)fuel;
	start = budget + inst->fuel_debt;
	left = start;
	inst->status = wasm_interp(inst, &left);
	inst->fuel_debt = left < 0 ? left : 0;
	if (used)
		*used = (uint64_t)(start - left);
	inst->fuel_used_total += (uint64_t)(start - left);
	return (enum rvm_wasm_status)inst->status;
}

enum rvm_wasm_trap rvm_wasm_trap_of(const struct rvm_wasm_instance *inst)
{
	return (enum rvm_wasm_trap)inst->trap;
}

uint64_t rvm_wasm_fuel_total(const struct rvm_wasm_instance *inst)
{
	return inst->fuel_used_total;
}

uint32_t rvm_wasm_trap_index(const struct rvm_wasm_instance *inst)
{
	return inst->trap_index;
}

const uint64_t *rvm_wasm_results(const struct rvm_wasm_instance *inst, uint32_t *count)
{
	if (count)
		*count = inst->status == RVM_WASM_DONE ? inst->entry->type->nresults : 0;
	return inst->stack;
}

void rvm_wasm_reset(struct rvm_wasm_instance *inst)
{
	inst->status = RVM_WASM_IDLE;
	inst->nframes = 0;
	inst->trap = RVM_WASM_TRAP_NONE;
	inst->fuel_debt = 0;
}
