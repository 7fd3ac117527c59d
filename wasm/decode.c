/* wasm/decode.c - binary module decoder: sections into struct rvm_wasm_module, bodies to translate.c. */
#include "internal.h"

typedef uint64_t __attribute__((may_alias)) wasm_word;

void wasm_zero(void *p, size_t n)
{
	uint8_t *d = p;

	while (n && ((uintptr_t)d & 7)) {
		*d++ = 0;
		n--;
	}
	for (; n >= 64; n -= 64, d += 64) {
		wasm_word *w = (wasm_word *)(void *)d;

		w[0] = 0, w[1] = 0, w[2] = 0, w[3] = 0, w[4] = 0, w[5] = 0, w[6] = 0, w[7] = 0;
	}
	for (; n >= 8; n -= 8, d += 8)
		*(wasm_word *)(void *)d = 0;
	while (n--)
		*d++ = 0;
}

/*
 * Copies n bytes to d from s, eight words at a time when both are 8-byte aligned (the
 * module's bytes into the arena: rvm_memcpy moves one word per step).
 */
static void copy_bytes(uint8_t *d, const uint8_t *s, size_t n)
{
	if (((uintptr_t)d | (uintptr_t)s) & 7) {
		rvm_memcpy(d, s, n);
		return;
	}
	for (; n >= 64; n -= 64, d += 64, s += 64) {
		wasm_word *w = (wasm_word *)(void *)d;
		const wasm_word *v = (const wasm_word *)(const void *)s;

		w[0] = v[0], w[1] = v[1], w[2] = v[2], w[3] = v[3];
		w[4] = v[4], w[5] = v[5], w[6] = v[6], w[7] = v[7];
	}
	if (n)
		rvm_memcpy(d, s, n);
}

void *wasm_alloc_raw(struct wasm_arena *a, size_t n)
{
	size_t at = (a->used + 7u) & ~(size_t)7u;

	if (at > a->cap || n > a->cap - at)
		return NULL;
	a->used = at + n;
	return a->base + at;
}

void *wasm_alloc(struct wasm_arena *a, size_t n)
{
	void *p = wasm_alloc_raw(a, n);

	if (p)
		wasm_zero(p, n);
	return p;
}

bool wasm_fail(struct wasm_reader *r, enum rvm_err code, const char *msg)
{
	if (r->err && r->err->err == RVM_OK) {
		size_t n = rvm_strlen(msg);

		if (n >= sizeof(r->err->msg))
			n = sizeof(r->err->msg) - 1;
		r->err->err = code;
		r->err->offset = (uint32_t)(r->p - r->base);
		rvm_memcpy(r->err->msg, msg, n);
		r->err->msg[n] = 0;
	}
	return false;
}

bool wasm_fail_idx(struct wasm_reader *r, enum rvm_err code, const char *msg, uint32_t idx)
{
	char buf[80], digits[10];
	size_t n = rvm_strlen(msg), k = 0;

	if (n > sizeof(buf) - 12)
		n = sizeof(buf) - 12;
	rvm_memcpy(buf, msg, n);
	buf[n++] = ' ';
	do {
		digits[k++] = (char)('0' + idx % 10);
		idx /= 10;
	} while (idx);
	while (k)
		buf[n++] = digits[--k];
	buf[n] = 0;
	return wasm_fail(r, code, buf);
}

const char *wasm_eof_msg(const struct wasm_reader *r)
{
	return r->in_section ? "unexpected end of section or function" : "unexpected end";
}

static bool malformed(struct wasm_reader *r, const char *msg)
{
	return wasm_fail(r, RVM_E_MALFORMED, msg);
}

static bool invalid(struct wasm_reader *r, const char *msg)
{
	return wasm_fail(r, RVM_E_INVALID_MODULE, msg);
}

bool wasm_read_u8_slow(struct wasm_reader *r, uint8_t *v)
{
	*v = 0;
	if (r->p >= r->end)
		return malformed(r, wasm_eof_msg(r));
	*v = *r->p++;
	return true;
}

/* Unsigned or signed LEB128 of at most `bits` bits; unused bits of the last byte must be
 * zero (unsigned) or copies of the sign bit (signed). */
static bool read_leb(struct wasm_reader *r, unsigned bits, bool sign, uint64_t *out)
{
	uint64_t v = 0;
	unsigned shift = 0;
	uint8_t b;
	const uint8_t *start = r->p;

	*out = 0;
	for (;;) {
		if (r->p >= r->end) {
			/* A number running past its section: report it as the reference
			 * interpreter does, by what the bytes beyond would make of it. */
			if (shift && r->mod_end && r->end < r->mod_end) {
				struct wasm_reader more = *r;
				uint64_t ignored;

				more.p = start;
				more.end = r->mod_end;
				if (!read_leb(&more, bits, sign, &ignored))
					return false;
			}
			return malformed(r, wasm_eof_msg(r));
		}
		b = *r->p++;
		if (shift + 7 >= bits && shift < bits) {
			/* Last permitted byte: check the bits beyond `bits`. */
			unsigned used = bits - shift;	/* payload bits that count */
			uint8_t extra = (uint8_t)((b & 0x7f) >> used);
			uint8_t all = (uint8_t)(0x7f >> used);

			if (b & 0x80)
				return malformed(r, "integer representation too long");
			if (sign) {
				bool neg = (b >> (used - 1)) & 1;

				if (extra != (neg ? all : 0))
					return malformed(r, "integer too large");
			} else if (extra) {
				return malformed(r, "integer too large");
			}
		}
		v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80))
			break;
		if (shift >= bits + 7)
			return malformed(r, "integer representation too long");
	}
	if (sign && shift < 64 && (b & 0x40))
		v |= ~(uint64_t)0 << shift;
	*out = v;
	return true;
}

bool wasm_read_u32_slow(struct wasm_reader *r, uint32_t *v)
{
	const uint8_t *p = r->p;
	uint64_t x;

	/* Well-formed multi-byte numbers with room to spare; anything else takes read_leb. */
	if (r->end - p >= 5) {
		uint32_t acc = 0;

		for (unsigned i = 0; i < 4; i++) {
			acc |= (uint32_t)(p[i] & 0x7f) << (7 * i);
			if (!(p[i] & 0x80)) {
				r->p = p + i + 1;
				*v = acc;
				return true;
			}
		}
		if (p[4] < 0x10) {
			r->p = p + 5;
			*v = acc | (uint32_t)p[4] << 28;
			return true;
		}
	}
	*v = 0;
	if (!read_leb(r, 32, false, &x))
		return false;
	*v = (uint32_t)x;
	return true;
}

bool wasm_read_s32_slow(struct wasm_reader *r, int32_t *v)
{
	const uint8_t *p = r->p;
	uint64_t x;

	if (r->end - p >= 5) {
		uint32_t acc = 0;

		for (unsigned i = 0; i < 4; i++) {
			acc |= (uint32_t)(p[i] & 0x7f) << (7 * i);
			if (!(p[i] & 0x80)) {
				unsigned bits = 7 * (i + 1);

				r->p = p + i + 1;
				if (p[i] & 0x40) /* negative: extend the sign */
					acc |= ~0u << bits;
				*v = (int32_t)acc;
				return true;
			}
		}
		/* The last byte's unused bits must repeat the sign bit (bit 3). */
		if ((p[4] & 0xf8) == 0 || (p[4] & 0xf8) == 0x78) {
			r->p = p + 5;
			*v = (int32_t)(acc | (uint32_t)p[4] << 28);
			return true;
		}
	}

	if (!read_leb(r, 32, true, &x))
		return false;
	*v = (int32_t)(uint32_t)x;
	return true;
}

bool wasm_read_s33(struct wasm_reader *r, int64_t *v)
{
	uint64_t x;

	if (!read_leb(r, 33, true, &x))
		return false;
	*v = (int64_t)x;
	return true;
}

bool wasm_read_s64(struct wasm_reader *r, int64_t *v)
{
	uint64_t x;

	if (!read_leb(r, 64, true, &x))
		return false;
	*v = (int64_t)x;
	return true;
}

bool wasm_read_valtype(struct wasm_reader *r, uint8_t *t)
{
	if (!wasm_read_u8(r, t))
		return false;
	if (*t == RVM_WASM_I32 || *t == RVM_WASM_I64 || *t == RVM_WASM_F32 ||
	    *t == RVM_WASM_F64 || wasm_is_reftype(*t))
		return true;
	r->p--;
	return malformed(r, "malformed value type");
}

static bool utf8_ok(const uint8_t *s, uint32_t n)
{
	uint32_t i = 0;

	while (i < n) {
		uint8_t c = s[i];
		uint32_t len, cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			len = 2, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			len = 3, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			len = 4, cp = c & 0x07;
		else
			return false;
		if (n - i < len)
			return false;
		for (uint32_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

static bool read_name(struct wasm_reader *r, struct wasm_name *nm)
{
	uint32_t n;

	if (!wasm_read_u32(r, &n))
		return false;
	if (n > (size_t)(r->end - r->p))
		return malformed(r, "length out of bounds");
	if (!utf8_ok(r->p, n))
		return malformed(r, "malformed UTF-8 encoding");
	nm->s = (const char *)r->p;
	nm->len = n;
	r->p += n;
	return true;
}

static bool read_limits(struct wasm_reader *r, struct wasm_limits *l, bool memory)
{
	uint8_t flag;

	if (!wasm_read_u8(r, &flag))
		return false;
	(void)memory;
	if (flag & 0x80)
		return malformed(r, "integer representation too long");
	if (flag > 1)
		return malformed(r, "integer too large");
	if (!wasm_read_u32(r, &l->min))
		return false;
	l->has_max = flag == 1;
	l->max = 0xffffffffu;
	if (l->has_max && !wasm_read_u32(r, &l->max))
		return false;
	return true;
}

static bool check_limits(struct wasm_reader *r, const struct wasm_limits *l, uint64_t range,
			 const char *range_msg)
{
	if (l->min > range || (l->has_max && l->max > range))
		return invalid(r, range_msg);
	if (l->has_max && l->min > l->max)
		return invalid(r, "size minimum must not be greater than maximum");
	return true;
}

static bool read_table_type(struct wasm_reader *r, struct wasm_table_def *t)
{
	if (!wasm_read_u8(r, &t->type))
		return false;
	if (!wasm_is_reftype(t->type))
		return malformed(r, "malformed reference type");
	return read_limits(r, &t->lim, false) &&
	       check_limits(r, &t->lim, 0xffffffffu, "table size");
}

static bool read_memory_type(struct wasm_reader *r, struct wasm_limits *l)
{
	return read_limits(r, l, true) &&
	       check_limits(r, l, 65536, "memory size must be at most 65536 pages (4GiB)");
}

static bool read_global_type(struct wasm_reader *r, struct wasm_global_def *g)
{
	uint8_t mut;

	if (!wasm_read_valtype(r, &g->type) || !wasm_read_u8(r, &mut))
		return false;
	if (mut > 1)
		return malformed(r, "malformed mutability");
	g->mut = mut;
	return true;
}

/* Type of the value a constant expression yields, checking its operands. */
static bool read_cexpr(struct wasm_reader *r, struct rvm_wasm_module *m, uint32_t nglobals,
		       struct wasm_cexpr *e, uint8_t want)
{
	uint8_t op, t = 0;

	if (!wasm_read_u8(r, &op))
		return false;
	switch (op) {
	case 0x41: {
		int32_t v;

		if (!wasm_read_s32(r, &v))
			return false;
		e->op = CEXPR_CONST, e->val = (uint32_t)v, t = RVM_WASM_I32;
		break;
	}
	case 0x42: {
		int64_t v;

		if (!wasm_read_s64(r, &v))
			return false;
		e->op = CEXPR_CONST, e->val = (uint64_t)v, t = RVM_WASM_I64;
		break;
	}
	case 0x43:
		if (r->end - r->p < 4)
			return malformed(r, wasm_eof_msg(r));
		e->op = CEXPR_CONST, e->val = rvm_load_le32(r->p), t = RVM_WASM_F32;
		r->p += 4;
		break;
	case 0x44:
		if (r->end - r->p < 8)
			return malformed(r, wasm_eof_msg(r));
		e->op = CEXPR_CONST, e->val = rvm_load_le64(r->p), t = RVM_WASM_F64;
		r->p += 8;
		break;
	case 0x23: {
		uint32_t g;

		if (!wasm_read_u32(r, &g))
			return false;
		if (g >= nglobals)
			return wasm_fail_idx(r, RVM_E_INVALID_MODULE, "unknown global", g);
		if (m->globals[g].mut)
			return invalid(r, "constant expression required");
		e->op = CEXPR_GLOBAL, e->val = g, t = m->globals[g].type;
		break;
	}
	case 0xd0:
		if (!wasm_read_u8(r, &t))
			return false;
		if (!wasm_is_reftype(t))
			return malformed(r, "malformed reference type");
		e->op = CEXPR_REF_NULL, e->val = 0;
		break;
	case 0xd2: {
		uint32_t f;

		if (!wasm_read_u32(r, &f))
			return false;
		if (f >= m->nfuncs)
			return wasm_fail_idx(r, RVM_E_INVALID_MODULE, "unknown function", f);
		wasm_bit_set(m->declared, f);
		e->op = CEXPR_REF_FUNC, e->val = f, t = RVM_WASM_FUNCREF;
		break;
	}
	case 0x0b:
		return invalid(r, "type mismatch");
	default:
		if (op == 0x20 || op == 0x24 || (op >= 0x45 && op <= 0xc4) || op == 0x01 ||
		    op == 0x1a || op == 0x00 || op == 0x28 || op == 0x10 || op == 0x3f)
			return invalid(r, "constant expression required");
		return malformed(r, "illegal opcode");
	}
	if (!wasm_read_u8(r, &op))
		return false;
	/* More than one instruction: a type mismatch if they are all constant ones. */
	while (op != 0x0b) {
		int64_t skip;

		if (op == 0x41 || op == 0x42 || op == 0x23 || op == 0xd2) {
			if (!wasm_read_s64(r, &skip))
				return false;
		} else if (op == 0x43 || op == 0x44) {
			if (r->end - r->p < (op == 0x43 ? 4 : 8))
				return malformed(r, wasm_eof_msg(r));
			r->p += op == 0x43 ? 4 : 8;
		} else if (op == 0xd0) {
			if (!wasm_read_u8(r, &op))
				return false;
		} else {
			return invalid(r, "constant expression required");
		}
		if (!wasm_read_u8(r, &op))
			return false;
		if (op == 0x0b)
			return invalid(r, "type mismatch");
	}
	if (t != want)
		return invalid(r, "type mismatch");
	return true;
}

/* Reads a vector count and allocates count elements of size sz. */
static bool read_vec(struct wasm_reader *r, struct wasm_arena *a, uint32_t *count, size_t sz,
		     void **out)
{
	if (!wasm_read_u32(r, count))
		return false;
	/* Every element takes at least one byte: a bigger count is malformed. */
	if (*count > (size_t)(r->end - r->p))
		return malformed(r, "unexpected end of section or function");
	*out = wasm_alloc(a, (size_t)*count * sz + 1);
	if (!*out)
		return wasm_fail(r, RVM_E_NOMEM, "module arena too small");
	return true;
}

static bool sec_type(struct wasm_reader *r, struct rvm_wasm_module *m, struct wasm_arena *a)
{
	if (!read_vec(r, a, &m->ntypes, sizeof(*m->types), (void **)&m->types))
		return false;
	for (uint32_t i = 0; i < m->ntypes; i++) {
		struct rvm_wasm_functype *ft = &m->types[i];
		uint8_t form;
		uint8_t *v;

		if (!wasm_read_u8(r, &form))
			return false;
		if (form != 0x60)
			return malformed(r, "integer representation too long");
		for (int pass = 0; pass < 2; pass++) {
			uint32_t n;

			if (!read_vec(r, a, &n, 1, (void **)&v))
				return false;
			for (uint32_t k = 0; k < n; k++)
				if (!wasm_read_valtype(r, &v[k]))
					return false;
			if (pass == 0)
				ft->nparams = n, ft->params = v;
			else
				ft->nresults = n, ft->results = v;
		}
	}
	return true;
}

static bool sec_import(struct wasm_reader *r, struct rvm_wasm_module *m, struct wasm_arena *a)
{
	if (!read_vec(r, a, &m->nimports, sizeof(*m->imports), (void **)&m->imports))
		return false;
	/* Import descriptors live in the per-kind arrays, sized after this pass. */
	const uint8_t *start = r->p;
	uint32_t nf = 0, nt = 0, nm = 0, ng = 0;

	for (int pass = 0; pass < 2; pass++) {
		r->p = start;
		if (pass == 1) {
			m->func_type = wasm_alloc(a, (size_t)nf * 4 + 4);
			m->tables = wasm_alloc(a, (size_t)nt * sizeof(*m->tables) + 1);
			m->globals = wasm_alloc(a, (size_t)ng * sizeof(*m->globals) + 1);
			if (!m->func_type || !m->tables || !m->globals)
				return wasm_fail(r, RVM_E_NOMEM, "module arena too small");
		}
		nf = nt = nm = ng = 0;
		for (uint32_t i = 0; i < m->nimports; i++) {
			struct wasm_import *im = &m->imports[i];
			struct wasm_table_def td;
			struct wasm_global_def gd;
			struct wasm_limits lim;

			if (!read_name(r, &im->module) || !read_name(r, &im->name) ||
			    !wasm_read_u8(r, &im->kind))
				return false;
			switch (im->kind) {
			case RVM_WASM_KIND_FUNC:
				if (!wasm_read_u32(r, &im->index))
					return false;
				if (im->index >= m->ntypes)
					return invalid(r, "unknown type");
				if (pass)
					m->func_type[nf] = im->index;
				nf++;
				break;
			case RVM_WASM_KIND_TABLE:
				if (!read_table_type(r, &td))
					return false;
				if (pass)
					m->tables[nt] = td;
				im->index = nt++;
				break;
			case RVM_WASM_KIND_MEMORY:
				if (!read_memory_type(r, &lim))
					return false;
				if (nm)
					return invalid(r, "multiple memories");
				m->mem = lim;
				im->index = nm++;
				break;
			case RVM_WASM_KIND_GLOBAL:
				if (!read_global_type(r, &gd))
					return false;
				if (pass)
					m->globals[ng] = gd;
				im->index = ng++;
				break;
			default:
				return malformed(r, "malformed import kind");
			}
		}
	}
	m->nfunc_imports = m->nfuncs = nf;
	m->ntable_imports = m->ntables = nt;
	m->nmem_imports = m->nmems = nm;
	m->nglobal_imports = m->nglobals = ng;
	return true;
}

static bool sec_function(struct wasm_reader *r, struct rvm_wasm_module *m,
			 struct wasm_arena *a)
{
	uint32_t n;
	uint32_t *all;

	if (!wasm_read_u32(r, &n))
		return false;
	if (n > (size_t)(r->end - r->p))
		return malformed(r, "unexpected end of section or function");
	all = wasm_alloc(a, ((size_t)n + m->nfunc_imports) * 4 + 4);
	if (!all)
		return wasm_fail(r, RVM_E_NOMEM, "module arena too small");
	if (m->nfunc_imports)
		rvm_memcpy(all, m->func_type, (size_t)m->nfunc_imports * 4);
	for (uint32_t i = 0; i < n; i++) {
		if (!wasm_read_u32(r, &all[m->nfunc_imports + i]))
			return false;
		if (all[m->nfunc_imports + i] >= m->ntypes)
			return invalid(r, "unknown type");
	}
	m->func_type = all;
	m->nfuncs = m->nfunc_imports + n;
	return true;
}

static bool sec_table(struct wasm_reader *r, struct rvm_wasm_module *m, struct wasm_arena *a)
{
	uint32_t n;
	struct wasm_table_def *t;

	if (!read_vec(r, a, &n, sizeof(*t), (void **)&t))
		return false;
	struct wasm_table_def *all = wasm_alloc(a, ((size_t)n + m->ntables) * sizeof(*t) + 1);

	if (!all)
		return wasm_fail(r, RVM_E_NOMEM, "module arena too small");
	if (m->ntables)
		rvm_memcpy(all, m->tables, (size_t)m->ntables * sizeof(*t));
	for (uint32_t i = 0; i < n; i++)
		if (!read_table_type(r, &all[m->ntables + i]))
			return false;
	m->tables = all;
	m->ntables += n;
	return true;
}

static bool sec_memory(struct wasm_reader *r, struct rvm_wasm_module *m)
{
	uint32_t n;

	if (!wasm_read_u32(r, &n))
		return false;
	for (uint32_t i = 0; i < n; i++) {
		struct wasm_limits lim;

		if (!read_memory_type(r, &lim))
			return false;
		if (m->nmems)
			return invalid(r, "multiple memories");
		m->mem = lim;
		m->nmems = 1;
	}
	return true;
}

static bool sec_global(struct wasm_reader *r, struct rvm_wasm_module *m, struct wasm_arena *a)
{
	uint32_t n;
	struct wasm_global_def *g;

	if (!read_vec(r, a, &n, sizeof(*g), (void **)&g))
		return false;
	struct wasm_global_def *all = wasm_alloc(a, ((size_t)n + m->nglobals) * sizeof(*g) + 1);

	if (!all)
		return wasm_fail(r, RVM_E_NOMEM, "module arena too small");
	if (m->nglobals)
		rvm_memcpy(all, m->globals, (size_t)m->nglobals * sizeof(*g));
	m->globals = all;
	for (uint32_t i = 0; i < n; i++) {
		struct wasm_global_def *d = &all[m->nglobals];

		if (!read_global_type(r, d) ||
		    !read_cexpr(r, m, m->nglobal_imports, &d->init, d->type))
			return false;
		m->nglobals++;
	}
	return true;
}

static bool name_eq(const struct wasm_name *a, const struct wasm_name *b)
{
	return a->len == b->len && rvm_memcmp(a->s, b->s, a->len) == 0;
}

static bool sec_export(struct wasm_reader *r, struct rvm_wasm_module *m, struct wasm_arena *a)
{
	if (!read_vec(r, a, &m->nexports, sizeof(*m->exports), (void **)&m->exports))
		return false;
	for (uint32_t i = 0; i < m->nexports; i++) {
		struct wasm_export *e = &m->exports[i];
		static const char *const unknown[] = { "unknown function", "unknown table",
						       "unknown memory", "unknown global" };
		uint32_t limit;

		if (!read_name(r, &e->name) || !wasm_read_u8(r, &e->kind) ||
		    !wasm_read_u32(r, &e->index))
			return false;
		if (e->kind > RVM_WASM_KIND_GLOBAL)
			return malformed(r, "malformed export kind");
		limit = e->kind == 0 ? m->nfuncs :
			e->kind == 1 ? m->ntables :
			e->kind == 2 ? m->nmems : m->nglobals;
		if (e->index >= limit)
			return wasm_fail_idx(r, RVM_E_INVALID_MODULE, unknown[e->kind], e->index);
		if (e->kind == RVM_WASM_KIND_FUNC)
			wasm_bit_set(m->declared, e->index);
		/* Quadratic, but export counts are small and this runs once per load. */
		for (uint32_t k = 0; k < i; k++)
			if (name_eq(&m->exports[k].name, &e->name))
				return invalid(r, "duplicate export name");
	}
	return true;
}

static bool sec_start(struct wasm_reader *r, struct rvm_wasm_module *m)
{
	const struct rvm_wasm_functype *ft;

	if (!wasm_read_u32(r, &m->start))
		return false;
	if (m->start >= m->nfuncs)
		return wasm_fail_idx(r, RVM_E_INVALID_MODULE, "unknown function", m->start);
	ft = &m->types[m->func_type[m->start]];
	if (ft->nparams || ft->nresults)
		return invalid(r, "start function");
	return true;
}

static bool read_elem_kind(struct wasm_reader *r)
{
	uint8_t k;

	if (!wasm_read_u8(r, &k))
		return false;
	if (k != 0)
		return malformed(r, "malformed element kind");
	return true;
}

static bool sec_elem(struct wasm_reader *r, struct rvm_wasm_module *m, struct wasm_arena *a)
{
	if (!read_vec(r, a, &m->nelems, sizeof(*m->elems), (void **)&m->elems))
		return false;
	for (uint32_t i = 0; i < m->nelems; i++) {
		struct wasm_elem *e = &m->elems[i];
		uint32_t flags;
		bool exprs;

		if (!wasm_read_u32(r, &flags))
			return false;
		if (flags > 7)
			return malformed(r, "malformed elements segment kind");
		exprs = flags & 4;
		e->type = RVM_WASM_FUNCREF;
		e->mode = !(flags & 1) ? SEG_ACTIVE : (flags & 2) ? SEG_DECLARATIVE : SEG_PASSIVE;
		if (e->mode == SEG_ACTIVE) {
			if ((flags & 2) && !wasm_read_u32(r, &e->table))
				return false;
			if (e->table >= m->ntables)
				return wasm_fail_idx(r, RVM_E_INVALID_MODULE, "unknown table", e->table);
			if (!read_cexpr(r, m, m->nglobal_imports, &e->offset, RVM_WASM_I32))
				return false;
		}
		if (flags & 3) {
			if (exprs) {
				if (!wasm_read_u8(r, &e->type))
					return false;
				if (!wasm_is_reftype(e->type))
					return malformed(r, "malformed reference type");
			} else if (!read_elem_kind(r)) {
				return false;
			}
		}
		if (!read_vec(r, a, &e->count, sizeof(*e->items), (void **)&e->items))
			return false;
		for (uint32_t k = 0; k < e->count; k++) {
			if (exprs) {
				if (!read_cexpr(r, m, m->nglobal_imports, &e->items[k], e->type))
					return false;
				continue;
			}
			uint32_t f;

			if (!wasm_read_u32(r, &f))
				return false;
			if (f >= m->nfuncs)
				return wasm_fail_idx(r, RVM_E_INVALID_MODULE, "unknown function", f);
			wasm_bit_set(m->declared, f);
			e->items[k].op = CEXPR_REF_FUNC;
			e->items[k].val = f;
		}
		if (e->mode == SEG_ACTIVE && m->tables[e->table].type != e->type)
			return invalid(r, "type mismatch");
	}
	return true;
}

static bool sec_data(struct wasm_reader *r, struct rvm_wasm_module *m, struct wasm_arena *a,
		     uint32_t datacount)
{
	uint32_t n;

	if (!read_vec(r, a, &n, sizeof(*m->datas), (void **)&m->datas))
		return false;
	if (m->has_datacount && n != datacount)
		return malformed(r, "data count and data section have inconsistent lengths");
	m->ndatas = n;
	for (uint32_t i = 0; i < n; i++) {
		struct wasm_data *d = &m->datas[i];
		uint32_t flags, mem = 0;

		if (!wasm_read_u32(r, &flags))
			return false;
		if (flags > 2)
			return malformed(r, "malformed data segment kind");
		d->mode = flags == 1 ? SEG_PASSIVE : SEG_ACTIVE;
		if (flags == 2 && !wasm_read_u32(r, &mem))
			return false;
		if (d->mode == SEG_ACTIVE) {
			if (mem >= m->nmems)
				return wasm_fail_idx(r, RVM_E_INVALID_MODULE, "unknown memory", mem);
			if (!read_cexpr(r, m, m->nglobal_imports, &d->offset, RVM_WASM_I32))
				return false;
		}
		if (!wasm_read_u32(r, &d->len))
			return false;
		if (d->len > (size_t)(r->end - r->p))
			return malformed(r, "unexpected end of section or function");
		d->bytes = r->p;
		r->p += d->len;
	}
	return true;
}

static bool sec_code(struct wasm_reader *r, struct rvm_wasm_module *m, struct wasm_arena *a)
{
	uint32_t n, ndef = m->nfuncs - m->nfunc_imports;

	if (!wasm_read_u32(r, &n))
		return false;
	if (n != ndef)
		return malformed(r, "function and code section have inconsistent lengths");
	m->codes = wasm_alloc(a, (size_t)n * sizeof(*m->codes) + 1);
	if (!m->codes)
		return wasm_fail(r, RVM_E_NOMEM, "module arena too small");
	for (uint32_t i = 0; i < n; i++) {
		uint32_t size;
		struct wasm_reader body;

		if (!wasm_read_u32(r, &size))
			return false;
		if (size > (size_t)(r->end - r->p))
			return malformed(r, "unexpected end of section or function");
		body = *r;
		body.end = r->p + size;
		body.sec_end = r->end;
		if (!wasm_translate(m, m->nfunc_imports + i, &body, a, &m->codes[i]))
			return false;
		m->code_words += m->codes[i].nwords;
		r->p += size;
	}
	return true;
}

/* Section ids in the order the binary format requires them (datacount before code). */
static int section_rank(uint8_t id)
{
	static const int8_t rank[13] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 10 };

	return id < 13 ? rank[id] : -1;
}

struct rvm_wasm_module *rvm_wasm_module_load(const uint8_t *bytes, size_t len, void *arena,
					     size_t arena_size, struct rvm_wasm_error *err)
{
	struct wasm_arena a = { (uint8_t *)arena, 0, arena_size };
	struct rvm_wasm_error dummy;
	struct rvm_wasm_module *m;
	struct wasm_reader r;
	uint8_t *copy;
	int last = 0;
	uint32_t datacount = 0;
	bool have_funcs = false, have_code = false;

	if (!err)
		err = &dummy;
	rvm_memset(err, 0, sizeof(*err));
	m = wasm_alloc(&a, sizeof(*m));
	copy = m ? wasm_alloc_raw(&a, len + 1) : NULL; /* overwritten right below */
	if (!m || !copy || len > 0xffffffffu) {
		err->err = RVM_E_NOMEM;
		rvm_memcpy(err->msg, "module arena too small", 23);
		return NULL;
	}
	copy_bytes(copy, bytes, len);
	copy[len] = 0;
	m->bytes = copy;
	m->len = len;
	m->start = UINT32_MAX;
	r.p = r.base = copy;
	r.end = r.mod_end = copy + len;
	r.sec_end = r.end;
	r.in_section = false;
	r.err = err;
	if (len < 4 || rvm_load_le32(copy) != 0x6d736100u) {
		malformed(&r, len < 4 ? "unexpected end" : "magic header not detected");
		return NULL;
	}
	r.p += 4;
	if (len < 8) {
		malformed(&r, "unexpected end");
		return NULL;
	}
	if (rvm_load_le32(copy + 4) != 1) {
		malformed(&r, "unknown binary version");
		return NULL;
	}
	r.p += 4;
	/* Enough bits for any function index: a function needs at least one byte. */
	m->declared = wasm_alloc(&a, len / 8 + 8);
	if (!m->declared) {
		wasm_fail(&r, RVM_E_NOMEM, "module arena too small");
		return NULL;
	}
	while (r.p < r.end) {
		uint8_t id;
		uint32_t size;
		struct wasm_reader s;
		bool ok = true;

		if (!wasm_read_u8(&r, &id) || !wasm_read_u32(&r, &size))
			return NULL;
		if (size > (size_t)(r.end - r.p)) {
			malformed(&r, "length out of bounds");
			return NULL;
		}
		s = r;
		s.end = r.p + size;
		s.in_section = true;
		if (id != 0) {
			int rank = section_rank(id);

			if (rank < 0) {
				r.p--;
				malformed(&r, "malformed section id");
				return NULL;
			}
			if (rank <= last) {
				malformed(&r, "unexpected content after last section");
				return NULL;
			}
			last = rank;
		}
		switch (id) {
		case 0: {
			struct wasm_name nm;

			ok = read_name(&s, &nm);
			s.p = s.end;
			break;
		}
		case 1: ok = sec_type(&s, m, &a); break;
		case 2: ok = sec_import(&s, m, &a); break;
		case 3: ok = sec_function(&s, m, &a), have_funcs = true; break;
		case 4: ok = sec_table(&s, m, &a); break;
		case 5: ok = sec_memory(&s, m); break;
		case 6: ok = sec_global(&s, m, &a); break;
		case 7: ok = sec_export(&s, m, &a); break;
		case 8: ok = sec_start(&s, m); break;
		case 9: ok = sec_elem(&s, m, &a); break;
		case 10: ok = sec_code(&s, m, &a), have_code = true; break;
		case 11: ok = sec_data(&s, m, &a, datacount); break;
		case 12:
			ok = wasm_read_u32(&s, &datacount);
			m->has_datacount = true;
			m->datacount = datacount;
			break;
		}
		if (!ok)
			return NULL;
		if (s.p != s.end) {
			malformed(&s, "section size mismatch");
			return NULL;
		}
		r.p = s.end;
		(void)have_funcs;
	}
	if (!have_code && m->nfuncs != m->nfunc_imports) {
		malformed(&r, "function and code section have inconsistent lengths");
		return NULL;
	}
	if (m->data_used) { /* memory.init or data.drop without a data count section */
		if (m->max_data_idx >= m->ndatas)
			wasm_fail_idx(&r, RVM_E_INVALID_MODULE, "unknown data segment", m->max_data_idx);
		else
			malformed(&r, "data count section required");
		return NULL;
	}
	if (m->has_datacount && m->datas == NULL && datacount != 0) {
		malformed(&r, "data count and data section have inconsistent lengths");
		return NULL;
	}
	m->arena_used = a.used;
	return m;
}
