/* wasm/interp.c - the interpreter: runs translated code with explicit frames and fuel. */
#include "fp.h"
#include "internal.h"

/*
 * Registers of the interpreter: pc (next op), fp (frame base: locals then operands), cb (the
 * running function's code base, for branch targets), the running instance's memory base
 * and size. Calls push a struct wasm_frame; no C recursion per wasm call, so a suspended
 * call stack is plain data (snapshot.c saves it).
 */

#if defined(__GNUC__)
#define RVM_WASM_GOTO 1
#endif

/* Every op the interpreter implements (the dispatch table is built from this list). */
#define WASM_OPS(X)                                                                       \
	X(0x00) X(0x01) X(0x02) X(0x03) X(0x04) X(0x05) X(0x06) X(0x07) X(0x08) X(0x09)    \
	X(0x0a) X(0x0b) X(0x0c) X(0x0d) X(0x0e) X(0x0f) X(0x10) X(0x11) X(0x12) X(0x13)    \
	X(0x14) X(0x15) X(0x16) X(0x17) X(0x18) X(0x19) X(0x1a) X(0x1b) X(0x1c) X(0x1d)    \
	X(0x1e) X(0x1f) X(0x20)                                                            \
	X(0x28) X(0x29) X(0x2a) X(0x2b) X(0x2c) X(0x2d) X(0x2e) X(0x2f) X(0x30) X(0x31)    \
	X(0x32) X(0x33) X(0x34) X(0x35) X(0x36) X(0x37) X(0x38) X(0x39) X(0x3a) X(0x3b)    \
	X(0x3c) X(0x3d) X(0x3e)                                                            \
	X(0x45) X(0x46) X(0x47) X(0x48) X(0x49) X(0x4a) X(0x4b) X(0x4c) X(0x4d) X(0x4e)    \
	X(0x4f) X(0x50) X(0x51) X(0x52) X(0x53) X(0x54) X(0x55) X(0x56) X(0x57) X(0x58)    \
	X(0x59) X(0x5a) X(0x5b) X(0x5c) X(0x5d) X(0x5e) X(0x5f) X(0x60) X(0x61) X(0x62)    \
	X(0x63) X(0x64) X(0x65) X(0x66) X(0x67) X(0x68) X(0x69) X(0x6a) X(0x6b) X(0x6c)    \
	X(0x6d) X(0x6e) X(0x6f) X(0x70) X(0x71) X(0x72) X(0x73) X(0x74) X(0x75) X(0x76)    \
	X(0x77) X(0x78) X(0x79) X(0x7a) X(0x7b) X(0x7c) X(0x7d) X(0x7e) X(0x7f) X(0x80)    \
	X(0x81) X(0x82) X(0x83) X(0x84) X(0x85) X(0x86) X(0x87) X(0x88) X(0x89) X(0x8a)    \
	X(0x8b) X(0x8c) X(0x8d) X(0x8e) X(0x8f) X(0x90) X(0x91) X(0x92) X(0x93) X(0x94)    \
	X(0x95) X(0x96) X(0x97) X(0x98) X(0x99) X(0x9a) X(0x9b) X(0x9c) X(0x9d) X(0x9e)    \
	X(0x9f) X(0xa0) X(0xa1) X(0xa2) X(0xa3) X(0xa4) X(0xa5) X(0xa6) X(0xa7) X(0xa8)    \
	X(0xa9) X(0xaa) X(0xab) X(0xac) X(0xad) X(0xae) X(0xaf) X(0xb0) X(0xb1) X(0xb2)    \
	X(0xb3) X(0xb4) X(0xb5) X(0xb6) X(0xb7) X(0xb8) X(0xb9) X(0xba) X(0xbb) X(0xbc)    \
	X(0xbd) X(0xbe) X(0xbf) X(0xc0) X(0xc1) X(0xc2) X(0xc3) X(0xc4)                    \
	X(0xd0) X(0xd1) X(0xd2) X(0xd3) X(0xd4) X(0xd5) X(0xd6) X(0xd7)                    \
	X(0xe0) X(0xe1) X(0xe2) X(0xe3) X(0xe4) X(0xe5) X(0xe6) X(0xe7) X(0xe8) X(0xe9)    \
	X(0xea) X(0xeb) X(0xec) X(0xed) X(0xee) X(0xef) X(0xf0) X(0xf1) X(0xf2) X(0xf3)    \
	X(0xf4)

_Static_assert(OP_COPY2 == 0x21 && OP_REF_IS_NULL == 0x20, "op numbering");

static inline uint32_t clz32(uint32_t x)
{
	return x ? (uint32_t)__builtin_clz(x) : 32;
}

static inline uint32_t ctz32(uint32_t x)
{
	return x ? 31 - clz32(x & (0u - x)) : 32;
}

static inline uint32_t popcnt32(uint32_t x)
{
	x = x - ((x >> 1) & 0x55555555u);
	x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
	x = (x + (x >> 4)) & 0x0f0f0f0fu;
	return (x * 0x01010101u) >> 24;
}

static inline uint64_t clz64(uint64_t x)
{
	uint32_t hi = (uint32_t)(x >> 32);

	return hi ? clz32(hi) : 32 + clz32((uint32_t)x);
}

static inline uint64_t ctz64(uint64_t x)
{
	uint32_t lo = (uint32_t)x;

	return lo ? ctz32(lo) : 32 + ctz32((uint32_t)(x >> 32));
}

static inline uint64_t popcnt64(uint64_t x)
{
	return popcnt32((uint32_t)x) + popcnt32((uint32_t)(x >> 32));
}

static inline uint32_t rotl32(uint32_t x, uint32_t n)
{
	n &= 31;
	return n ? (x << n) | (x >> (32 - n)) : x;
}

static inline uint32_t rotr32(uint32_t x, uint32_t n)
{
	n &= 31;
	return n ? (x >> n) | (x << (32 - n)) : x;
}

static inline uint64_t rotl64(uint64_t x, uint64_t n)
{
	n &= 63;
	return n ? (x << n) | (x >> (64 - n)) : x;
}

static inline uint64_t rotr64(uint64_t x, uint64_t n)
{
	n &= 63;
	return n ? (x >> n) | (x << (64 - n)) : x;
}

/* Saturating float-to-int conversions (0xfc 0..7). */
static uint64_t sat_convert(uint32_t sub, uint64_t v)
{
	double x;
	bool f32 = sub == 0 || sub == 1 || sub == 4 || sub == 5;

	if (f32 ? f32_isnan((uint32_t)v) : f64_isnan(v))
		return 0;
	x = f32 ? (double)f32_from((uint32_t)v) : f64_from(v);
	switch (sub) {
	case 0:
	case 2:
		if (x <= -2147483649.0)
			return (uint32_t)INT32_MIN;
		if (x >= 2147483648.0)
			return (uint32_t)INT32_MAX;
		return (uint32_t)(int32_t)x;
	case 1:
	case 3:
		if (x <= -1.0)
			return 0;
		if (x >= 4294967296.0)
			return UINT32_MAX;
		return (uint32_t)x;
	case 4:
	case 6:
		if (x < -9223372036854775808.0)
			return (uint64_t)INT64_MIN;
		if (x >= 9223372036854775808.0)
			return (uint64_t)INT64_MAX;
		return (uint64_t)(int64_t)x;
	default:
		if (x <= -1.0)
			return 0;
		if (x >= 18446744073709551616.0)
			return UINT64_MAX;
		return (uint64_t)x;
	}
}

int64_t wasm_memory_grow(struct rvm_wasm_memory *mem, uint32_t delta)
{
	uint64_t old = mem->size / RVM_WASM_PAGE;
	uint64_t pages = old + delta;

	if (pages > mem->max_pages || pages * RVM_WASM_PAGE > mem->cap)
		return -1;
	wasm_zero(mem->data + mem->size, (size_t)delta * RVM_WASM_PAGE);
	mem->size = pages * RVM_WASM_PAGE;
	return (int64_t)old;
}

int64_t wasm_table_grow(struct rvm_wasm_table *t, uint32_t delta, uint64_t init)
{
	uint32_t old = t->size;

	if ((uint64_t)old + delta > t->max || (uint64_t)old + delta > t->cap)
		return -1;
	for (uint32_t i = 0; i < delta; i++)
		t->elems[old + i] = init;
	t->size = old + delta;
	return old;
}

#define TRAP(code)                   \
	do {                         \
		trap = (code);       \
		goto trapped;        \
	} while (0)

#define R32(k) ((uint32_t)fp[pc[k]])
#define R64(k) (fp[pc[k]])
#define W32(k, v) (fp[pc[k]] = (uint32_t)(v))
#define W64(k, v) (fp[pc[k]] = (uint64_t)(v))
#define RF32(k) f32_from(R32(k))
#define RF64(k) f64_from(R64(k))

#ifdef RVM_WASM_GOTO
#define CASE(n) L_##n
#define NEXT() goto *dispatch[*pc]
#else
#define CASE(n) case n
#define NEXT() goto top
#endif

#define BIN32(op, expr)                                 \
	CASE(op) : {                                    \
		uint32_t a = R32(2), b = R32(3);        \
		W32(1, (expr));                         \
		pc += 4;                                \
		NEXT();                                 \
	}
#define BIN64(op, expr)                                 \
	CASE(op) : {                                    \
		uint64_t a = R64(2), b = R64(3);        \
		W64(1, (expr));                         \
		pc += 4;                                \
		NEXT();                                 \
	}
#define CMP64(op, expr) BIN64(op, (expr) ? 1u : 0u)
#define UN32(op, expr)                                  \
	CASE(op) : {                                    \
		uint32_t a = R32(2);                    \
		W32(1, (expr));                         \
		pc += 3;                                \
		NEXT();                                 \
	}
#define UN64(op, expr)                                  \
	CASE(op) : {                                    \
		uint64_t a = R64(2);                    \
		W64(1, (expr));                         \
		pc += 3;                                \
		NEXT();                                 \
	}
#define BINF32(op, expr)                                \
	CASE(op) : {                                    \
		float a = RF32(2), b = RF32(3);         \
		W32(1, (expr));                         \
		pc += 4;                                \
		NEXT();                                 \
	}
#define BINF64(op, expr)                                \
	CASE(op) : {                                    \
		double a = RF64(2), b = RF64(3);        \
		W64(1, (expr));                         \
		pc += 4;                                \
		NEXT();                                 \
	}
#define IMM32(op, expr)                                 \
	CASE(op) : {                                    \
		uint32_t a = R32(2), b = pc[3];         \
		W32(1, (expr));                         \
		pc += 4;                                \
		NEXT();                                 \
	}
#define BRCMP(op, expr)                                 \
	CASE(op) : {                                    \
		uint32_t a = R32(1), b = R32(2);        \
		pc = (expr) ? cb + pc[3] : pc + 4;      \
		NEXT();                                 \
	}

#define LOAD(op, n, T, conv)                                              \
	CASE(op) : {                                                      \
		uint64_t ea = (uint64_t)R32(2) + pc[3];                   \
		T v;                                                      \
		if (ea + (n) > msize)                                     \
			TRAP(RVM_WASM_TRAP_MEM_OOB);                      \
		__builtin_memcpy(&v, mbase + ea, (n));                    \
		fp[pc[1]] = (conv);                                       \
		pc += 4;                                                  \
		NEXT();                                                   \
	}
#define STORE(op, n, T)                                                   \
	CASE(op) : {                                                      \
		uint64_t ea = (uint64_t)R32(1) + pc[3];                   \
		T v = (T)fp[pc[2]];                                       \
		if (ea + (n) > msize)                                     \
			TRAP(RVM_WASM_TRAP_MEM_OOB);                      \
		__builtin_memcpy(mbase + ea, &v, (n));                    \
		pc += 4;                                                  \
		NEXT();                                                   \
	}

#define LOAD_CTX()                                                        \
	do {                                                              \
		ci = cur->inst;                                           \
		mem = ci->mem;                                            \
		mbase = mem ? mem->data : NULL;                           \
		msize = mem ? mem->size : 0;                              \
	} while (0)

enum rvm_wasm_status wasm_interp(struct rvm_wasm_instance *inst, int64_t *fuelp)
{
#ifdef RVM_WASM_GOTO
#define LABEL_ADDR(n) [n] = &&L_##n,
	/* cppcheck reads the GNU label-address operator && as a boolean. */
	/* cppcheck-suppress assignBoolToPointer */
	static const void *const dispatch[256] = { WASM_OPS(LABEL_ADDR) };
#endif
	const uint32_t *pc = inst->pc;
	uint64_t *fp = inst->fp;
	struct rvm_wasm_func *cur = inst->cur;
	struct rvm_wasm_instance *ci;
	struct rvm_wasm_memory *mem;
	uint8_t *mbase;
	uint64_t msize;
	const uint32_t *cb = cur->code->words;
	uint64_t *stack_end = inst->stack + inst->stack_slots;
	struct wasm_frame *frames = inst->frames;
	uint32_t nframes = inst->nframes;
	int64_t fuel = *fuelp;
	enum rvm_wasm_trap trap;
	struct rvm_wasm_func *f;
	uint64_t *nfp;
	const uint32_t *at = pc; /* the call op being executed (a suspended host call retries it) */

	LOAD_CTX();
#ifdef RVM_WASM_GOTO
	NEXT();
#else
top:
	switch (*pc) {
#endif
	CASE(0x00) : TRAP(RVM_WASM_TRAP_UNREACHABLE);
	CASE(0x01) : /* OP_FUEL cost */
		if (fuel <= 0)
			goto suspend;
		fuel -= pc[1];
		pc += 2;
		NEXT();
	CASE(0x02) : /* OP_BR */
		pc = cb + pc[1];
		NEXT();
	CASE(0x03) : { /* OP_BR_COPY target n src dst */
		uint64_t *s = fp + pc[3], *d = fp + pc[4];

		for (uint32_t i = 0, n = pc[2]; i < n; i++)
			d[i] = s[i];
		pc = cb + pc[1];
		NEXT();
	}
	CASE(0x04) : /* OP_BR_IF c target */
		pc = R32(1) ? cb + pc[2] : pc + 3;
		NEXT();
	CASE(0x05) : /* OP_BR_IFZ c target */
		pc = R32(1) ? pc + 3 : cb + pc[2];
		NEXT();
	CASE(0x06) : /* OP_BR_IF_COPY c target n src dst */
		if (R32(1)) {
			uint64_t *s = fp + pc[4], *d = fp + pc[5];

			for (uint32_t i = 0, n = pc[3]; i < n; i++)
				d[i] = s[i];
			pc = cb + pc[2];
		} else {
			pc += 6;
		}
		NEXT();
	CASE(0x07) : { /* OP_BR_TABLE c count {target n src dst}... */
		uint32_t i = R32(1), count = pc[2];
		const uint32_t *e = pc + 3 + 4 * (i < count ? i : count);
		uint64_t *s = fp + e[2], *d = fp + e[3];

		for (uint32_t k = 0, n = e[1]; k < n; k++)
			d[k] = s[k];
		pc = cb + e[0];
		NEXT();
	}
	CASE(0x08) : { /* OP_RETURN n src */
		uint64_t *s = fp + pc[2];

		for (uint32_t i = 0, n = pc[1]; i < n; i++)
			fp[i] = s[i];
		if (nframes == 0)
			goto done;
		struct wasm_frame *fr = &frames[--nframes];

		pc = fr->ret_pc;
		fp = fr->fp;
		if (fr->func->inst != cur->inst) {
			cur = fr->func;
			LOAD_CTX();
		}
		cur = fr->func;
		cb = cur->code->words;
		NEXT();
	}
	CASE(0x09) : /* OP_CALL func base */
		f = ci->funcs[pc[1]];
		nfp = fp + pc[2];
		at = pc;
		pc += 3;
		goto call;
	CASE(0x0a) : { /* OP_CALL_INDIRECT table type c base */
		struct rvm_wasm_table *t = ci->tables[pc[1]];
		uint32_t i = R32(3);

		inst->trap_index = i;
		if (i >= t->size)
			TRAP(RVM_WASM_TRAP_UNDEF_ELEM);
		f = (struct rvm_wasm_func *)(uintptr_t)t->elems[i];
		if (!f)
			TRAP(RVM_WASM_TRAP_UNINIT_ELEM);
		if (!rvm_wasm_functype_eq(f->type, &ci->mod->types[pc[2]]))
			TRAP(RVM_WASM_TRAP_SIG_MISMATCH);
		nfp = fp + pc[4];
		at = pc;
		pc += 5;
		goto call;
	}
	CASE(0x0b) : /* OP_COPY d a */
		fp[pc[1]] = fp[pc[2]];
		pc += 3;
		NEXT();
	CASE(0x0c) : /* OP_CONST32 d v */
		fp[pc[1]] = pc[2];
		pc += 3;
		NEXT();
	CASE(0x0d) : /* OP_CONST64 d lo hi */
		fp[pc[1]] = (uint64_t)pc[3] << 32 | pc[2];
		pc += 4;
		NEXT();
	CASE(0x0e) : /* OP_SELECT d a b c */
		fp[pc[1]] = R32(4) ? fp[pc[2]] : fp[pc[3]];
		pc += 5;
		NEXT();
	CASE(0x0f) : /* OP_GLOBAL_GET d g */
		fp[pc[1]] = ci->globals[pc[2]]->value;
		pc += 3;
		NEXT();
	CASE(0x10) : /* OP_GLOBAL_SET g a */
		ci->globals[pc[1]]->value = fp[pc[2]];
		pc += 3;
		NEXT();
	CASE(0x11) : /* OP_MEMORY_SIZE d */
		W32(1, msize / RVM_WASM_PAGE);
		pc += 2;
		NEXT();
	CASE(0x12) : /* OP_MEMORY_GROW d a */
		W32(1, (uint32_t)wasm_memory_grow(mem, R32(2)));
		msize = mem->size;
		pc += 3;
		NEXT();
	CASE(0x13) : { /* OP_MEMORY_INIT seg d s n */
		const struct wasm_data *seg = &ci->mod->datas[pc[1]];
		uint64_t d = R32(2), s = R32(3), n = R32(4);
		uint64_t len = wasm_bit(ci->data_dropped, pc[1]) ? 0 : seg->len;

		if (s + n > len || d + n > msize)
			TRAP(RVM_WASM_TRAP_MEM_OOB);
		rvm_memcpy(mbase + d, seg->bytes + s, (size_t)n);
		pc += 5;
		NEXT();
	}
	CASE(0x14) : /* OP_DATA_DROP seg */
		wasm_bit_set(ci->data_dropped, pc[1]);
		pc += 2;
		NEXT();
	CASE(0x15) : { /* OP_MEMORY_COPY d s n */
		uint64_t d = R32(1), s = R32(2), n = R32(3);

		if (s + n > msize || d + n > msize)
			TRAP(RVM_WASM_TRAP_MEM_OOB);
		rvm_memmove(mbase + d, mbase + s, (size_t)n);
		pc += 4;
		NEXT();
	}
	CASE(0x16) : { /* OP_MEMORY_FILL d v n */
		uint64_t d = R32(1), n = R32(3);

		if (d + n > msize)
			TRAP(RVM_WASM_TRAP_MEM_OOB);
		rvm_memset(mbase + d, (int)(uint8_t)R32(2), (size_t)n);
		pc += 4;
		NEXT();
	}
	CASE(0x17) : { /* OP_TABLE_GET t d i */
		struct rvm_wasm_table *t = ci->tables[pc[1]];
		uint32_t i = R32(3);

		if (i >= t->size)
			TRAP(RVM_WASM_TRAP_TABLE_OOB);
		fp[pc[2]] = t->elems[i];
		pc += 4;
		NEXT();
	}
	CASE(0x18) : { /* OP_TABLE_SET t i v */
		struct rvm_wasm_table *t = ci->tables[pc[1]];
		uint32_t i = R32(2);

		if (i >= t->size)
			TRAP(RVM_WASM_TRAP_TABLE_OOB);
		t->elems[i] = fp[pc[3]];
		pc += 4;
		NEXT();
	}
	CASE(0x19) : /* OP_TABLE_SIZE t d */
		fp[pc[2]] = ci->tables[pc[1]]->size;
		pc += 3;
		NEXT();
	CASE(0x1a) : /* OP_TABLE_GROW t d v n */
		fp[pc[2]] = (uint32_t)wasm_table_grow(ci->tables[pc[1]], R32(4), fp[pc[3]]);
		pc += 5;
		NEXT();
	CASE(0x1b) : { /* OP_TABLE_FILL t i v n */
		struct rvm_wasm_table *t = ci->tables[pc[1]];
		uint64_t i = R32(2), n = R32(4), v = fp[pc[3]];

		if (i + n > t->size)
			TRAP(RVM_WASM_TRAP_TABLE_OOB);
		for (uint64_t k = 0; k < n; k++)
			t->elems[i + k] = v;
		pc += 5;
		NEXT();
	}
	CASE(0x1c) : { /* OP_TABLE_COPY dt st d s n */
		struct rvm_wasm_table *dt = ci->tables[pc[1]], *st = ci->tables[pc[2]];
		uint64_t d = R32(3), s = R32(4), n = R32(5);

		if (s + n > st->size || d + n > dt->size)
			TRAP(RVM_WASM_TRAP_TABLE_OOB);
		rvm_memmove(dt->elems + d, st->elems + s, (size_t)n * sizeof(uint64_t));
		pc += 6;
		NEXT();
	}
	CASE(0x1d) : /* OP_TABLE_INIT t seg d s n */
		trap = wasm_table_init(ci, pc[1], pc[2], R32(3), R32(4), R32(5));
		if (trap)
			goto trapped;
		pc += 6;
		NEXT();
	CASE(0x1e) : /* OP_ELEM_DROP seg */
		wasm_bit_set(ci->elem_dropped, pc[1]);
		pc += 2;
		NEXT();
	CASE(0x1f) : /* OP_REF_FUNC d f */
		fp[pc[1]] = (uint64_t)(uintptr_t)ci->funcs[pc[2]];
		pc += 3;
		NEXT();
	CASE(0x20) : /* OP_REF_IS_NULL d a */
		fp[pc[1]] = fp[pc[2]] == 0;
		pc += 3;
		NEXT();

	LOAD(0x28, 4, uint32_t, v)
	LOAD(0x29, 8, uint64_t, v)
	LOAD(0x2a, 4, uint32_t, v)
	LOAD(0x2b, 8, uint64_t, v)
	LOAD(0x2c, 1, int8_t, (uint32_t)(int32_t)v)
	LOAD(0x2d, 1, uint8_t, v)
	LOAD(0x2e, 2, int16_t, (uint32_t)(int32_t)v)
	LOAD(0x2f, 2, uint16_t, v)
	LOAD(0x30, 1, int8_t, (uint64_t)(int64_t)v)
	LOAD(0x31, 1, uint8_t, v)
	LOAD(0x32, 2, int16_t, (uint64_t)(int64_t)v)
	LOAD(0x33, 2, uint16_t, v)
	LOAD(0x34, 4, int32_t, (uint64_t)(int64_t)v)
	LOAD(0x35, 4, uint32_t, v)
	STORE(0x36, 4, uint32_t)
	STORE(0x37, 8, uint64_t)
	STORE(0x38, 4, uint32_t)
	STORE(0x39, 8, uint64_t)
	STORE(0x3a, 1, uint8_t)
	STORE(0x3b, 2, uint16_t)
	STORE(0x3c, 1, uint8_t)
	STORE(0x3d, 2, uint16_t)
	STORE(0x3e, 4, uint32_t)

	UN32(0x45, a == 0)
	BIN32(0x46, a == b)
	BIN32(0x47, a != b)
	BIN32(0x48, (int32_t)a < (int32_t)b)
	BIN32(0x49, a < b)
	BIN32(0x4a, (int32_t)a > (int32_t)b)
	BIN32(0x4b, a > b)
	BIN32(0x4c, (int32_t)a <= (int32_t)b)
	BIN32(0x4d, a <= b)
	BIN32(0x4e, (int32_t)a >= (int32_t)b)
	BIN32(0x4f, a >= b)
	UN64(0x50, a == 0)
	CMP64(0x51, a == b)
	CMP64(0x52, a != b)
	CMP64(0x53, (int64_t)a < (int64_t)b)
	CMP64(0x54, a < b)
	CMP64(0x55, (int64_t)a > (int64_t)b)
	CMP64(0x56, a > b)
	CMP64(0x57, (int64_t)a <= (int64_t)b)
	CMP64(0x58, a <= b)
	CMP64(0x59, (int64_t)a >= (int64_t)b)
	CMP64(0x5a, a >= b)
	BINF32(0x5b, a == b)
	BINF32(0x5c, a != b)
	BINF32(0x5d, a < b)
	BINF32(0x5e, a > b)
	BINF32(0x5f, a <= b)
	BINF32(0x60, a >= b)
	CASE(0x61) : { double a = RF64(2), b = RF64(3); W64(1, a == b); pc += 4; NEXT(); }
	CASE(0x62) : { double a = RF64(2), b = RF64(3); W64(1, a != b); pc += 4; NEXT(); }
	CASE(0x63) : { double a = RF64(2), b = RF64(3); W64(1, a < b); pc += 4; NEXT(); }
	CASE(0x64) : { double a = RF64(2), b = RF64(3); W64(1, a > b); pc += 4; NEXT(); }
	CASE(0x65) : { double a = RF64(2), b = RF64(3); W64(1, a <= b); pc += 4; NEXT(); }
	CASE(0x66) : { double a = RF64(2), b = RF64(3); W64(1, a >= b); pc += 4; NEXT(); }
	UN32(0x67, clz32(a))
	UN32(0x68, ctz32(a))
	UN32(0x69, popcnt32(a))
	BIN32(0x6a, a + b)
	BIN32(0x6b, a - b)
	BIN32(0x6c, a * b)
	CASE(0x6d) : { /* i32.div_s */
		uint32_t a = R32(2), b = R32(3);

		if (b == 0)
			TRAP(RVM_WASM_TRAP_DIV_ZERO);
		if (a == 0x80000000u && b == 0xffffffffu)
			TRAP(RVM_WASM_TRAP_INT_OVERFLOW);
		W32(1, (int32_t)a / (int32_t)b);
		pc += 4;
		NEXT();
	}
	CASE(0x6e) : {
		uint32_t a = R32(2), b = R32(3);

		if (b == 0)
			TRAP(RVM_WASM_TRAP_DIV_ZERO);
		W32(1, a / b);
		pc += 4;
		NEXT();
	}
	CASE(0x6f) : {
		uint32_t a = R32(2), b = R32(3);

		if (b == 0)
			TRAP(RVM_WASM_TRAP_DIV_ZERO);
		W32(1, b == 0xffffffffu ? 0 : (uint32_t)((int32_t)a % (int32_t)b));
		pc += 4;
		NEXT();
	}
	CASE(0x70) : {
		uint32_t a = R32(2), b = R32(3);

		if (b == 0)
			TRAP(RVM_WASM_TRAP_DIV_ZERO);
		W32(1, a % b);
		pc += 4;
		NEXT();
	}
	BIN32(0x71, a & b)
	BIN32(0x72, a | b)
	BIN32(0x73, a ^ b)
	BIN32(0x74, a << (b & 31))
	BIN32(0x75, (uint32_t)((int32_t)a >> (b & 31)))
	BIN32(0x76, a >> (b & 31))
	BIN32(0x77, rotl32(a, b))
	BIN32(0x78, rotr32(a, b))
	UN64(0x79, clz64(a))
	UN64(0x7a, ctz64(a))
	UN64(0x7b, popcnt64(a))
	BIN64(0x7c, a + b)
	BIN64(0x7d, a - b)
	BIN64(0x7e, a * b)
	CASE(0x7f) : {
		uint64_t a = R64(2), b = R64(3);

		if (b == 0)
			TRAP(RVM_WASM_TRAP_DIV_ZERO);
		if (a == 0x8000000000000000ull && b == ~0ull)
			TRAP(RVM_WASM_TRAP_INT_OVERFLOW);
		W64(1, (int64_t)a / (int64_t)b);
		pc += 4;
		NEXT();
	}
	CASE(0x80) : {
		uint64_t a = R64(2), b = R64(3);

		if (b == 0)
			TRAP(RVM_WASM_TRAP_DIV_ZERO);
		W64(1, a / b);
		pc += 4;
		NEXT();
	}
	CASE(0x81) : {
		uint64_t a = R64(2), b = R64(3);

		if (b == 0)
			TRAP(RVM_WASM_TRAP_DIV_ZERO);
		W64(1, b == ~0ull ? 0 : (uint64_t)((int64_t)a % (int64_t)b));
		pc += 4;
		NEXT();
	}
	CASE(0x82) : {
		uint64_t a = R64(2), b = R64(3);

		if (b == 0)
			TRAP(RVM_WASM_TRAP_DIV_ZERO);
		W64(1, a % b);
		pc += 4;
		NEXT();
	}
	BIN64(0x83, a & b)
	BIN64(0x84, a | b)
	BIN64(0x85, a ^ b)
	BIN64(0x86, a << (b & 63))
	BIN64(0x87, (uint64_t)((int64_t)a >> (b & 63)))
	BIN64(0x88, a >> (b & 63))
	BIN64(0x89, rotl64(a, b))
	BIN64(0x8a, rotr64(a, b))
	UN32(0x8b, a & ~F32_SIGN)
	UN32(0x8c, a ^ F32_SIGN)
	UN32(0x8d, f32_ceil(a))
	UN32(0x8e, f32_floor(a))
	UN32(0x8f, f32_trunc(a))
	UN32(0x90, f32_nearest(a))
	UN32(0x91, f32_sqrt(a))
	BINF32(0x92, f32_bits(a + b))
	BINF32(0x93, f32_bits(a - b))
	BINF32(0x94, f32_bits(a * b))
	BINF32(0x95, f32_bits(a / b))
	BIN32(0x96, f32_min(a, b))
	BIN32(0x97, f32_max(a, b))
	BIN32(0x98, (a & ~F32_SIGN) | (b & F32_SIGN))
	UN64(0x99, a & ~F64_SIGN)
	UN64(0x9a, a ^ F64_SIGN)
	UN64(0x9b, f64_ceil(a))
	UN64(0x9c, f64_floor(a))
	UN64(0x9d, f64_trunc(a))
	UN64(0x9e, f64_nearest(a))
	UN64(0x9f, f64_sqrt(a))
	BINF64(0xa0, f64_bits(a + b))
	BINF64(0xa1, f64_bits(a - b))
	BINF64(0xa2, f64_bits(a * b))
	BINF64(0xa3, f64_bits(a / b))
	BIN64(0xa4, f64_min(a, b))
	BIN64(0xa5, f64_max(a, b))
	BIN64(0xa6, (a & ~F64_SIGN) | (b & F64_SIGN))
	UN32(0xa7, a)
	CASE(0xa8) : { /* i32.trunc_f32_s */
		uint32_t a = R32(2);
		float x = f32_from(a);

		if (f32_isnan(a))
			TRAP(RVM_WASM_TRAP_INVALID_CONV);
		if (!(x >= -2147483648.0f && x < 2147483648.0f))
			TRAP(RVM_WASM_TRAP_INT_OVERFLOW);
		W32(1, (int32_t)x);
		pc += 3;
		NEXT();
	}
	CASE(0xa9) : {
		uint32_t a = R32(2);
		float x = f32_from(a);

		if (f32_isnan(a))
			TRAP(RVM_WASM_TRAP_INVALID_CONV);
		if (!(x > -1.0f && x < 4294967296.0f))
			TRAP(RVM_WASM_TRAP_INT_OVERFLOW);
		W32(1, (uint32_t)x);
		pc += 3;
		NEXT();
	}
	CASE(0xaa) : {
		uint64_t a = R64(2);
		double x = f64_from(a);

		if (f64_isnan(a))
			TRAP(RVM_WASM_TRAP_INVALID_CONV);
		if (!(x > -2147483649.0 && x < 2147483648.0))
			TRAP(RVM_WASM_TRAP_INT_OVERFLOW);
		W32(1, (int32_t)x);
		pc += 3;
		NEXT();
	}
	CASE(0xab) : {
		uint64_t a = R64(2);
		double x = f64_from(a);

		if (f64_isnan(a))
			TRAP(RVM_WASM_TRAP_INVALID_CONV);
		if (!(x > -1.0 && x < 4294967296.0))
			TRAP(RVM_WASM_TRAP_INT_OVERFLOW);
		W32(1, (uint32_t)x);
		pc += 3;
		NEXT();
	}
	UN64(0xac, (uint64_t)(int64_t)(int32_t)(uint32_t)a)
	UN64(0xad, (uint32_t)a)
	CASE(0xae) : {
		uint32_t a = R32(2);
		float x = f32_from(a);

		if (f32_isnan(a))
			TRAP(RVM_WASM_TRAP_INVALID_CONV);
		if (!(x >= -9223372036854775808.0f && x < 9223372036854775808.0f))
			TRAP(RVM_WASM_TRAP_INT_OVERFLOW);
		W64(1, (int64_t)x);
		pc += 3;
		NEXT();
	}
	CASE(0xaf) : {
		uint32_t a = R32(2);
		float x = f32_from(a);

		if (f32_isnan(a))
			TRAP(RVM_WASM_TRAP_INVALID_CONV);
		if (!(x > -1.0f && x < 18446744073709551616.0f))
			TRAP(RVM_WASM_TRAP_INT_OVERFLOW);
		W64(1, (uint64_t)x);
		pc += 3;
		NEXT();
	}
	CASE(0xb0) : {
		uint64_t a = R64(2);
		double x = f64_from(a);

		if (f64_isnan(a))
			TRAP(RVM_WASM_TRAP_INVALID_CONV);
		if (!(x >= -9223372036854775808.0 && x < 9223372036854775808.0))
			TRAP(RVM_WASM_TRAP_INT_OVERFLOW);
		W64(1, (int64_t)x);
		pc += 3;
		NEXT();
	}
	CASE(0xb1) : {
		uint64_t a = R64(2);
		double x = f64_from(a);

		if (f64_isnan(a))
			TRAP(RVM_WASM_TRAP_INVALID_CONV);
		if (!(x > -1.0 && x < 18446744073709551616.0))
			TRAP(RVM_WASM_TRAP_INT_OVERFLOW);
		W64(1, (uint64_t)x);
		pc += 3;
		NEXT();
	}
	UN32(0xb2, f32_bits((float)(int32_t)a))
	UN32(0xb3, f32_bits((float)a))
	CASE(0xb4) : { W32(1, f32_bits((float)(int64_t)R64(2))); pc += 3; NEXT(); }
	CASE(0xb5) : { W32(1, f32_bits((float)R64(2))); pc += 3; NEXT(); }
	CASE(0xb6) : { W32(1, f32_bits((float)RF64(2))); pc += 3; NEXT(); }
	CASE(0xb7) : { W64(1, f64_bits((double)(int32_t)R32(2))); pc += 3; NEXT(); }
	CASE(0xb8) : { W64(1, f64_bits((double)R32(2))); pc += 3; NEXT(); }
	UN64(0xb9, f64_bits((double)(int64_t)a))
	UN64(0xba, f64_bits((double)a))
	CASE(0xbb) : { W64(1, f64_bits((double)RF32(2))); pc += 3; NEXT(); }
	UN32(0xbc, a)
	UN64(0xbd, a)
	UN32(0xbe, a)
	UN64(0xbf, a)
	UN32(0xc0, (uint32_t)(int32_t)(int8_t)a)
	UN32(0xc1, (uint32_t)(int32_t)(int16_t)a)
	UN64(0xc2, (uint64_t)(int64_t)(int8_t)a)
	UN64(0xc3, (uint64_t)(int64_t)(int16_t)a)
	UN64(0xc4, (uint64_t)(int64_t)(int32_t)a)
	UN64(0xd0, sat_convert(0, a))
	UN64(0xd1, sat_convert(1, a))
	UN64(0xd2, sat_convert(2, a))
	UN64(0xd3, sat_convert(3, a))
	UN64(0xd4, sat_convert(4, a))
	UN64(0xd5, sat_convert(5, a))
	UN64(0xd6, sat_convert(6, a))
	UN64(0xd7, sat_convert(7, a))
	IMM32(0xe0, a + b)
	IMM32(0xe1, a - b)
	IMM32(0xe2, a & b)
	IMM32(0xe3, a << (b & 31))
	IMM32(0xe4, a >> (b & 31))
	IMM32(0xe5, (uint32_t)((int32_t)a >> (b & 31)))
	IMM32(0xe6, a | b)
	IMM32(0xe7, a ^ b)
	IMM32(0xe8, a * b)
	CASE(0xe9) : { /* i64.add with a sign-extended 32-bit immediate */
		W64(1, R64(2) + (uint64_t)(int64_t)(int32_t)pc[3]);
		pc += 4;
		NEXT();
	}
	CASE(0xea) : /* unused slot kept for numbering; behaves as BR_IFZ */
		pc = R32(1) ? pc + 3 : cb + pc[2];
		NEXT();
	BRCMP(0xeb, (int32_t)a < (int32_t)b)
	BRCMP(0xec, a < b)
	BRCMP(0xed, (int32_t)a >= (int32_t)b)
	BRCMP(0xee, a >= b)
	BRCMP(0xef, a == b)
	BRCMP(0xf0, a != b)
	BRCMP(0xf1, (int32_t)a > (int32_t)b)
	BRCMP(0xf2, a > b)
	BRCMP(0xf3, (int32_t)a <= (int32_t)b)
	BRCMP(0xf4, a <= b)
#ifndef RVM_WASM_GOTO
	default:
		TRAP(RVM_WASM_TRAP_UNREACHABLE);
	}
#endif

call:
	/* f: callee; nfp: its frame (arguments in place); pc: the return address. */
	if (f->host) {
		inst->pc = pc;
		trap = f->host(f->host_ctx, ci, nfp);
		if (trap) {
			if (trap == RVM_WASM_TRAP_SUSPEND) {
				/* Back to the call op; its stretch is paid, so the retry is free. */
				pc = at;
				goto suspend_host;
			}
			if ((unsigned)trap >= RVM_WASM_TRAP_COUNT)
				trap = RVM_WASM_TRAP_HOST;
			goto trapped;
		}
		msize = mem ? mem->size : 0;
		NEXT();
	}
	{
		const struct rvm_wasm_code *code = f->code;

		if (nframes >= inst->max_frames)
			TRAP(RVM_WASM_TRAP_CALL_DEPTH);
		if ((uint64_t)(stack_end - nfp) < code->max_slots)
			TRAP(RVM_WASM_TRAP_STACK_EXHAUSTED);
		frames[nframes].ret_pc = pc;
		frames[nframes].fp = fp;
		frames[nframes].func = cur;
		nframes++;
		for (uint32_t i = 0; i < code->nlocals; i++)
			nfp[code->nparams + i] = 0;
		fp = nfp;
		if (f->inst != cur->inst) {
			cur = f;
			LOAD_CTX();
		}
		cur = f;
		cb = code->words;
		pc = cb;
		NEXT();
	}

suspend:
	inst->pc = pc;
	inst->fp = fp;
	inst->cur = cur;
	inst->nframes = nframes;
	*fuelp = fuel;
	return RVM_WASM_OUT_OF_FUEL;
suspend_host:
	inst->pc = pc;
	inst->fp = fp;
	inst->cur = cur;
	inst->nframes = nframes;
	*fuelp = fuel;
	return RVM_WASM_SUSPENDED;
done:
	inst->pc = pc;
	inst->fp = fp;
	inst->nframes = 0;
	*fuelp = fuel;
	return RVM_WASM_DONE;
trapped:
	inst->trap = (uint8_t)trap;
	inst->pc = pc;
	inst->nframes = 0;
	*fuelp = fuel;
	return RVM_WASM_TRAPPED;
}
