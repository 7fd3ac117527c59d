/* wasm/translate.c - validates a function body and translates it to slot-addressed internal code. */
#include "internal.h"

/*
 * Every value has a slot in the frame: locals first, then the operand stack, whose height
 * is static at every instruction. Ops name their operand and result slots directly, so the
 * interpreter never pushes or pops. local.get is deferred (the stack entry points at the
 * local's slot) until something could change the local or control flow merges; a result
 * stored straight into local.set's local rewrites the producing op's destination.
 */

/* The per-instruction helpers are inlined: translation speed is instantiation speed. */
#if defined(__GNUC__)
#define HOT static inline __attribute__((always_inline))
#define NOINLINE __attribute__((noinline))
#define UNREACHABLE() __builtin_unreachable()
#else
#define HOT static inline
#define NOINLINE
#define UNREACHABLE() ((void)0)
#endif

enum ctl_kind { CTL_FUNC, CTL_BLOCK, CTL_LOOP, CTL_IF, CTL_ELSE };

struct ctl {
	uint8_t kind;
	bool unreachable;
	uint32_t height; /* operand height below the block's params */
	uint32_t nparams, nresults;
	const uint8_t *params, *results;
	uint32_t target;   /* loops: the loop start */
	uint32_t fixups;   /* forward branch words to patch (chain, index + 1) */
	uint32_t else_fix; /* ifs: the BR_IFZ target word (index + 1) */
	bool dead_entry;   /* entered from unreachable code: emit nothing inside */
};

struct val {
	uint8_t type; /* 0: unknown (below an unreachable point) */
	uint32_t src; /* slot holding the value; == own slot unless deferred */
};

#define NONE UINT32_MAX

struct tr {
	struct wasm_reader *r;
	struct rvm_wasm_module *m;
	uint32_t *code;
	uint32_t len, cap;
	struct val *vals;
	uint32_t nvals, maxvals;
	uint32_t defer_lo; /* no operand below this height is deferred to a local (NONE: none) */
	struct ctl *ctls;
	uint32_t nctls, maxctls;
	uint8_t *local_types;
	uint32_t nlocals; /* params + locals */
	uint32_t max_height;
	uint32_t fuel_at;  /* word holding the current stretch's cost */
	uint32_t fuel_count;
	uint32_t last_op;  /* start of the last op, NONE after a label */
	uint32_t last_dst; /* its destination word, NONE if not rewritable */
	bool dead;
	bool has_refs;
	/* Reference maps (see struct wasm_refpoint), kept once the first reference appears, in
	 * a region carved from the free space between code and scratch. */
	bool map_full; /* the region ran out: frames of this function cannot be snapshotted */
	struct wasm_refpoint *points;
	uint32_t npoints, maxpoints;
	uint32_t *refslots;
	uint32_t nrefslots, maxrefslots;
	uint8_t *arena_base; /* the module arena, for the region's bounds */
	size_t code_base;    /* arena offset of code[0] */
};

static void refs_begin(struct tr *t);
static void record_point(struct tr *t, uint32_t pc, uint32_t n);

static const uint8_t valtype_bytes[] = { RVM_WASM_I32, RVM_WASM_I64, RVM_WASM_F32,
					 RVM_WASM_F64, RVM_WASM_FUNCREF, RVM_WASM_EXTERNREF };

static const uint8_t *valtype_ptr(uint8_t t)
{
	for (unsigned i = 0; i < sizeof(valtype_bytes); i++)
		if (valtype_bytes[i] == t)
			return &valtype_bytes[i];
	return valtype_bytes;
}

static bool invalid(struct tr *t, const char *msg)
{
	return wasm_fail(t->r, RVM_E_INVALID_MODULE, msg);
}

static bool malformed(struct tr *t, const char *msg)
{
	return wasm_fail(t->r, RVM_E_MALFORMED, msg);
}

HOT uint32_t slot_of(const struct tr *t, uint32_t height)
{
	return t->nlocals + height;
}

/* ---- emission ---- */

HOT bool room(struct tr *t, uint32_t n)
{
	if (t->cap - t->len < n)
		return wasm_fail(t->r, RVM_E_NOMEM, "module arena too small for code");
	return true;
}

/* Emits op with n operand words; dst_at is the operand index of the destination or -1. */
HOT bool emit(struct tr *t, uint32_t op, int dst_at, uint32_t n, const uint32_t *w)
{
	if (t->dead)
		return true;
	if (!room(t, n + 1))
		return false;
	/* Through locals: stores to code[] could alias t's fields and force reloads. */
	uint32_t at = t->len;
	uint32_t *c = t->code + at;

	t->last_op = at;
	t->last_dst = dst_at >= 0 ? at + 1 + (uint32_t)dst_at : NONE;
	t->len = at + 1 + n;
	c[0] = op;
	for (uint32_t i = 0; i < n; i++)
		c[1 + i] = w[i];
	return true;
}

#define EMIT(t, op, dst_at, ...)                                                            \
	emit(t, op, dst_at, sizeof((uint32_t[]){ __VA_ARGS__ }) / 4, (uint32_t[]){ __VA_ARGS__ })

static void label_here(struct tr *t)
{
	t->last_op = NONE;
	t->last_dst = NONE;
}

static bool fuel_point(struct tr *t)
{
	if (t->fuel_at != NONE)
		t->code[t->fuel_at] = t->fuel_count;
	t->fuel_count = 0;
	if (t->dead) {
		t->fuel_at = NONE;
		return true;
	}
	if (!EMIT(t, OP_FUEL, -1, 0))
		return false;
	t->fuel_at = t->len - 1;
	label_here(t);
	record_point(t, t->len - 2, t->nvals);
	return true;
}

/* ---- operand stack ---- */

HOT bool push(struct tr *t, uint8_t type)
{
	uint32_t n = t->nvals;

	if (n >= t->maxvals)
		return wasm_fail(t->r, RVM_E_NOMEM, "operand stack too deep");
	t->nvals = n + 1;
	if (n + 1 > t->max_height)
		t->max_height = n + 1;
	if (wasm_is_reftype(type) && !t->has_refs)
		refs_begin(t);
	t->vals[n] = (struct val){ type, t->nlocals + n };
	return true;
}

HOT bool pop(struct tr *t, uint8_t want, struct val *out)
{
	const struct ctl *c = &t->ctls[t->nctls - 1];
	uint32_t n = t->nvals;

	if (n == c->height) {
		if (!c->unreachable)
			return invalid(t, "type mismatch");
		out->type = 0;
		out->src = slot_of(t, n);
		return true;
	}
	t->nvals = n - 1;
	*out = t->vals[n - 1];
	if (want && out->type && out->type != want)
		return invalid(t, "type mismatch");
	return true;
}

/* Points operand i at slot src (a local, or its own slot), keeping defer_lo. */
HOT void set_src(struct tr *t, uint32_t i, uint32_t src)
{
	t->vals[i].src = src;
	if (src != slot_of(t, i) && i < t->defer_lo)
		t->defer_lo = i;
}

/*
 * The first reference of the function: reserve room for its maps between the code and the
 * scratch, shrinking the code's room (points before this one hold no references).
 */
static void refs_begin(struct tr *t)
{
	size_t body = (size_t)(t->r->end - t->r->p) + 16;
	size_t points = body + 4, slots = body * 4 + 1024;
	size_t bytes = points * sizeof(struct wasm_refpoint) + slots * 4;
	size_t code_end = t->code_base + (size_t)t->len * 4;
	size_t top = t->code_base + (size_t)t->cap * 4;

	t->has_refs = true;
	/* Halve the request until it fits beside the code emitted so far. */
	while (bytes > 64 && top - code_end < bytes + 256) {
		points /= 2, slots /= 2;
		bytes = points * sizeof(struct wasm_refpoint) + slots * 4;
	}
	if (top - code_end < bytes + 256) {
		t->map_full = true;
		return;
	}
	top = (top - bytes) & ~(size_t)7;
	t->points = (struct wasm_refpoint *)(void *)(t->arena_base + top);
	t->refslots = (uint32_t *)(void *)(t->arena_base + top + points * sizeof(struct wasm_refpoint));
	t->maxpoints = (uint32_t)points;
	t->maxrefslots = (uint32_t)slots;
	t->cap = (uint32_t)((top - t->code_base) / 4);
}

/*
 * Records the references live in the frame at the op starting at pc, over the locals and
 * the first n operands. Operands still deferred to a local hold nothing in their own slot.
 */
static void record_point(struct tr *t, uint32_t pc, uint32_t n)
{
	uint32_t first = t->nrefslots;

	if (!t->has_refs || t->map_full || t->dead)
		return;
	for (uint32_t i = 0; i < t->nlocals + n; i++) {
		uint8_t type;

		if (i < t->nlocals) {
			type = t->local_types[i];
		} else {
			const struct val *v = &t->vals[i - t->nlocals];

			type = v->src == i ? v->type : 0;
		}
		if (!wasm_is_reftype(type))
			continue;
		if (t->nrefslots >= t->maxrefslots) {
			t->map_full = true;
			return;
		}
		t->refslots[t->nrefslots++] = i << 1 | (type == RVM_WASM_EXTERNREF);
	}
	if (t->nrefslots == first)
		return;
	if (t->npoints >= t->maxpoints) {
		t->map_full = true;
		return;
	}
	t->points[t->npoints++] = (struct wasm_refpoint){ pc, first, t->nrefslots - first };
}

static bool materialize_from(struct tr *t, uint32_t from)
{
	for (uint32_t i = from > t->defer_lo ? from : t->defer_lo; i < t->nvals; i++) {
		uint32_t own = slot_of(t, i);

		if (t->vals[i].src != own) {
			if (!EMIT(t, OP_COPY, 0, own, t->vals[i].src))
				return false;
			t->vals[i].src = own;
		}
	}
	if (from <= t->defer_lo)
		t->defer_lo = NONE;
	return true;
}

/* Materializes deferred entries at or above `from` (usually there are none). */
HOT bool materialize(struct tr *t, uint32_t from)
{
	if (t->defer_lo >= t->nvals)
		return true;
	return materialize_from(t, from);
}

/* Materializes entries that read local x (before x changes). */
static bool materialize_local(struct tr *t, uint32_t x)
{
	for (uint32_t i = t->defer_lo; i < t->nvals; i++) {
		uint32_t own = slot_of(t, i);

		if (t->vals[i].src == x && own != x) {
			if (!EMIT(t, OP_COPY, 0, own, x))
				return false;
			t->vals[i].src = own;
		}
	}
	return true;
}

static bool pop_types_n(struct tr *t, uint32_t n, const uint8_t *types)
{
	struct val v = { 0, 0 };

	for (uint32_t i = n; i-- > 0;)
		if (!pop(t, types[i], &v))
			return false;
	return true;
}

static bool push_types_n(struct tr *t, uint32_t n, const uint8_t *types)
{
	for (uint32_t i = 0; i < n; i++)
		if (!push(t, types[i]))
			return false;
	return true;
}

/* Block and call signatures are mostly empty: those cost no call. */
HOT bool pop_types(struct tr *t, uint32_t n, const uint8_t *types)
{
	return n == 0 || pop_types_n(t, n, types);
}

HOT bool push_types(struct tr *t, uint32_t n, const uint8_t *types)
{
	return n == 0 || push_types_n(t, n, types);
}

/* Checks the top n values against types and leaves them where they are (deferred or not). */
static bool keep_types_n(struct tr *t, uint32_t n, const uint8_t *types)
{
	uint32_t before = t->nvals;

	if (!pop_types(t, n, types))
		return false;
	if (before - t->nvals != n)
		return push_types(t, n, types); /* polymorphic stack: dead code */
	for (uint32_t i = 0; i < n; i++)
		t->vals[t->nvals + i].type = types[i];
	t->nvals = before;
	return true;
}

HOT bool keep_types(struct tr *t, uint32_t n, const uint8_t *types)
{
	return n == 0 || keep_types_n(t, n, types);
}

/* Checks that the top n values match types without popping. */
static bool peek_types_n(struct tr *t, uint32_t n, const uint8_t *types)
{
	struct ctl *c = &t->ctls[t->nctls - 1];

	for (uint32_t i = 0; i < n; i++) {
		uint32_t depth = n - i; /* 1 = top */
		uint8_t have;

		if (t->nvals < c->height + depth) {
			if (!c->unreachable)
				return invalid(t, "type mismatch");
			continue;
		}
		have = t->vals[t->nvals - depth].type;
		if (have && have != types[i])
			return invalid(t, "type mismatch");
	}
	return true;
}

HOT bool peek_types(struct tr *t, uint32_t n, const uint8_t *types)
{
	return n == 0 || peek_types_n(t, n, types);
}

/* ---- control ---- */

HOT bool push_ctl(struct tr *t, uint8_t kind, uint32_t np, const uint8_t *p, uint32_t nr,
		  const uint8_t *rs)
{
	struct ctl *c = NULL;

	if (t->nctls >= t->maxctls)
		return wasm_fail(t->r, RVM_E_NOMEM, "blocks nested too deep");
	c = &t->ctls[t->nctls++];
	c->kind = kind;
	c->unreachable = false;
	c->height = t->nvals - np;
	c->nparams = np, c->params = p;
	c->nresults = nr, c->results = rs;
	c->target = 0;
	c->fixups = 0;
	c->else_fix = 0;
	c->dead_entry = t->dead;
	return true;
}

static void set_unreachable(struct tr *t)
{
	struct ctl *c = &t->ctls[t->nctls - 1];

	t->nvals = c->height;
	c->unreachable = true;
	t->dead = true;
}

static bool read_blocktype(struct tr *t, uint32_t *np, const uint8_t **p, uint32_t *nr,
			   const uint8_t **rs)
{
	int64_t bt;

	if (t->r->p < t->r->end && *t->r->p == 0x40) {
		t->r->p++;
		*np = *nr = 0;
		*p = *rs = NULL;
		return true;
	}
	if (t->r->p < t->r->end && (*t->r->p & 0xc0) == 0x40) {
		uint8_t vt;

		if (!wasm_read_valtype(t->r, &vt))
			return false;
		*np = 0, *p = NULL;
		*nr = 1, *rs = valtype_ptr(vt);
		return true;
	}
	if (!wasm_read_s33(t->r, &bt))
		return false;
	if (bt < 0 || (uint64_t)bt >= t->m->ntypes)
		return invalid(t, "unknown type");
	*np = t->m->types[bt].nparams, *p = t->m->types[bt].params;
	*nr = t->m->types[bt].nresults, *rs = t->m->types[bt].results;
	return true;
}

static void label_types(const struct ctl *c, uint32_t *n, const uint8_t **types)
{
	/* NOLINTNEXTLINE(clang-analyzer-core.NullDereference): callers pass a label inside the control stack */
	if (c->kind == CTL_LOOP)
		*n = c->nparams, *types = c->params;
	else
		*n = c->nresults, *types = c->results;
}

/* Fills the branch words {target n src dst} for label c with n values on top. */
static void branch_words(struct tr *t, const struct ctl *c, uint32_t n, uint32_t w[4])
{
	w[0] = c->kind == CTL_LOOP ? c->target : c->fixups;
	w[1] = n;
	w[2] = slot_of(t, t->nvals - n);
	w[3] = slot_of(t, c->height);
}

static void chain(struct ctl *c, uint32_t word)
{
	if (c->kind != CTL_LOOP)
		c->fixups = word + 1;
}

static void patch_chain(struct tr *t, uint32_t head, uint32_t to)
{
	while (head) {
		uint32_t next = t->code[head - 1];

		t->code[head - 1] = to;
		head = next;
	}
}

static bool get_label(struct tr *t, struct ctl **c)
{
	uint32_t l;

	if (!wasm_read_u32(t->r, &l))
		return false;
	if (l >= t->nctls)
		return invalid(t, "unknown label");
	*c = &t->ctls[t->nctls - 1 - l];
	return true;
}

static bool op_br(struct tr *t)
{
	struct ctl *c = NULL;
	uint32_t n, w[4];
	const uint8_t *types;

	if (!get_label(t, &c))
		return false;
	label_types(c, &n, &types);
	if (!peek_types(t, n, types) || !materialize(t, 0))
		return false;
	if (!t->dead) {
		branch_words(t, c, n, w);
		if (n == 0 || w[2] == w[3]) {
			if (!EMIT(t, OP_BR, -1, w[0]))
				return false;
			chain(c, t->len - 1);
		} else {
			if (!emit(t, OP_BR_COPY, -1, 4, w))
				return false;
			chain(c, t->len - 4);
		}
	}
	set_unreachable(t);
	return true;
}

static bool is_i32_cmp(uint32_t op)
{
	return op >= 0x46 && op <= 0x4f;
}

static uint32_t cmp_branch_op(uint32_t cmp, bool negate)
{
	/* 0x46 eq 0x47 ne 0x48 lt_s 0x49 lt_u 0x4a gt_s 0x4b gt_u 0x4c le_s 0x4d le_u
	 * 0x4e ge_s 0x4f ge_u */
	static const uint8_t direct[10] = { OP_BR_IF_I32_EQ,   OP_BR_IF_I32_NE,
					    OP_BR_IF_I32_LT_S, OP_BR_IF_I32_LT_U,
					    OP_BR_IF_I32_GT_S, OP_BR_IF_I32_GT_U,
					    OP_BR_IF_I32_LE_S, OP_BR_IF_I32_LE_U,
					    OP_BR_IF_I32_GE_S, OP_BR_IF_I32_GE_U };
	static const uint8_t inverse[10] = { OP_BR_IF_I32_NE,	OP_BR_IF_I32_EQ,
					     OP_BR_IF_I32_GE_S, OP_BR_IF_I32_GE_U,
					     OP_BR_IF_I32_LE_S, OP_BR_IF_I32_LE_U,
					     OP_BR_IF_I32_GT_S, OP_BR_IF_I32_GT_U,
					     OP_BR_IF_I32_LT_S, OP_BR_IF_I32_LT_U };

	return negate ? inverse[cmp - 0x46] : direct[cmp - 0x46];
}

/*
 * Emits a conditional jump on cond (branch when nonzero, or when zero if `negate`), fusing
 * it with the compare that produced cond. Returns the index of the target word.
 */
static bool cond_jump(struct tr *t, const struct val *cond, bool negate, uint32_t target,
		      uint32_t *word)
{
	if (t->last_op != NONE && t->last_dst != NONE && t->code[t->last_dst] == cond->src &&
	    cond->src == slot_of(t, t->nvals)) {
		uint32_t op = t->code[t->last_op], at = t->last_op;

		if (is_i32_cmp(op)) {
			/* [cmp d a b] becomes [br_if_cmp a b target]. */
			t->code[at] = cmp_branch_op(op, negate);
			t->code[at + 1] = t->code[at + 2];
			t->code[at + 2] = t->code[at + 3];
			t->code[at + 3] = target;
			*word = at + 3;
			label_here(t);
			return true;
		}
		if (op == 0x45) { /* i32.eqz: [eqz d a] becomes [br_if(z) a target] */
			t->code[at] = negate ? OP_BR_IF : OP_BR_IFZ;
			t->code[at + 1] = t->code[at + 2];
			t->code[at + 2] = target;
			*word = at + 2;
			label_here(t);
			return true;
		}
	}
	if (!EMIT(t, negate ? OP_BR_IFZ : OP_BR_IF, -1, cond->src, target))
		return false;
	*word = t->len - 1;
	label_here(t);
	return true;
}

static bool op_br_if(struct tr *t)
{
	struct ctl *c = NULL;
	struct val cond = { 0, 0 };
	uint32_t n, w[4];
	const uint8_t *types;

	if (!get_label(t, &c) || !pop(t, RVM_WASM_I32, &cond))
		return false;
	label_types(c, &n, &types);
	if (!keep_types(t, n, types))
		return false;
	if (t->dead)
		return true;
	if (!materialize(t, 0))
		return false;
	branch_words(t, c, n, w);
	if (n == 0 || w[2] == w[3]) {
		uint32_t word;

		if (!cond_jump(t, &cond, false, w[0], &word))
			return false;
		chain(c, word);
		return true;
	}
	if (!EMIT(t, OP_BR_IF_COPY, -1, cond.src, w[0], w[1], w[2], w[3]))
		return false;
	chain(c, t->len - 4);
	label_here(t);
	return true;
}

static bool op_br_table(struct tr *t)
{
	uint32_t count, arity = 0;
	struct val cond = { 0, 0 };
	const uint8_t *start;
	uint32_t at;

	if (!wasm_read_u32(t->r, &count))
		return false;
	if (count > (size_t)(t->r->end - t->r->p))
		return malformed(t, "unexpected end of section or function");
	if (!pop(t, RVM_WASM_I32, &cond) || !materialize(t, 0))
		return false;
	if (!t->dead && !room(t, 3 + 4 * (count + 1)))
		return false;
	at = t->len;
	if (!t->dead) {
		t->code[t->len++] = OP_BR_TABLE;
		t->code[t->len++] = cond.src;
		t->code[t->len++] = count;
	}
	start = t->r->p;
	for (int pass = 0; pass < 2; pass++) {
		t->r->p = start;
		for (uint32_t i = 0; i <= count; i++) {
			struct ctl *c = NULL;
			uint32_t n;
			const uint8_t *types;

			if (!get_label(t, &c))
				return false;
			label_types(c, &n, &types);
			if (pass == 0) {
				/* The default label fixes the arity every label must share. */
				if (i == 0)
					arity = n;
				else if (n != arity)
					return invalid(t, "type mismatch");
				if (!peek_types(t, n, types))
					return false;
				continue;
			}
			if (t->dead)
				continue;
			uint32_t *w = &t->code[t->len];

			branch_words(t, c, n, w);
			chain(c, t->len);
			t->len += 4;
		}
	}
	/* Arity rule uses the last label read in pass 0; recheck against the default. */
	(void)arity;
	if (!t->dead)
		t->last_op = at, label_here(t);
	set_unreachable(t);
	return true;
}

static bool op_return(struct tr *t)
{
	struct ctl *c = &t->ctls[0];

	if (!peek_types(t, c->nresults, c->results) || !materialize(t, 0))
		return false;
	if (!EMIT(t, OP_RETURN, -1, c->nresults, slot_of(t, t->nvals - c->nresults)))
		return false;
	set_unreachable(t);
	return true;
}

static bool op_block(struct tr *t, uint8_t kind)
{
	uint32_t np, nr;
	const uint8_t *p, *rs;
	struct val cond = { 0, 0 };
	uint32_t word = 0;

	if (!read_blocktype(t, &np, &p, &nr, &rs))
		return false;
	if (kind == CTL_IF && !pop(t, RVM_WASM_I32, &cond))
		return false;
	/* NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage): cond is set by pop() whenever kind is CTL_IF */
	if (!keep_types(t, np, p) || !materialize(t, 0))
		return false;
	if (kind == CTL_IF && !t->dead && !cond_jump(t, &cond, true, 0, &word))
		return false;
	if (!push_ctl(t, kind, np, p, nr, rs))
		return false;
	if (kind == CTL_LOOP) {
		if (!fuel_point(t))
			return false;
		t->ctls[t->nctls - 1].target = t->fuel_at == NONE ? 0 : t->fuel_at - 1;
	}
	if (kind == CTL_IF && !t->dead)
		t->ctls[t->nctls - 1].else_fix = word + 1;
	label_here(t);
	return true;
}

static bool check_block_end(struct tr *t, struct ctl *c)
{
	if (!pop_types(t, c->nresults, c->results))
		return false;
	if (t->nvals != c->height)
		return invalid(t, "type mismatch");
	return true;
}

static bool op_else(struct tr *t)
{
	struct ctl *c = &t->ctls[t->nctls - 1];

	if (c->kind != CTL_IF)
		return invalid(t, "else without if");
	if (!peek_types(t, c->nresults, c->results) || !materialize(t, c->height))
		return false;
	if (!check_block_end(t, c))
		return false;
	if (!t->dead) {
		if (!EMIT(t, OP_BR, -1, c->fixups))
			return false;
		c->fixups = t->len;
	}
	patch_chain(t, c->else_fix, t->len);
	c->else_fix = 0;
	c->kind = CTL_ELSE;
	c->unreachable = false;
	t->dead = c->dead_entry;
	label_here(t);
	return push_types(t, c->nparams, c->params);
}

static bool types_eq(uint32_t n, const uint8_t *a, uint32_t m, const uint8_t *b)
{
	return n == m && (n == 0 || rvm_memcmp(a, b, n) == 0);
}

static bool op_end(struct tr *t)
{
	struct ctl *c = &t->ctls[t->nctls - 1];

	if (c->kind == CTL_IF && !types_eq(c->nparams, c->params, c->nresults, c->results))
		return invalid(t, "type mismatch");
	if (!peek_types(t, c->nresults, c->results) || !materialize(t, c->height))
		return false;
	if (!check_block_end(t, c))
		return false;
	/* Control reaches the end if the block was entered alive. */
	t->dead = c->dead_entry;
	patch_chain(t, c->else_fix, t->len);
	patch_chain(t, c->fixups, t->len);
	label_here(t);
	uint8_t kind = c->kind;

	t->nctls--;
	if (kind == CTL_FUNC) {
		t->dead = false;
		if (!EMIT(t, OP_RETURN, -1, c->nresults, slot_of(t, 0)))
			return false;
		return true;
	}
	if (!push_types(t, c->nresults, c->results))
		return false;
	if (kind == CTL_LOOP && !fuel_point(t))
		return false;
	return true;
}

/* ---- locals, globals, memory ---- */

static bool read_local(struct tr *t, uint32_t *x)
{
	if (!wasm_read_u32(t->r, x))
		return false;
	if (*x >= t->nlocals)
		return invalid(t, "unknown local");
	return true;
}

static bool op_local_set(struct tr *t, bool tee)
{
	uint32_t x;
	struct val v = { 0, 0 };

	if (!read_local(t, &x) || !pop(t, t->local_types[x], &v))
		return false;
	if (!t->dead) {
		bool hazard = false;

		for (uint32_t i = t->defer_lo; i < t->nvals; i++)
			if (t->vals[i].src == x)
				hazard = true;
		if (!hazard && v.src == slot_of(t, t->nvals) && t->last_op != NONE &&
		    t->last_dst != NONE && t->code[t->last_dst] == v.src) {
			t->code[t->last_dst] = x;
			t->last_dst = NONE;
		} else {
			if (!materialize_local(t, x))
				return false;
			if (v.src != x && !EMIT(t, OP_COPY, 0, x, v.src))
				return false;
			t->last_dst = NONE;
		}
	}
	if (tee) {
		if (!push(t, t->local_types[x]))
			return false;
		set_src(t, t->nvals - 1, x);
	}
	return true;
}

static bool read_memarg(struct tr *t, uint32_t natural, uint32_t *off)
{
	uint32_t align;

	if (!wasm_read_u32(t->r, &align) || !wasm_read_u32(t->r, off))
		return false;
	if (t->m->nmems == 0)
		return wasm_fail_idx(t->r, RVM_E_INVALID_MODULE, "unknown memory", 0);
	if (align >= 32 || (1u << align) > natural)
		return invalid(t, "alignment must not be larger than natural");
	return true;
}

static bool read_zero(struct tr *t)
{
	uint8_t b;

	if (!wasm_read_u8(t->r, &b))
		return false;
	if (b != 0)
		return malformed(t, "zero byte expected");
	return true;
}

static bool read_table(struct tr *t, uint32_t *x)
{
	if (!wasm_read_u32(t->r, x))
		return false;
	if (*x >= t->m->ntables)
		return wasm_fail_idx(t->r, RVM_E_INVALID_MODULE, "unknown table", *x);
	return true;
}

/* ---- numeric ---- */

/*
 * Signature of numeric opcode op (0x45..0xc4): operand types a, b (0 if unary), result.
 * One table row per opcode: the value type bytes of a, b and the result in bytes 0, 1, 2.
 * I L F D stand for i32 i64 f32 f64, whose type bytes are 0x7f minus them.
 */
enum { I = 0, L = 1, F = 2, D = 3 };
#define SIG(a, b, r) (uint32_t)((0x7fu - (a)) | (0x7fu - (b)) << 8 | (0x7fu - (r)) << 16)
#define U(a, r) (uint32_t)((0x7fu - (a)) | (0x7fu - (r)) << 16)
static const uint32_t numeric_sigs[0xc5 - 0x45] = {
	U(I, I),								  /* 0x45 eqz */
	SIG(I, I, I), SIG(I, I, I), SIG(I, I, I), SIG(I, I, I), SIG(I, I, I),	  /* 0x46.. */
	SIG(I, I, I), SIG(I, I, I), SIG(I, I, I), SIG(I, I, I), SIG(I, I, I),	  /* ..0x4f */
	U(L, I),								  /* 0x50 */
	SIG(L, L, I), SIG(L, L, I), SIG(L, L, I), SIG(L, L, I), SIG(L, L, I),	  /* 0x51.. */
	SIG(L, L, I), SIG(L, L, I), SIG(L, L, I), SIG(L, L, I), SIG(L, L, I),	  /* ..0x5a */
	SIG(F, F, I), SIG(F, F, I), SIG(F, F, I), SIG(F, F, I), SIG(F, F, I),	  /* 0x5b.. */
	SIG(F, F, I),								  /* ..0x60 */
	SIG(D, D, I), SIG(D, D, I), SIG(D, D, I), SIG(D, D, I), SIG(D, D, I),	  /* 0x61.. */
	SIG(D, D, I),								  /* ..0x66 */
	U(I, I), U(I, I), U(I, I),						  /* 0x67..0x69 */
	SIG(I, I, I), SIG(I, I, I), SIG(I, I, I), SIG(I, I, I), SIG(I, I, I),	  /* 0x6a.. */
	SIG(I, I, I), SIG(I, I, I), SIG(I, I, I), SIG(I, I, I), SIG(I, I, I),
	SIG(I, I, I), SIG(I, I, I), SIG(I, I, I), SIG(I, I, I), SIG(I, I, I),	  /* ..0x78 */
	U(L, L), U(L, L), U(L, L),						  /* 0x79..0x7b */
	SIG(L, L, L), SIG(L, L, L), SIG(L, L, L), SIG(L, L, L), SIG(L, L, L),	  /* 0x7c.. */
	SIG(L, L, L), SIG(L, L, L), SIG(L, L, L), SIG(L, L, L), SIG(L, L, L),
	SIG(L, L, L), SIG(L, L, L), SIG(L, L, L), SIG(L, L, L), SIG(L, L, L),	  /* ..0x8a */
	U(F, F), U(F, F), U(F, F), U(F, F), U(F, F), U(F, F), U(F, F),		  /* 0x8b..0x91 */
	SIG(F, F, F), SIG(F, F, F), SIG(F, F, F), SIG(F, F, F), SIG(F, F, F),	  /* 0x92.. */
	SIG(F, F, F), SIG(F, F, F),						  /* ..0x98 */
	U(D, D), U(D, D), U(D, D), U(D, D), U(D, D), U(D, D), U(D, D),		  /* 0x99..0x9f */
	SIG(D, D, D), SIG(D, D, D), SIG(D, D, D), SIG(D, D, D), SIG(D, D, D),	  /* 0xa0.. */
	SIG(D, D, D), SIG(D, D, D),						  /* ..0xa6 */
	U(L, I), U(F, I), U(F, I), U(D, I), U(D, I),				  /* 0xa7..0xab */
	U(I, L), U(I, L), U(F, L), U(F, L), U(D, L), U(D, L),			  /* 0xac..0xb1 */
	U(I, F), U(I, F), U(L, F), U(L, F), U(D, F),				  /* 0xb2..0xb6 */
	U(I, D), U(I, D), U(L, D), U(L, D), U(F, D),				  /* 0xb7..0xbb */
	U(F, I), U(D, L), U(I, F), U(L, D),					  /* 0xbc..0xbf */
	U(I, I), U(I, I), U(L, L), U(L, L), U(L, L),				  /* 0xc0..0xc4 */
};
#undef U
#undef SIG

_Static_assert(RVM_WASM_I32 == 0x7f - I && RVM_WASM_I64 == 0x7f - L && RVM_WASM_F32 == 0x7f - F &&
		       RVM_WASM_F64 == 0x7f - D,
	       "value type codes");

HOT void numeric_sig(uint32_t op, uint8_t *a, uint8_t *b, uint8_t *res)
{
	uint32_t s = numeric_sigs[op - 0x45];

	*a = (uint8_t)s;
	*b = (uint8_t)(s >> 8);
	*res = (uint8_t)(s >> 16);
}

/* The form of i32 ops 0x6a..0x76 with an immediate second operand; 0: none. */
static const uint8_t imm_forms[0x77 - 0x6a] = {
	OP_I32_ADD_IMM, OP_I32_SUB_IMM, OP_I32_MUL_IMM, 0, 0, 0, 0, OP_I32_AND_IMM,
	OP_I32_OR_IMM, OP_I32_XOR_IMM, OP_I32_SHL_IMM, OP_I32_SHR_S_IMM, OP_I32_SHR_U_IMM,
};

HOT uint32_t imm_form(uint32_t op)
{
	return op >= 0x6a && op <= 0x76 ? imm_forms[op - 0x6a] : 0;
}

static bool op_numeric(struct tr *t, uint32_t op)
{
	uint8_t ta, tb, tr;
	struct val a = { 0, 0 }, b = { 0, 0 };

	numeric_sig(op, &ta, &tb, &tr);
	if (tb && !pop(t, tb, &b))
		return false;
	if (!pop(t, ta, &a))
		return false;
	if (op >= 0xbc && op <= 0xbf) { /* reinterpret: same bits, new type */
		if (!push(t, tr))
			return false;
		set_src(t, t->nvals - 1, a.src);
		return true;
	}
	if (op == 0xa7) { /* wrap: i32 reads use the low 32 bits only */
		if (!push(t, tr))
			return false;
		set_src(t, t->nvals - 1, a.src);
		return true;
	}
	uint32_t d = slot_of(t, t->nvals);

	if (!t->dead && tb && t->last_op != NONE && b.src == slot_of(t, t->nvals + 1) &&
	    t->last_dst == t->last_op + 1 && t->code[t->last_dst] == b.src) {
		uint32_t last = t->code[t->last_op];
		uint32_t imm = t->code[t->last_op + 2];

		/* [const b v] [op d a b] becomes [op_imm d a v]. */
		if (last == OP_CONST32 && imm_form(op) && a.src != b.src) {
			t->len = t->last_op;
			if (!push(t, tr))
				return false;
			return EMIT(t, imm_form(op), 0, d, a.src, imm);
		}
		if (last == OP_CONST64 && op == 0x7c && a.src != b.src) {
			uint32_t hi = t->code[t->last_op + 3];

			if ((hi == 0 && imm < 0x80000000u) || (hi == 0xffffffffu && imm >= 0x80000000u)) {
				t->len = t->last_op;
				if (!push(t, tr))
					return false;
				return EMIT(t, OP_I64_ADD_IMM, 0, d, a.src, imm);
			}
		}
	}
	if (!push(t, tr))
		return false;
	if (tb)
		return EMIT(t, op, 0, d, a.src, b.src);
	return EMIT(t, op, 0, d, a.src);
}

/* ---- the 0xfc prefix ---- */

/* A data segment index: checked now against the data count, or at the end of the module. */
static bool data_index(struct tr *t, uint32_t x)
{
	struct rvm_wasm_module *m = t->m;

	if (m->has_datacount) {
		if (x >= m->datacount)
			return wasm_fail_idx(t->r, RVM_E_INVALID_MODULE, "unknown data segment", x);
		return true;
	}
	if (!m->data_used || x > m->max_data_idx)
		m->max_data_idx = x;
	m->data_used = true;
	return true;
}

static bool op_prefixed(struct tr *t)
{
	uint32_t sub, x, y;
	struct val a = { 0, 0 }, b = { 0, 0 }, c = { 0, 0 };
	struct rvm_wasm_module *m = t->m;

	if (!wasm_read_u32(t->r, &sub))
		return false;
	if (sub <= 7) {
		static const uint8_t from[8] = { RVM_WASM_F32, RVM_WASM_F32, RVM_WASM_F64,
						 RVM_WASM_F64, RVM_WASM_F32, RVM_WASM_F32,
						 RVM_WASM_F64, RVM_WASM_F64 };
		uint8_t to = sub < 4 ? RVM_WASM_I32 : RVM_WASM_I64;

		if (!pop(t, from[sub], &a) || !push(t, to))
			return false;
		return EMIT(t, OP_SAT_BASE + sub, 0, slot_of(t, t->nvals - 1), a.src);
	}
	switch (sub) {
	case 8: /* memory.init */
		if (!wasm_read_u32(t->r, &x) || !read_zero(t))
			return false;
		if (m->nmems == 0)
			return wasm_fail_idx(t->r, RVM_E_INVALID_MODULE, "unknown memory", 0);
		if (!data_index(t, x))
			return false;
		if (!pop(t, RVM_WASM_I32, &c) || !pop(t, RVM_WASM_I32, &b) ||
		    !pop(t, RVM_WASM_I32, &a))
			return false;
		return EMIT(t, OP_MEMORY_INIT, -1, x, a.src, b.src, c.src);
	case 9: /* data.drop */
		if (!wasm_read_u32(t->r, &x))
			return false;
		if (!data_index(t, x))
			return false;
		return EMIT(t, OP_DATA_DROP, -1, x);
	case 10: /* memory.copy */
	case 11: /* memory.fill */
		if (!read_zero(t) || (sub == 10 && !read_zero(t)))
			return false;
		if (m->nmems == 0)
			return wasm_fail_idx(t->r, RVM_E_INVALID_MODULE, "unknown memory", 0);
		if (!pop(t, RVM_WASM_I32, &c) || !pop(t, RVM_WASM_I32, &b) ||
		    !pop(t, RVM_WASM_I32, &a))
			return false;
		return EMIT(t, sub == 10 ? OP_MEMORY_COPY : OP_MEMORY_FILL, -1, a.src, b.src,
			    c.src);
	case 12: /* table.init seg table */
		if (!wasm_read_u32(t->r, &y) || !read_table(t, &x))
			return false;
		if (y >= m->nelems)
			return wasm_fail_idx(t->r, RVM_E_INVALID_MODULE, "unknown elem segment", y);
		if (m->elems[y].type != m->tables[x].type)
			return invalid(t, "type mismatch");
		if (!pop(t, RVM_WASM_I32, &c) || !pop(t, RVM_WASM_I32, &b) ||
		    !pop(t, RVM_WASM_I32, &a))
			return false;
		return EMIT(t, OP_TABLE_INIT, -1, x, y, a.src, b.src, c.src);
	case 13: /* elem.drop */
		if (!wasm_read_u32(t->r, &x))
			return false;
		if (x >= m->nelems)
			return wasm_fail_idx(t->r, RVM_E_INVALID_MODULE, "unknown elem segment", x);
		return EMIT(t, OP_ELEM_DROP, -1, x);
	case 14: /* table.copy dst src */
		if (!read_table(t, &x) || !read_table(t, &y))
			return false;
		if (m->tables[x].type != m->tables[y].type)
			return invalid(t, "type mismatch");
		if (!pop(t, RVM_WASM_I32, &c) || !pop(t, RVM_WASM_I32, &b) ||
		    !pop(t, RVM_WASM_I32, &a))
			return false;
		return EMIT(t, OP_TABLE_COPY, -1, x, y, a.src, b.src, c.src);
	case 15: /* table.grow */
		if (!read_table(t, &x) || !pop(t, RVM_WASM_I32, &b) ||
		    !pop(t, m->tables[x].type, &a) || !push(t, RVM_WASM_I32))
			return false;
		return EMIT(t, OP_TABLE_GROW, -1, x, slot_of(t, t->nvals - 1), a.src, b.src);
	case 16: /* table.size */
		if (!read_table(t, &x) || !push(t, RVM_WASM_I32))
			return false;
		return EMIT(t, OP_TABLE_SIZE, -1, x, slot_of(t, t->nvals - 1));
	case 17: /* table.fill */
		if (!read_table(t, &x) || !pop(t, RVM_WASM_I32, &c) ||
		    !pop(t, m->tables[x].type, &b) || !pop(t, RVM_WASM_I32, &a))
			return false;
		return EMIT(t, OP_TABLE_FILL, -1, x, a.src, b.src, c.src);
	default:
		return malformed(t, "illegal opcode");
	}
}

/* ---- calls ---- */

static bool op_call(struct tr *t, uint32_t op, uint32_t f, uint32_t table, uint32_t type,
		    const struct val *idx)
{
	const struct rvm_wasm_functype *ft = &t->m->types[type];
	uint32_t base;

	if (!pop_types(t, ft->nparams, ft->params))
		return false;
	base = t->nvals;
	/* Arguments must sit in consecutive slots where the callee's frame begins. */
	if (!t->dead) {
		t->nvals += ft->nparams;
		if (!materialize(t, base))
			return false;
		t->nvals = base;
	}
	if (op == OP_CALL) {
		if (!EMIT(t, OP_CALL, -1, f, slot_of(t, base)))
			return false;
		record_point(t, t->len - 3, base + ft->nparams);
	} else {
		if (!EMIT(t, OP_CALL_INDIRECT, -1, table, type, idx->src, slot_of(t, base)))
			return false;
		record_point(t, t->len - 5, base + ft->nparams);
	}
	label_here(t);
	return push_types(t, ft->nresults, ft->results);
}

/* ---- the instruction loop ---- */

/* Loads 0x28..0x35 and stores 0x36..0x3e: natural alignment (bytes) and value type. */
static const uint8_t mem_natural[23] = { 4, 8, 4, 8, 1, 1, 2, 2, 1, 1, 2, 2,
					 4, 4, 4, 8, 4, 8, 1, 2, 1, 2, 4 };
static const uint8_t mem_type[23] = { 0x7f, 0x7e, 0x7d, 0x7c, 0x7f, 0x7f, 0x7f, 0x7f,
				      0x7e, 0x7e, 0x7e, 0x7e, 0x7e, 0x7e, 0x7f, 0x7e,
				      0x7d, 0x7c, 0x7f, 0x7f, 0x7e, 0x7e, 0x7e };

static bool op_memory(struct tr *t, uint8_t op)
{
	uint32_t off;
	struct val a = { 0, 0 }, v = { 0, 0 };
	uint8_t k = (uint8_t)(op - 0x28);

	if (!read_memarg(t, mem_natural[k], &off))
		return false;
	if (op <= 0x35) {
		if (!pop(t, RVM_WASM_I32, &a) || !push(t, mem_type[k]))
			return false;
		return EMIT(t, op, 0, slot_of(t, t->nvals - 1), a.src, off);
	}
	if (!pop(t, mem_type[k], &v) || !pop(t, RVM_WASM_I32, &a))
		return false;
	return EMIT(t, op, -1, a.src, v.src, off);
}

static bool step(struct tr *t, uint8_t op)
{
	struct rvm_wasm_module *m = t->m;
	struct val a = { 0, 0 }, b = { 0, 0 }, c = { 0, 0 };
	uint32_t x, y;

	switch (op) {
	case 0x00:
		if (!EMIT(t, OP_UNREACHABLE, -1, 0))
			return false;
		set_unreachable(t);
		return true;
	case 0x01: return true;
	case 0x02: return op_block(t, CTL_BLOCK);
	case 0x03: return op_block(t, CTL_LOOP);
	case 0x04: return op_block(t, CTL_IF);
	case 0x05: return op_else(t);
	case 0x0b: return op_end(t);
	case 0x0c: return op_br(t);
	case 0x0d: return op_br_if(t);
	case 0x0e: return op_br_table(t);
	case 0x0f: return op_return(t);
	case 0x10:
		if (!wasm_read_u32(t->r, &x))
			return false;
		if (x >= m->nfuncs)
			return wasm_fail_idx(t->r, RVM_E_INVALID_MODULE, "unknown function", x);
		return op_call(t, OP_CALL, x, 0, m->func_type[x], NULL);
	case 0x11:
		if (!wasm_read_u32(t->r, &y) || !wasm_read_u32(t->r, &x))
			return false;
		if (x >= m->ntables)
			return wasm_fail_idx(t->r, RVM_E_INVALID_MODULE, "unknown table", x);
		if (y >= m->ntypes)
			return invalid(t, "unknown type");
		if (m->tables[x].type != RVM_WASM_FUNCREF)
			return invalid(t, "type mismatch");
		if (!pop(t, RVM_WASM_I32, &a))
			return false;
		return op_call(t, OP_CALL_INDIRECT, 0, x, y, &a);
	case 0x1a: return pop(t, 0, &a);
	case 0x1b:
	case 0x1c: {
		uint8_t want = 0;

		if (op == 0x1c) {
			if (!wasm_read_u32(t->r, &x))
				return false;
			if (x != 1)
				return invalid(t, "invalid result arity");
			if (!wasm_read_valtype(t->r, &want))
				return false;
		}
		if (!pop(t, RVM_WASM_I32, &c) || !pop(t, want, &b) || !pop(t, want, &a))
			return false;
		if (op == 0x1b) {
			if (wasm_is_reftype(a.type) || wasm_is_reftype(b.type) ||
			    (a.type && b.type && a.type != b.type))
				return invalid(t, "type mismatch");
			want = a.type ? a.type : b.type;
		}
		if (!push(t, want))
			return false;
		return EMIT(t, OP_SELECT, 0, slot_of(t, t->nvals - 1), a.src, b.src, c.src);
	}
	case 0x20:
		if (!read_local(t, &x) || !push(t, t->local_types[x]))
			return false;
		set_src(t, t->nvals - 1, x);
		return true;
	case 0x21: return op_local_set(t, false);
	case 0x22: return op_local_set(t, true);
	case 0x23:
		if (!wasm_read_u32(t->r, &x))
			return false;
		if (x >= m->nglobals)
			return wasm_fail_idx(t->r, RVM_E_INVALID_MODULE, "unknown global", x);
		if (!push(t, m->globals[x].type))
			return false;
		return EMIT(t, OP_GLOBAL_GET, 0, slot_of(t, t->nvals - 1), x);
	case 0x24:
		if (!wasm_read_u32(t->r, &x))
			return false;
		if (x >= m->nglobals)
			return wasm_fail_idx(t->r, RVM_E_INVALID_MODULE, "unknown global", x);
		if (!m->globals[x].mut)
			return invalid(t, "global is immutable");
		if (!pop(t, m->globals[x].type, &a))
			return false;
		return EMIT(t, OP_GLOBAL_SET, -1, x, a.src);
	case 0x25:
		if (!read_table(t, &x) || !pop(t, RVM_WASM_I32, &a) ||
		    !push(t, m->tables[x].type))
			return false;
		return EMIT(t, OP_TABLE_GET, -1, x, slot_of(t, t->nvals - 1), a.src);
	case 0x26:
		if (!read_table(t, &x) || !pop(t, m->tables[x].type, &b) ||
		    !pop(t, RVM_WASM_I32, &a))
			return false;
		return EMIT(t, OP_TABLE_SET, -1, x, a.src, b.src);
	case 0x3f:
	case 0x40:
		if (!read_zero(t))
			return false;
		if (m->nmems == 0)
			return wasm_fail_idx(t->r, RVM_E_INVALID_MODULE, "unknown memory", 0);
		if (op == 0x3f) {
			if (!push(t, RVM_WASM_I32))
				return false;
			return EMIT(t, OP_MEMORY_SIZE, -1, slot_of(t, t->nvals - 1));
		}
		if (!pop(t, RVM_WASM_I32, &a) || !push(t, RVM_WASM_I32))
			return false;
		return EMIT(t, OP_MEMORY_GROW, -1, slot_of(t, t->nvals - 1), a.src);
	case 0x41: {
		int32_t v;

		if (!wasm_read_s32(t->r, &v) || !push(t, RVM_WASM_I32))
			return false;
		return EMIT(t, OP_CONST32, 0, slot_of(t, t->nvals - 1), (uint32_t)v);
	}
	case 0x42: {
		int64_t v;

		if (!wasm_read_s64(t->r, &v) || !push(t, RVM_WASM_I64))
			return false;
		return EMIT(t, OP_CONST64, 0, slot_of(t, t->nvals - 1), (uint32_t)v,
			    (uint32_t)((uint64_t)v >> 32));
	}
	case 0x43:
		if (t->r->end - t->r->p < 4)
			return malformed(t, wasm_eof_msg(t->r));
		x = rvm_load_le32(t->r->p);
		t->r->p += 4;
		if (!push(t, RVM_WASM_F32))
			return false;
		return EMIT(t, OP_CONST32, 0, slot_of(t, t->nvals - 1), x);
	case 0x44:
		if (t->r->end - t->r->p < 8)
			return malformed(t, wasm_eof_msg(t->r));
		x = rvm_load_le32(t->r->p);
		y = rvm_load_le32(t->r->p + 4);
		t->r->p += 8;
		if (!push(t, RVM_WASM_F64))
			return false;
		return EMIT(t, OP_CONST64, 0, slot_of(t, t->nvals - 1), x, y);
	case 0xd0: {
		uint8_t rt;

		if (!wasm_read_u8(t->r, &rt))
			return false;
		if (!wasm_is_reftype(rt))
			return malformed(t, "malformed reference type");
		if (!push(t, rt))
			return false;
		return EMIT(t, OP_CONST64, 0, slot_of(t, t->nvals - 1), 0, 0);
	}
	case 0xd1:
		if (!pop(t, 0, &a))
			return false;
		if (a.type && !wasm_is_reftype(a.type))
			return invalid(t, "type mismatch");
		if (!push(t, RVM_WASM_I32))
			return false;
		return EMIT(t, OP_REF_IS_NULL, 0, slot_of(t, t->nvals - 1), a.src);
	case 0xd2:
		if (!wasm_read_u32(t->r, &x))
			return false;
		if (x >= m->nfuncs)
			return wasm_fail_idx(t->r, RVM_E_INVALID_MODULE, "unknown function", x);
		if (!wasm_bit(m->declared, x))
			return invalid(t, "undeclared function reference");
		if (!push(t, RVM_WASM_FUNCREF))
			return false;
		return EMIT(t, OP_REF_FUNC, 0, slot_of(t, t->nvals - 1), x);
	case 0xfc: return op_prefixed(t);
	default:
		if (op >= 0x28 && op <= 0x3e)
			return op_memory(t, op);
		if (op >= 0x45 && op <= 0xc4)
			return op_numeric(t, op);
		t->r->p--;
		return malformed(t, "illegal opcode");
	}
}

/* ---- the fast path ---- */

/*
 * A u32 LEB128 at p that is well-formed and ends before end: stores its value and returns
 * its length; returns 0 for anything else (step() then reads it, errors included).
 */
HOT unsigned leb_u32(const uint8_t *p, const uint8_t *end, uint32_t *v)
{
	size_t avail = (size_t)(end - p);
	uint32_t acc = 0;

	if (avail && p[0] < 0x80) {
		*v = p[0];
		return 1;
	}

	for (unsigned i = 0; i < 4; i++) {
		if (i >= avail)
			return 0;
		acc |= (uint32_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			*v = acc;
			return i + 1;
		}
	}
	if (avail < 5 || p[4] >= 0x10)
		return 0;
	*v = acc | (uint32_t)p[4] << 28;
	return 5;
}

/* The same for an s32 LEB128. */
HOT unsigned leb_s32(const uint8_t *p, const uint8_t *end, int32_t *v)
{
	size_t avail = (size_t)(end - p);
	uint32_t acc = 0;

	if (avail && p[0] < 0x80) {
		*v = (p[0] & 0x40) ? (int32_t)p[0] - 0x80 : (int32_t)p[0];
		return 1;
	}

	for (unsigned i = 0; i < 4; i++) {
		if (i >= avail)
			return 0;
		acc |= (uint32_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			if (p[i] & 0x40) /* negative: extend the sign */
				acc |= ~0u << (7 * (i + 1));
			*v = (int32_t)acc;
			return i + 1;
		}
	}
	/* The last byte's unused bits must repeat the sign bit (bit 3). */
	if (avail < 5 || ((p[4] & 0xf8) != 0 && (p[4] & 0xf8) != 0x78))
		return 0;
	*v = (int32_t)(acc | (uint32_t)p[4] << 28);
	return 5;
}

/*
 * A fast instruction takes at least one byte, pushes at most one operand and emits at most
 * four words per byte it takes (a binary op: op d a b); FAST_WORDS more are slack.
 */
#define FAST_WORDS_PER_BYTE 4u
#define FAST_WORDS 8u

/* What the fast loop does with each opcode: a dense switch, one jump table. */
enum fast_kind {
	FK_SLOW = 0, /* step() */
	FK_DROP,
	FK_BLOCK,
	FK_LOOP,
	FK_IF,
	FK_ELSE,
	FK_END,
	FK_BR_IF,
	FK_LOCAL_GET,
	FK_LOCAL_SET, /* and local.tee */
	FK_I32_CONST,
	FK_MEMORY, /* loads and stores */
	FK_NUMERIC,
};

#define K4(b, k) [(b)] = (k), [(b) + 1] = (k), [(b) + 2] = (k), [(b) + 3] = (k)
#define K8(b, k) K4(b, k), K4((b) + 4, k)
#define K16(b, k) K8(b, k), K8((b) + 8, k)

/* Numeric ops but wrap (0xa7), reinterpret (0xbc..0xbf) and i64.add (0x7c, which step()
 * fuses with a 64-bit constant). */
static const uint8_t fast_kinds[256] = {
	[0x02] = FK_BLOCK, [0x03] = FK_LOOP, [0x04] = FK_IF, [0x05] = FK_ELSE, [0x0b] = FK_END,
	[0x0d] = FK_BR_IF, [0x1a] = FK_DROP,
	[0x20] = FK_LOCAL_GET, [0x21] = FK_LOCAL_SET, [0x22] = FK_LOCAL_SET,
	[0x41] = FK_I32_CONST,
	K16(0x28, FK_MEMORY), K4(0x38, FK_MEMORY), [0x3c] = FK_MEMORY, [0x3d] = FK_MEMORY,
	[0x3e] = FK_MEMORY,
	[0x45] = FK_NUMERIC, [0x46] = FK_NUMERIC, [0x47] = FK_NUMERIC,
	K16(0x48, FK_NUMERIC), K16(0x58, FK_NUMERIC), K16(0x68, FK_NUMERIC), K4(0x78, FK_NUMERIC),
	[0x7d] = FK_NUMERIC, [0x7e] = FK_NUMERIC, [0x7f] = FK_NUMERIC,
	K16(0x80, FK_NUMERIC), K16(0x90, FK_NUMERIC), K4(0xa0, FK_NUMERIC),
	[0xa4] = FK_NUMERIC, [0xa5] = FK_NUMERIC, [0xa6] = FK_NUMERIC,
	K8(0xa8, FK_NUMERIC), K8(0xb0, FK_NUMERIC), K4(0xb8, FK_NUMERIC),
	K4(0xc0, FK_NUMERIC), [0xc4] = FK_NUMERIC,
};

#undef K4
#undef K8
#undef K16

/*
 * cond_jump() for the fast loop: a jump on slot cond (when nonzero, or zero if negate) to
 * target, fused with the compare or eqz that produced cond in slot `own`; code[0, *len) so
 * far. Returns the index of the target word; the caller marks a label.
 */
HOT uint32_t fast_cond_jump(struct tr *t, uint32_t *len, uint32_t cond, uint32_t own, bool negate,
			    uint32_t target)
{
	uint32_t *code = t->code, at = t->last_op;

	if (at != NONE && t->last_dst != NONE && code[t->last_dst] == cond && cond == own) {
		if (is_i32_cmp(code[at])) { /* [cmp d a b] becomes [br_if_cmp a b target] */
			code[at] = cmp_branch_op(code[at], negate);
			code[at + 1] = code[at + 2];
			code[at + 2] = code[at + 3];
			code[at + 3] = target;
			return at + 3;
		}
		if (code[at] == 0x45) { /* [eqz d a] becomes [br_if(z) a target] */
			code[at] = negate ? OP_BR_IF : OP_BR_IFZ;
			code[at + 1] = code[at + 2];
			code[at + 2] = target;
			return at + 2;
		}
	}
	code[*len] = negate ? OP_BR_IFZ : OP_BR_IF;
	code[*len + 1] = cond;
	code[*len + 2] = target;
	*len += 3;
	return *len - 1;
}

/*
 * fuel_point() for the fast loop, in live code of a function without references (so no
 * reference map to record), after this instruction was counted.
 */
HOT void fast_fuel_point(struct tr *t, uint32_t *len)
{
	if (t->fuel_at != NONE)
		t->code[t->fuel_at] = t->fuel_count;
	t->fuel_count = 0;
	t->code[*len] = OP_FUEL;
	t->code[*len + 1] = 0;
	t->fuel_at = *len + 1;
	*len += 2;
	t->last_op = t->last_dst = NONE;
}

/*
 * Where a run of fast instructions starting at p must stop so that the code buffer and
 * the operand stack cannot overflow inside it (so the fast cases need not check): they
 * grow by at most FAST_WORDS_PER_BYTE words and one operand per byte taken.
 */
HOT const uint8_t *fast_stop(const struct tr *t, const uint8_t *p, const uint8_t *end)
{
	size_t n = (size_t)(end - p);
	size_t words = t->cap - t->len, opers = t->maxvals - t->nvals;

	if (t->dead || words < FAST_WORDS || opers < 1)
		return p;
	words = (words - FAST_WORDS) / FAST_WORDS_PER_BYTE;
	if (n > words)
		n = words;
	if (n > opers - 1)
		n = opers - 1;
	return p + n;
}

/*
 * The instruction loop. The commonest instructions - local.get/set/tee, drop, i32.const,
 * numeric ops, loads and stores, and blocks, loops, ifs and br_ifs without values - are
 * translated right here with the reader position, the operand height and the code length
 * in registers. Anything else goes to step(): any other opcode, dead code, an operand below
 * the block, a type mismatch or any other error, a reference type, an unusual LEB128, a
 * nearly full operand stack or code buffer. So the fast cases need no error handling, and
 * each must leave exactly the code and state step() would.
 */
/* Kept out of wasm_translate: its registers go to the loop. */
NOINLINE static bool translate_body(struct tr *t)
{
	struct wasm_reader *r = t->r;
	const uint8_t *const end = r->end;
	uint32_t *const code = t->code;
	struct val *const vals = t->vals;
	const uint8_t *const ltypes = t->local_types;
	const uint32_t nlocals = t->nlocals;
	const bool has_mem = t->m->nmems != 0;

	while (t->nctls > 0) {
		const uint8_t *p = r->p;
		uint32_t nvals = t->nvals, len = t->len;
		uint32_t floor = t->ctls[t->nctls - 1].height;
		const uint8_t *const stop = fast_stop(t, p, end);

		while (p < stop) {
			const uint8_t op = *p, *q = p + 1;
			uint32_t x, n;

			switch ((enum fast_kind)fast_kinds[op]) {
			case FK_DROP:
				if (nvals == floor)
					goto slow;
				nvals--;
				break;
			case FK_BLOCK: { /* with no params or results: a label, no code */
				struct ctl *c;

				if (q >= end || *q != 0x40 || t->defer_lo < nvals ||
				    t->nctls >= t->maxctls)
					goto slow;
				q++;
				c = &t->ctls[t->nctls++];
				*c = (struct ctl){ .kind = CTL_BLOCK, .height = nvals };
				t->last_op = t->last_dst = NONE;
				floor = nvals;
				break;
			}
			case FK_LOOP: { /* with no params or results: a label and a fuel point */
				struct ctl *c;

				if (q >= end || *q != 0x40 || t->defer_lo < nvals ||
				    t->nctls >= t->maxctls || t->has_refs)
					goto slow;
				q++;
				c = &t->ctls[t->nctls++];
				*c = (struct ctl){ .kind = CTL_LOOP, .height = nvals };
				floor = nvals;
				t->fuel_count++;
				fast_fuel_point(t, &len);
				c->target = t->fuel_at - 1;
				p = q;
				continue;
			}
			case FK_IF: { /* with no params or results */
				struct ctl *c;
				uint32_t word;

				if (q >= end || *q != 0x40 || nvals == floor ||
				    vals[nvals - 1].type != RVM_WASM_I32 ||
				    t->defer_lo < nvals - 1 || t->nctls >= t->maxctls)
					goto slow;
				q++;
				nvals--;
				word = fast_cond_jump(t, &len, vals[nvals].src, nlocals + nvals,
						      true, 0);
				c = &t->ctls[t->nctls++];
				*c = (struct ctl){ .kind = CTL_IF, .height = nvals,
						   .else_fix = word + 1 };
				t->last_op = t->last_dst = NONE;
				floor = nvals;
				break;
			}
			case FK_ELSE: { /* of an if with no params or results */
				struct ctl *c = &t->ctls[t->nctls - 1];

				if (c->kind != CTL_IF || c->nparams || c->nresults ||
				    nvals != floor)
					goto slow;
				code[len] = OP_BR, code[len + 1] = c->fixups;
				len += 2;
				c->fixups = len;
				patch_chain(t, c->else_fix, len);
				c->else_fix = 0;
				c->kind = CTL_ELSE;
				t->last_op = t->last_dst = NONE;
				break;
			}
			case FK_END: { /* of a block, if or loop with no params or results */
				struct ctl *c = &t->ctls[t->nctls - 1];
				bool loop = c->kind == CTL_LOOP;

				if (c->kind == CTL_FUNC || c->nparams || c->nresults ||
				    nvals != floor || (loop && t->has_refs))
					goto slow;
				patch_chain(t, c->else_fix, len);
				patch_chain(t, c->fixups, len);
				t->last_op = t->last_dst = NONE;
				t->nctls--;
				floor = t->ctls[t->nctls - 1].height;
				if (loop) {
					t->fuel_count++;
					fast_fuel_point(t, &len);
					p = q;
					continue;
				}
				break;
			}
			case FK_BR_IF: { /* to a label without values */
				struct ctl *c;
				uint32_t l, word;

				if (!(n = leb_u32(q, end, &l)) || l >= t->nctls || nvals == floor)
					goto slow;
				c = &t->ctls[t->nctls - 1 - l];
				if ((c->kind == CTL_LOOP ? c->nparams : c->nresults) != 0 ||
				    vals[nvals - 1].type != RVM_WASM_I32 || t->defer_lo < nvals - 1)
					goto slow;
				q += n;
				nvals--;
				word = fast_cond_jump(t, &len, vals[nvals].src, nlocals + nvals,
						      false,
						      c->kind == CTL_LOOP ? c->target : c->fixups);
				if (c->kind != CTL_LOOP)
					c->fixups = word + 1;
				t->last_op = t->last_dst = NONE;
				break;
			}
			case FK_LOCAL_GET: { /* deferred: the entry names the local's slot */
				uint8_t lt;

				if (!(n = leb_u32(q, end, &x)) || x >= nlocals)
					goto slow;
				lt = ltypes[x];
				if (wasm_is_reftype(lt))
					goto slow;
				q += n;
				vals[nvals] = (struct val){ lt, x };
				if (nvals < t->defer_lo)
					t->defer_lo = nvals;
				if (++nvals > t->max_height)
					t->max_height = nvals;
				break;
			}
			case FK_LOCAL_SET: { /* and local.tee */
				struct val v;
				uint32_t top;

				if (!(n = leb_u32(q, end, &x)) || x >= nlocals || nvals == floor)
					goto slow;
				top = nvals - 1;
				v = vals[top];
				if (v.type != ltypes[x] || wasm_is_reftype(v.type))
					goto slow;
				/* Another entry still reads x: op_local_set copies it out. */
				for (uint32_t i = t->defer_lo; i < top; i++)
					if (vals[i].src == x)
						goto slow;
				q += n;
				if (v.src == nlocals + top && t->last_op != NONE &&
				    t->last_dst != NONE && code[t->last_dst] == v.src) {
					/* The producer writes the local itself. */
					code[t->last_dst] = x;
				} else if (v.src != x) {
					code[len] = OP_COPY, code[len + 1] = x;
					code[len + 2] = v.src;
					t->last_op = len;
					len += 3;
				}
				t->last_dst = NONE;
				nvals = top;
				if (op == 0x22) {
					vals[top] = (struct val){ v.type, x };
					if (top < t->defer_lo)
						t->defer_lo = top;
					nvals = top + 1;
				}
				break;
			}
			case FK_I32_CONST: {
				int32_t v;

				if (!(n = leb_s32(q, end, &v)))
					goto slow;
				q += n;
				x = nlocals + nvals;
				vals[nvals] = (struct val){ RVM_WASM_I32, x };
				if (++nvals > t->max_height)
					t->max_height = nvals;
				code[len] = OP_CONST32, code[len + 1] = x;
				code[len + 2] = (uint32_t)v;
				t->last_op = len, t->last_dst = len + 1;
				len += 3;
				break;
			}
			case FK_MEMORY: {
				uint32_t align, off, k = op - 0x28u;
				struct val a, v;

				if (!has_mem || !(n = leb_u32(q, end, &align)))
					goto slow;
				if (align >= 32 || (1u << align) > mem_natural[k])
					goto slow;
				q += n;
				if (!(n = leb_u32(q, end, &off)))
					goto slow;
				q += n;
				if (op <= 0x35) {
					if (nvals == floor)
						goto slow;
					a = vals[nvals - 1];
					if (a.type != RVM_WASM_I32)
						goto slow;
					x = nlocals + nvals - 1;
					vals[nvals - 1] = (struct val){ mem_type[k], x };
					code[len] = op, code[len + 1] = x, code[len + 2] = a.src;
					t->last_op = len, t->last_dst = len + 1;
				} else {
					if (nvals - floor < 2)
						goto slow;
					v = vals[nvals - 1];
					a = vals[nvals - 2];
					if (v.type != mem_type[k] || a.type != RVM_WASM_I32)
						goto slow;
					nvals -= 2;
					code[len] = op, code[len + 1] = a.src;
					code[len + 2] = v.src;
					t->last_op = len, t->last_dst = NONE;
				}
				code[len + 3] = off;
				len += 4;
				break;
			}
			case FK_NUMERIC: {
				uint8_t ta, tb, tr;
				struct val a, b = { 0, 0 };
				uint32_t fused, at;

				numeric_sig(op, &ta, &tb, &tr);
				n = tb ? 2 : 1;
				if (nvals - floor < n)
					goto slow;
				a = vals[nvals - n];
				if (a.type != ta)
					goto slow;
				if (tb) {
					b = vals[nvals - 1];
					if (b.type != tb)
						goto slow;
				}
				nvals -= n;
				x = nlocals + nvals;
				vals[nvals++] = (struct val){ tr, x };
				/* [const b v] [op d a b] becomes [op_imm d a v]. */
				fused = imm_form(op);
				if (fused && (at = t->last_op) != NONE && code[at] == OP_CONST32 &&
				    t->last_dst == at + 1 && code[at + 1] == b.src &&
				    b.src == x + 1 && a.src != b.src) {
					uint32_t imm = code[at + 2];

					len = at;
					code[len] = fused, code[len + 1] = x, code[len + 2] = a.src;
					code[len + 3] = imm;
					t->last_dst = len + 1;
					len += 4;
					break;
				}
				code[len] = op, code[len + 1] = x, code[len + 2] = a.src;
				if (tb)
					code[len + 3] = b.src;
				t->last_op = len, t->last_dst = len + 1;
				len += 2 + n;
				break;
				}
			case FK_SLOW:
				goto slow;
			default: /* fast_kinds holds enum fast_kind values only: no range check */
				UNREACHABLE();
				goto slow;
			}
			p = q;
			t->fuel_count++;
		}
slow:
		r->p = p;
		t->nvals = nvals;
		t->len = len;
		uint8_t op;

		/* Out of body bytes between instructions: the function's end is missing. */
		if (p >= end && end != r->sec_end)
			return malformed(t, "END opcode expected");
		if (p >= end && end == r->mod_end)
			return malformed(t, "unexpected end of section or function");
		if (p >= end)
			return malformed(t, "section size mismatch");
		if (!wasm_read_u8(r, &op))
			return false;
		t->fuel_count++;
		if (!step(t, op))
			return false;
	}
	return true;
}

static bool read_locals(struct tr *t, const struct rvm_wasm_functype *ft, struct wasm_arena *a,
			size_t *top)
{
	uint32_t groups;
	uint64_t total = ft->nparams;
	const uint8_t *start;

	if (!wasm_read_u32(t->r, &groups))
		return false;
	start = t->r->p;
	for (uint32_t i = 0; i < groups; i++) {
		uint32_t n;
		uint8_t vt;

		if (!wasm_read_u32(t->r, &n) || !wasm_read_valtype(t->r, &vt))
			return false;
		total += n;
		if (total > 0xffffffffu)
			return malformed(t, "too many locals");
	}
	if (total > 50000)
		return wasm_fail(t->r, RVM_E_NOMEM, "too many locals for this engine");
	/* Local types live at the top of the free arena, below the other scratch. */
	if (*top - a->used < total + 8)
		return wasm_fail(t->r, RVM_E_NOMEM, "module arena too small");
	*top = (*top - (size_t)total - 8) & ~(size_t)7;
	t->local_types = a->base + *top;
	t->nlocals = (uint32_t)total;
	if (ft->nparams)
		rvm_memcpy(t->local_types, ft->params, ft->nparams);
	t->r->p = start;
	uint32_t k = ft->nparams;

	for (uint32_t i = 0; i < groups; i++) {
		uint32_t n;
		uint8_t vt;

		wasm_read_u32(t->r, &n);
		wasm_read_valtype(t->r, &vt);
		rvm_memset(t->local_types + k, vt, n);
		k += n;
	}
	return true;
}

bool wasm_translate(struct rvm_wasm_module *m, uint32_t func, struct wasm_reader *r,
		    struct wasm_arena *a, struct rvm_wasm_code *code)
{
	const struct rvm_wasm_functype *ft = &m->types[m->func_type[func]];
	size_t body;
	size_t top = a->cap & ~(size_t)7;
	struct tr t;

	rvm_memset(&t, 0, sizeof(t));
	t.r = r;
	t.m = m;
	a->used = (a->used + 7) & ~(size_t)7;
	if (top < a->used)
		return wasm_fail(r, RVM_E_NOMEM, "module arena too small");
	if (!read_locals(&t, ft, a, &top))
		return false;
	body = (size_t)(r->end - r->p);
	/* Scratch below the local types: operand and control stacks bounded by the body. */
	t.maxvals = (uint32_t)(body * 2 + 1024);
	t.maxctls = (uint32_t)(body / 2 + 2);
	size_t need = ((size_t)t.maxvals * sizeof(struct val) + (size_t)t.maxctls *
		       sizeof(struct ctl) + 16) & ~(size_t)7;

	if (top - a->used < need + 64)
		return wasm_fail(r, RVM_E_NOMEM, "module arena too small");
	top -= need;
	t.vals = (struct val *)(void *)(a->base + top);
	t.ctls = (struct ctl *)(void *)(a->base + top + (size_t)t.maxvals * sizeof(struct val));
	t.code = (uint32_t *)(void *)(a->base + a->used);
	t.cap = (uint32_t)((top - a->used) / 4);
	t.fuel_at = NONE;
	t.defer_lo = NONE;
	t.arena_base = a->base;
	t.code_base = a->used;
	label_here(&t);
	for (uint32_t i = 0; i < t.nlocals; i++)
		if (wasm_is_reftype(t.local_types[i])) {
			refs_begin(&t);
			break;
		}

	/* The function's params are locals, not operands: the frame starts empty. */
	if (!push_ctl(&t, CTL_FUNC, 0, NULL, ft->nresults, ft->results) || !fuel_point(&t))
		return false;
	if (!translate_body(&t))
		return false;
	if (r->p != r->end)
		return malformed(&t, "section size mismatch");
	if (t.fuel_at != NONE)
		t.code[t.fuel_at] = t.fuel_count;
	code->words = t.code;
	code->nwords = t.len;
	code->nparams = ft->nparams;
	code->nlocals = t.nlocals - ft->nparams;
	code->max_slots = t.nlocals + t.max_height + 1;
	code->has_refs = t.has_refs;
	code->refmap_ok = t.has_refs && !t.map_full;
	code->points = NULL;
	code->npoints = 0;
	code->refslots = NULL;
	/* Results of a call may exceed its arguments; the caller's max height covers them. */
	a->used += (size_t)t.len * 4;
	if (code->refmap_ok && t.npoints) {
		/* The maps move down to sit right after the code (the regions may overlap). */
		size_t pbytes = (size_t)t.npoints * sizeof(struct wasm_refpoint);
		struct wasm_refpoint *pts = (struct wasm_refpoint *)(void *)(a->base + a->used);
		uint32_t *slots = (uint32_t *)(void *)(a->base + a->used + pbytes);

		rvm_memmove(pts, t.points, pbytes);
		rvm_memmove(slots, t.refslots, (size_t)t.nrefslots * 4);
		code->points = pts;
		code->npoints = t.npoints;
		code->refslots = slots;
		a->used += pbytes + (size_t)t.nrefslots * 4;
	}
	return true;
}
