/* wasm/snapshot.c - saves and restores a whole instance (memory, globals, tables, call stack). */
#include <rvm/sha256.h>

#include "internal.h"

/*
 * Format (little-endian), version 1:
 *   "RVMWASM1" | sha256(module bytes)[32] | status u8 | trap u8 | has_mem u8 | pad u8 |
 *   fuel_debt i64 | fuel_used_total u64 |
 *   [has_mem] size u64 | bytes[size] |
 *   defined globals: value u64 each (references as function index + 1, or raw externref) |
 *   defined tables: size u32 | elements u64 each (encoded like globals) |
 *   elem_dropped bitmap | data_dropped bitmap |
 *   [status READY, OUT_OF_FUEL or SUSPENDED] entry u32 | cur u32 | pc u32 | fp u64 |
 *       nframes u32 | frames {func u32 | ret_pc u32 | fp u64} | nslots u64 | slots u64[nslots]
 * Slots holding references (per the function's map at the point each frame stopped, see
 * struct wasm_refpoint) are encoded like globals: a funcref as function index + 1 (0 = null),
 * an externref raw; restore turns indices back into the new instance's function pointers.
 * Any other status is saved as IDLE (a finished call's results are read, not snapshotted).
 * A suspended call's pc is the call op whose host function said "not now" (it is retried).
 * Code positions are word offsets in the function's translated code, which translation
 * reproduces exactly from the same module. Restore checks every field so a corrupt or hostile
 * snapshot is rejected, never executed: suspended pcs must sit on a fuel op, return addresses
 * right after a call whose frame layout they match.
 */

#define MAGIC "RVMWASM1"

struct wbuf {
	uint8_t *p;
	size_t len, cap;
};

static void put(struct wbuf *w, const void *src, size_t n)
{
	if (w->p && w->len + n <= w->cap)
		rvm_memcpy(w->p + w->len, src, n);
	w->len += n;
}

static void put8(struct wbuf *w, uint8_t v)
{
	put(w, &v, 1);
}

static void put32(struct wbuf *w, uint32_t v)
{
	uint8_t b[4];

	rvm_store_le32(b, v);
	put(w, b, 4);
}

static void put64(struct wbuf *w, uint64_t v)
{
	uint8_t b[8];

	rvm_store_le64(b, v);
	put(w, b, 8);
}

struct rbuf {
	const uint8_t *p;
	size_t len, at;
	bool bad;
};

static const uint8_t *get(struct rbuf *r, size_t n)
{
	if (r->bad || r->len - r->at < n) {
		r->bad = true;
		return NULL;
	}
	r->at += n;
	return r->p + r->at - n;
}

static uint8_t get8(struct rbuf *r)
{
	const uint8_t *b = get(r, 1);

	return b ? b[0] : 0;
}

static uint32_t get32(struct rbuf *r)
{
	const uint8_t *b = get(r, 4);

	return b ? rvm_load_le32(b) : 0;
}

static uint64_t get64(struct rbuf *r)
{
	const uint8_t *b = get(r, 8);

	return b ? rvm_load_le64(b) : 0;
}

uint32_t wasm_op_len(const uint32_t *code, uint32_t pos)
{
	static const uint8_t len[256] = {
		[0x00] = 2, [0x01] = 2, [0x02] = 2, [0x03] = 5, [0x04] = 3, [0x05] = 3,
		[0x06] = 6, [0x08] = 3, [0x09] = 3, [0x0a] = 5, [0x0b] = 3, [0x0c] = 3,
		[0x0d] = 4, [0x0e] = 5, [0x0f] = 3, [0x10] = 3, [0x11] = 2, [0x12] = 3,
		[0x13] = 5, [0x14] = 2, [0x15] = 4, [0x16] = 4, [0x17] = 4, [0x18] = 4,
		[0x19] = 3, [0x1a] = 5, [0x1b] = 5, [0x1c] = 6, [0x1d] = 6, [0x1e] = 2,
		[0x1f] = 3, [0x20] = 3,
	};
	uint32_t op = code[pos];

	if (op == OP_BR_TABLE)
		return 3 + 4 * (code[pos + 2] + 1);
	if (op < 0x28)
		return len[op];
	if (op <= 0x3e)
		return 4;
	if (op >= 0x45 && op <= 0xc4) {
		bool bin = (op >= 0x46 && op <= 0x4f) || (op >= 0x51 && op <= 0x66) ||
			   (op >= 0x6a && op <= 0x78) || (op >= 0x7c && op <= 0x8a) ||
			   (op >= 0x92 && op <= 0x98) || (op >= 0xa0 && op <= 0xa6);

		return bin ? 4 : 3;
	}
	if (op >= 0xd0 && op <= 0xd7)
		return 3;
	if (op >= 0xe0 && op <= 0xe9)
		return 4;
	if (op == 0xea)
		return 3;
	if (op >= 0xeb && op <= 0xf4)
		return 4;
	return 0;
}

/* Is pos the start of an op in code (and, if want_op != UINT32_MAX, that op)? *prev gets
 * the start of the op before pos. */
static bool op_at(const struct rvm_wasm_code *c, uint32_t pos, uint32_t *prev)
{
	uint32_t at = 0, last = UINT32_MAX;

	while (at < c->nwords && at < pos) {
		uint32_t n = wasm_op_len(c->words, at);

		if (n == 0)
			return false;
		last = at;
		at += n;
	}
	*prev = last;
	return at == pos && pos < c->nwords;
}

static bool func_index(const struct rvm_wasm_instance *inst, uint64_t ref, uint32_t *idx)
{
	const struct rvm_wasm_func *f = (const struct rvm_wasm_func *)(uintptr_t)ref;
	const struct rvm_wasm_module *m = inst->mod;
	uint32_t nown = m->nfuncs - m->nfunc_imports;

	if (f >= inst->own_funcs && f < inst->own_funcs + nown) {
		*idx = m->nfunc_imports + (uint32_t)(f - inst->own_funcs);
		return true;
	}
	for (uint32_t i = 0; i < m->nfunc_imports; i++)
		if (inst->funcs[i] == f) {
			*idx = i;
			return true;
		}
	return false;
}

static bool put_ref(struct wbuf *w, const struct rvm_wasm_instance *inst, uint8_t type,
		    uint64_t v)
{
	uint32_t idx;

	if (type != RVM_WASM_FUNCREF || v == 0) {
		put64(w, v);
		return true;
	}
	if (!func_index(inst, v, &idx))
		return false;
	put64(w, (uint64_t)idx + 1);
	return true;
}

static bool get_ref(struct rbuf *r, const struct rvm_wasm_instance *inst, uint8_t type,
		    uint64_t *out)
{
	uint64_t v = get64(r);

	if (type != RVM_WASM_FUNCREF || v == 0) {
		*out = v;
		return true;
	}
	if (v > inst->mod->nfuncs)
		return false;
	*out = (uint64_t)(uintptr_t)inst->funcs[v - 1];
	return true;
}

static void module_hash(const struct rvm_wasm_module *m, uint8_t out[32])
{
	rvm_sha256(NULL, m->bytes, m->len, out);
}

/* Can frames of this code be saved? Those holding references need their maps. */
static bool code_ok(const struct rvm_wasm_code *c)
{
	return c && (!c->has_refs || c->refmap_ok);
}

static bool own_func(const struct rvm_wasm_instance *inst, const struct rvm_wasm_func *f,
		     uint32_t *idx)
{
	return f && f->inst == inst && code_ok(f->code) &&
	       func_index(inst, (uint64_t)(uintptr_t)f, idx);
}

/* The reference map of code at op position pc; NULL when the frame holds no references. */
static const struct wasm_refpoint *point_at(const struct rvm_wasm_code *c, uint32_t pc)
{
	uint32_t lo = 0, hi = c->npoints;

	if (!c->has_refs)
		return NULL;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (c->points[mid].pc == pc)
			return &c->points[mid];
		if (c->points[mid].pc < pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The map of a caller frame: at the call op that ends at its return address. */
static const struct wasm_refpoint *caller_point(const struct wasm_frame *fr)
{
	const struct rvm_wasm_code *c = fr->func->code;
	uint32_t prev;

	if (!c->has_refs || !op_at(c, (uint32_t)(fr->ret_pc - c->words), &prev) ||
	    prev == UINT32_MAX)
		return NULL;
	return point_at(c, prev);
}

/*
 * Writes n slots of one frame from base; those the map names as references go through
 * put_ref (function indices, raw externrefs). False if a funcref is not the instance's.
 */
static bool put_slots(struct wbuf *w, const struct rvm_wasm_instance *inst,
		      const struct rvm_wasm_code *c, const struct wasm_refpoint *pt,
		      const uint64_t *base, uint64_t n)
{
	uint32_t k = 0;

	for (uint64_t i = 0; i < n; i++) {
		if (pt && k < pt->count && c->refslots[pt->first + k] >> 1 == i) {
			uint32_t e = c->refslots[pt->first + k++];

			if (!put_ref(w, inst, e & 1 ? RVM_WASM_EXTERNREF : RVM_WASM_FUNCREF, base[i]))
				return false;
			continue;
		}
		put64(w, base[i]);
	}
	return true;
}

/* Reads n slots of one frame into base, decoding the references its map names. */
static bool get_slots(struct rbuf *r, const struct rvm_wasm_instance *inst,
		      const struct rvm_wasm_code *c, const struct wasm_refpoint *pt, uint64_t *base,
		      uint64_t n)
{
	uint32_t k = 0;

	for (uint64_t i = 0; i < n; i++) {
		if (pt && k < pt->count && c->refslots[pt->first + k] >> 1 == i) {
			uint32_t e = c->refslots[pt->first + k++];

			if (!get_ref(r, inst, e & 1 ? RVM_WASM_EXTERNREF : RVM_WASM_FUNCREF, &base[i]))
				return false;
			continue;
		}
		base[i] = get64(r);
	}
	return !r->bad;
}

static enum rvm_err write_all(const struct rvm_wasm_instance *inst, struct wbuf *w)
{
	const struct rvm_wasm_module *m = inst->mod;
	uint8_t hash[32];
	bool has_mem = inst->mem && m->nmem_imports == 0;

	put(w, MAGIC, 8);
	module_hash(m, hash);
	put(w, hash, 32);
	/* Finished or trapped calls leave nothing to resume: they restore as IDLE. */
	put8(w, wasm_call_pending(inst->status) ? inst->status : RVM_WASM_IDLE);
	put8(w, inst->trap);
	put8(w, has_mem);
	put8(w, 0);
	put64(w, (uint64_t)inst->fuel_debt);
	put64(w, inst->fuel_used_total);
	if (has_mem) {
		put64(w, inst->mem->size);
		put(w, inst->mem->data, (size_t)inst->mem->size);
	}
	for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++)
		if (!put_ref(w, inst, inst->globals[i]->type, inst->globals[i]->value))
			return RVM_E_UNSUPPORTED;
	for (uint32_t i = m->ntable_imports; i < m->ntables; i++) {
		const struct rvm_wasm_table *t = inst->tables[i];

		put32(w, t->size);
		for (uint32_t k = 0; k < t->size; k++)
			if (!put_ref(w, inst, t->type, t->elems[k]))
				return RVM_E_UNSUPPORTED;
	}
	put(w, inst->elem_dropped, m->nelems / 8 + 1);
	put(w, inst->data_dropped, m->ndatas / 8 + 1);
	if (wasm_call_pending(inst->status)) {
		uint32_t entry, cur, fi;

		if (!own_func(inst, inst->entry, &entry) || !own_func(inst, inst->cur, &cur))
			return RVM_E_UNSUPPORTED;
		put32(w, entry);
		put32(w, cur);
		put32(w, (uint32_t)(inst->pc - inst->cur->code->words));
		put64(w, (uint64_t)(inst->fp - inst->stack));
		put32(w, inst->nframes);
		for (uint32_t i = 0; i < inst->nframes; i++) {
			const struct wasm_frame *fr = &inst->frames[i];

			if (!own_func(inst, fr->func, &fi))
				return RVM_E_UNSUPPORTED;
			put32(w, fi);
			put32(w, (uint32_t)(fr->ret_pc - fr->func->code->words));
			put64(w, (uint64_t)(fr->fp - inst->stack));
		}
		uint64_t nslots = (uint64_t)(inst->fp - inst->stack) + inst->cur->code->max_slots;
		const struct rvm_wasm_code *c = inst->cur->code;

		put64(w, nslots);
		/* Frame by frame: each names its references at the point where it stopped. */
		for (uint32_t i = 0; i < inst->nframes; i++) {
			const struct wasm_frame *fr = &inst->frames[i];
			const uint64_t *end = i + 1 < inst->nframes ? inst->frames[i + 1].fp : inst->fp;

			if (!put_slots(w, inst, fr->func->code, caller_point(fr), fr->fp,
				       (uint64_t)(end - fr->fp)))
				return RVM_E_UNSUPPORTED;
		}
		if (!put_slots(w, inst, c, point_at(c, (uint32_t)(inst->pc - c->words)), inst->fp,
			       c->max_slots))
			return RVM_E_UNSUPPORTED;
	}
	return RVM_OK;
}

size_t rvm_wasm_snapshot_size(const struct rvm_wasm_instance *inst)
{
	struct wbuf w = { NULL, 0, 0 };

	write_all(inst, &w);
	return w.len;
}

enum rvm_err rvm_wasm_snapshot(const struct rvm_wasm_instance *inst, uint8_t *buf, size_t cap,
			       size_t *len)
{
	struct wbuf w = { buf, 0, cap };
	enum rvm_err e = write_all(inst, &w);

	if (e != RVM_OK)
		return e;
	if (w.len > cap)
		return RVM_E_NOMEM;
	if (len)
		*len = w.len;
	return RVM_OK;
}

static const struct rvm_wasm_func *func_of(const struct rvm_wasm_instance *inst, uint32_t idx)
{
	const struct rvm_wasm_module *m = inst->mod;

	if (idx < m->nfunc_imports || idx >= m->nfuncs)
		return NULL;
	if (!code_ok(&m->codes[idx - m->nfunc_imports]))
		return NULL;
	return inst->funcs[idx];
}

/* Argument base of the call op that ends right before code position ret; false if none. */
static bool call_before(const struct rvm_wasm_instance *inst, const struct rvm_wasm_func *f,
			uint32_t ret, const struct rvm_wasm_func *callee, uint64_t *base)
{
	const uint32_t *w = f->code->words;
	uint32_t prev;

	if (!op_at(f->code, ret, &prev) || prev == UINT32_MAX)
		return false;
	if (w[prev] == OP_CALL) {
		*base = w[prev + 2];
		return inst->funcs[w[prev + 1]] == callee;
	}
	if (w[prev] == OP_CALL_INDIRECT) {
		*base = w[prev + 4];
		return rvm_wasm_functype_eq(&inst->mod->types[w[prev + 2]], callee->type);
	}
	return false;
}

/* Restores the suspended call; the caller has restored everything else. */
static enum rvm_err read_call(struct rvm_wasm_instance *inst, struct rbuf *r, uint8_t status)
{
	const struct rvm_wasm_func *entry = func_of(inst, get32(r));
	const struct rvm_wasm_func *cur = func_of(inst, get32(r));
	uint32_t pc = get32(r), prev, nframes;
	uint64_t fp = get64(r), nslots, expect_fp = 0;

	nframes = get32(r);
	if (r->bad || !entry || !cur || nframes > inst->max_frames)
		return RVM_E_CORRUPT;
	/*
	 * Running out of fuel happens only at fuel ops (a READY call sits on its entry's first
	 * op); a suspended call sits on the call op that invoked a host function (an import).
	 */
	if (!op_at(cur->code, pc, &prev))
		return RVM_E_CORRUPT;
	if (status == RVM_WASM_SUSPENDED) {
		const uint32_t *w = cur->code->words + pc;

		if (w[0] != OP_CALL_INDIRECT &&
		    (w[0] != OP_CALL || w[1] >= inst->mod->nfunc_imports))
			return RVM_E_CORRUPT;
	} else if (cur->code->words[pc] != OP_FUEL) {
		return RVM_E_CORRUPT;
	}
	if (nframes == 0 && cur != entry)
		return RVM_E_CORRUPT;
	for (uint32_t i = 0; i < nframes; i++) {
		const struct rvm_wasm_func *f = func_of(inst, get32(r));
		uint32_t ret = get32(r);
		uint64_t ffp = get64(r), base;

		if (r->bad || !f || (i == 0 && f != entry) || ffp != expect_fp)
			return RVM_E_CORRUPT;
		if (ffp > inst->stack_slots || inst->stack_slots - ffp < f->code->max_slots)
			return RVM_E_CORRUPT;
		inst->frames[i].func = (struct rvm_wasm_func *)f;
		inst->frames[i].ret_pc = f->code->words + (ret < f->code->nwords ? ret : 0);
		inst->frames[i].fp = inst->stack + ffp;
		if (i > 0 && !call_before(inst, inst->frames[i - 1].func,
					  (uint32_t)(inst->frames[i - 1].ret_pc -
						     inst->frames[i - 1].func->code->words),
					  f, &base))
			return RVM_E_CORRUPT;
		/* Each frame's callee starts at its call's argument base. */
		if (!op_at(f->code, ret, &prev) || prev == UINT32_MAX)
			return RVM_E_CORRUPT;
		base = f->code->words[prev] == OP_CALL ? f->code->words[prev + 2] :
		       f->code->words[prev] == OP_CALL_INDIRECT ? f->code->words[prev + 4] : ~0ull;
		if (base == ~0ull)
			return RVM_E_CORRUPT;
		expect_fp = ffp + base;
	}
	if (nframes && !call_before(inst, inst->frames[nframes - 1].func,
				    (uint32_t)(inst->frames[nframes - 1].ret_pc -
					       inst->frames[nframes - 1].func->code->words),
				    cur, &nslots))
		return RVM_E_CORRUPT;
	if (fp != expect_fp || fp > inst->stack_slots ||
	    inst->stack_slots - fp < cur->code->max_slots)
		return RVM_E_CORRUPT;
	nslots = get64(r);
	if (r->bad || nslots != fp + cur->code->max_slots)
		return RVM_E_CORRUPT;
	/* Frame by frame (the layout was checked above): references come back as pointers. */
	for (uint32_t i = 0; i < nframes; i++) {
		const struct wasm_frame *fr = &inst->frames[i];
		uint64_t *end = i + 1 < nframes ? inst->frames[i + 1].fp : inst->stack + fp;

		if (!get_slots(r, inst, fr->func->code, caller_point(fr), fr->fp,
			       (uint64_t)(end - fr->fp)))
			return RVM_E_CORRUPT;
	}
	if (!get_slots(r, inst, cur->code, point_at(cur->code, pc), inst->stack + fp,
		       cur->code->max_slots))
		return RVM_E_CORRUPT;
	inst->entry = (struct rvm_wasm_func *)entry;
	inst->cur = (struct rvm_wasm_func *)cur;
	inst->pc = cur->code->words + pc;
	inst->fp = inst->stack + fp;
	inst->nframes = nframes;
	return RVM_OK;
}

enum rvm_err rvm_wasm_restore(struct rvm_wasm_instance *inst, const uint8_t *buf, size_t len)
{
	const struct rvm_wasm_module *m = inst->mod;
	struct rbuf r = { buf, len, 0, false };
	const uint8_t *magic = get(&r, 8), *hash = get(&r, 32);
	uint8_t want[32], status, trap, has_mem;
	int64_t debt;
	uint64_t used;

	if (!magic || rvm_memcmp(magic, MAGIC, 8) != 0)
		return RVM_E_FORMAT;
	module_hash(m, want);
	if (!hash || rvm_memcmp(hash, want, 32) != 0)
		return RVM_E_INVAL;
	if (wasm_call_pending(inst->status))
		return RVM_E_STATE;
	status = get8(&r);
	trap = get8(&r);
	has_mem = get8(&r);
	get8(&r);
	debt = (int64_t)get64(&r);
	used = get64(&r);
	if (r.bad || status > RVM_WASM_SUSPENDED || trap >= RVM_WASM_TRAP_COUNT || debt > 0 ||
	    has_mem != (inst->mem && m->nmem_imports == 0))
		return RVM_E_CORRUPT;
	if (has_mem) {
		uint64_t size = get64(&r);
		const uint8_t *bytes;

		if (r.bad || size % RVM_WASM_PAGE || size > inst->mem->cap ||
		    size / RVM_WASM_PAGE > inst->mem->max_pages || size > len)
			return RVM_E_CORRUPT;
		bytes = get(&r, (size_t)size);
		if (!bytes)
			return RVM_E_CORRUPT;
		rvm_memcpy(inst->mem->data, bytes, (size_t)size);
		inst->mem->size = size;
	}
	for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++)
		if (!get_ref(&r, inst, inst->globals[i]->type, &inst->globals[i]->value))
			return RVM_E_CORRUPT;
	for (uint32_t i = m->ntable_imports; i < m->ntables; i++) {
		struct rvm_wasm_table *t = inst->tables[i];
		uint32_t size = get32(&r);

		if (r.bad || size > t->cap)
			return RVM_E_CORRUPT;
		t->size = size;
		for (uint32_t k = 0; k < size; k++)
			if (!get_ref(&r, inst, t->type, &t->elems[k]))
				return RVM_E_CORRUPT;
	}
	const uint8_t *ed = get(&r, m->nelems / 8 + 1), *dd = get(&r, m->ndatas / 8 + 1);

	if (!ed || !dd)
		return RVM_E_CORRUPT;
	rvm_memcpy(inst->elem_dropped, ed, m->nelems / 8 + 1);
	rvm_memcpy(inst->data_dropped, dd, m->ndatas / 8 + 1);
	inst->status = RVM_WASM_IDLE;
	if (wasm_call_pending(status)) {
		enum rvm_err e = read_call(inst, &r, status);

		if (e != RVM_OK)
			return e;
	} else if (status != RVM_WASM_IDLE) {
		return RVM_E_CORRUPT;
	}
	if (r.at != len)
		return RVM_E_CORRUPT;
	inst->status = status;
	inst->trap = trap;
	inst->fuel_debt = debt;
	inst->fuel_used_total = used;
	return RVM_OK;
}
