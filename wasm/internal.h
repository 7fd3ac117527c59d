/* wasm/internal.h - the engine's private structures: decoded module, internal code, instance. */
#ifndef RVM_WASM_INTERNAL_H
#define RVM_WASM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rvm/bytes.h>
#include <rvm/wasm.h>

/* Bump allocator over a caller-provided buffer. Invariant: used <= cap. */
struct wasm_arena {
	uint8_t *base;
	size_t used;
	size_t cap;
};

void *wasm_alloc(struct wasm_arena *a, size_t n);
/* Like wasm_alloc, without zeroing (for storage written before it is read). */
void *wasm_alloc_raw(struct wasm_arena *a, size_t n);
/* Zeroes n bytes a word at a time (linear memory, tables): rvm_memset goes byte by byte. */
void wasm_zero(void *p, size_t n);

/* Constant expression: one value-producing instruction (plus end). */
enum wasm_cexpr_op {
	CEXPR_CONST = 0, /* val holds the bits */
	CEXPR_GLOBAL,	 /* val = global index */
	CEXPR_REF_NULL,
	CEXPR_REF_FUNC, /* val = function index */
};

struct wasm_cexpr {
	uint8_t op;
	uint64_t val;
};

struct wasm_name {
	const char *s;
	uint32_t len;
};

struct wasm_limits {
	uint32_t min, max;
	bool has_max;
};

struct wasm_import {
	struct wasm_name module, name;
	uint8_t kind;
	uint32_t index; /* function type index, or index in the kind's space */
};

struct wasm_export {
	struct wasm_name name;
	uint8_t kind;
	uint32_t index;
};

struct wasm_table_def {
	uint8_t type;
	struct wasm_limits lim;
};

struct wasm_global_def {
	uint8_t type;
	bool mut;
	struct wasm_cexpr init; /* defined globals only */
};

enum wasm_seg_mode { SEG_ACTIVE = 0, SEG_PASSIVE, SEG_DECLARATIVE };

struct wasm_elem {
	uint8_t mode;
	uint8_t type;
	uint32_t table;
	struct wasm_cexpr offset;
	uint32_t count;
	struct wasm_cexpr *items;
};

struct wasm_data {
	uint8_t mode;
	struct wasm_cexpr offset;
	const uint8_t *bytes;
	uint32_t len;
};

/*
 * Where a frame holds reference values at a point where it can be suspended: a fuel op, or a
 * call op (its arguments included). Slots are frame-relative; refslots entries are
 * slot << 1 | 1 for externref, slot << 1 for funcref, ascending. A point with no references
 * is not listed.
 */
struct wasm_refpoint {
	uint32_t pc;	/* word offset of the op */
	uint32_t first; /* into refslots */
	uint32_t count;
};

/*
 * Translated function body. Invariant: words[0] is OP_FUEL; every branch target is a valid
 * op start; the body touches slots [0, max_slots) of its frame only.
 */
struct rvm_wasm_code {
	const uint32_t *words;
	uint32_t nwords;
	uint32_t nparams;
	uint32_t nlocals; /* beyond the params */
	uint32_t max_slots;
	bool has_refs; /* some local or operand is a reference (snapshots need the map below) */
	bool refmap_ok; /* has_refs and points/refslots describe every suspension point */
	const struct wasm_refpoint *points; /* ascending pc */
	uint32_t npoints;
	const uint32_t *refslots;
};

struct rvm_wasm_module {
	const uint8_t *bytes;
	size_t len;
	struct rvm_wasm_functype *types;
	uint32_t ntypes;
	struct wasm_import *imports;
	uint32_t nimports;
	uint32_t nfunc_imports, ntable_imports, nmem_imports, nglobal_imports;
	uint32_t *func_type; /* type index of every function (imports first) */
	uint32_t nfuncs;
	struct wasm_table_def *tables;
	uint32_t ntables;
	struct wasm_limits mem;
	uint32_t nmems;
	struct wasm_global_def *globals;
	uint32_t nglobals;
	struct wasm_export *exports;
	uint32_t nexports;
	uint32_t start; /* UINT32_MAX: none */
	struct wasm_elem *elems;
	uint32_t nelems;
	struct wasm_data *datas;
	uint32_t ndatas;
	bool has_datacount;
	uint32_t datacount;
	bool data_used;	       /* memory.init/data.drop seen without a data count section */
	uint32_t max_data_idx; /* the largest segment index they used */
	uint8_t *declared; /* bitmap: functions usable by ref.func */
	struct rvm_wasm_code *codes; /* one per defined function */
	uint32_t code_words;
	size_t arena_used;
};

/* A call frame saved while its callee runs. */
struct wasm_frame {
	const uint32_t *ret_pc;
	uint64_t *fp;
	struct rvm_wasm_func *func; /* the function the frame belongs to */
};

/*
 * Instance: storage from the instantiation arena. The value stack is
 * stack[0, stack_slots) and frames[0, max_frames); the running call keeps its pc/fp in
 * the fields below whenever the interpreter is not executing.
 */
struct rvm_wasm_instance {
	const struct rvm_wasm_module *mod;
	struct rvm_wasm_func **funcs; /* function space (imports point elsewhere) */
	struct rvm_wasm_func *own_funcs;
	struct rvm_wasm_table **tables;
	struct rvm_wasm_table *own_tables;
	struct rvm_wasm_memory *mem;
	struct rvm_wasm_memory own_mem;
	struct rvm_wasm_global **globals;
	struct rvm_wasm_global *own_globals;
	uint8_t *elem_dropped;
	uint8_t *data_dropped;
	uint64_t *stack;
	uint64_t stack_slots;
	struct wasm_frame *frames;
	uint32_t max_frames;
	/* Execution state of the current call. */
	uint8_t status; /* enum rvm_wasm_status */
	uint8_t trap;	/* enum rvm_wasm_trap */
	uint32_t trap_index; /* the table index of an element trap */
	uint32_t nframes;
	const uint32_t *pc;
	uint64_t *fp;
	struct rvm_wasm_func *cur; /* running function (wasm) */
	struct rvm_wasm_func *entry;
	uint64_t fuel_used_total;
	int64_t fuel_debt; /* fuel charged beyond the last budget (<= 0) carried to resume */
};

/* Internal op codes. Numeric ops use their wasm opcode; the rest are placed in gaps. */
enum wasm_op {
	OP_UNREACHABLE = 0x00,
	OP_FUEL = 0x01,
	OP_BR = 0x02,	     /* target */
	OP_BR_COPY = 0x03,   /* target n src dst */
	OP_BR_IF = 0x04,     /* c target */
	OP_BR_IFZ = 0x05,    /* c target */
	OP_BR_IF_COPY = 0x06,/* c target n src dst */
	OP_BR_TABLE = 0x07,  /* c count {target n src dst}*(count+1) */
	OP_RETURN = 0x08,    /* n src */
	OP_CALL = 0x09,	     /* func base */
	OP_CALL_INDIRECT = 0x0a, /* table type c base */
	OP_COPY = 0x0b,	     /* d a */
	OP_CONST32 = 0x0c,   /* d v */
	OP_CONST64 = 0x0d,   /* d lo hi */
	OP_SELECT = 0x0e,    /* d a b c */
	OP_GLOBAL_GET = 0x0f,/* d g */
	OP_GLOBAL_SET = 0x10,/* g a */
	OP_MEMORY_SIZE = 0x11, /* d */
	OP_MEMORY_GROW = 0x12, /* d a */
	OP_MEMORY_INIT = 0x13, /* seg d s n */
	OP_DATA_DROP = 0x14,   /* seg */
	OP_MEMORY_COPY = 0x15, /* d s n */
	OP_MEMORY_FILL = 0x16, /* d v n */
	OP_TABLE_GET = 0x17,   /* t d i */
	OP_TABLE_SET = 0x18,   /* t i v */
	OP_TABLE_SIZE = 0x19,  /* t d */
	OP_TABLE_GROW = 0x1a,  /* t d v n */
	OP_TABLE_FILL = 0x1b,  /* t i v n */
	OP_TABLE_COPY = 0x1c,  /* dt st d s n */
	OP_TABLE_INIT = 0x1d,  /* t seg d s n */
	OP_ELEM_DROP = 0x1e,   /* seg */
	OP_REF_FUNC = 0x1f,    /* d f */
	OP_REF_IS_NULL = 0x20, /* d a */
	OP_COPY2 = 0x21,       /* d a d2 a2 */
	/* 0x28..0x3e: loads (d addr off) and stores (addr v off), wasm numbering. */
	/* 0x45..0xc4: numeric, unary (d a) or binary (d a b), wasm numbering. */
	/* 0xc0..0xc4: sign extension (d a). */
	OP_SAT_BASE = 0xd0, /* 0xd0..0xd7: 0xfc 0..7 saturating truncations (d a) */
	/* Fused forms. */
	OP_I32_ADD_IMM = 0xe0, /* d a imm */
	OP_I32_SUB_IMM = 0xe1,
	OP_I32_AND_IMM = 0xe2,
	OP_I32_SHL_IMM = 0xe3,
	OP_I32_SHR_U_IMM = 0xe4,
	OP_I32_SHR_S_IMM = 0xe5,
	OP_I32_OR_IMM = 0xe6,
	OP_I32_XOR_IMM = 0xe7,
	OP_I32_MUL_IMM = 0xe8,
	OP_I64_ADD_IMM = 0xe9, /* d a imm (sign-extended 32) */
	OP_BR_IF_I32_EQZ = 0xea, /* a target */
	OP_BR_IF_I32_LT_S = 0xeb, /* a b target */
	OP_BR_IF_I32_LT_U = 0xec,
	OP_BR_IF_I32_GE_S = 0xed,
	OP_BR_IF_I32_GE_U = 0xee,
	OP_BR_IF_I32_EQ = 0xef,
	OP_BR_IF_I32_NE = 0xf0,
	OP_BR_IF_I32_GT_S = 0xf1,
	OP_BR_IF_I32_GT_U = 0xf2,
	OP_BR_IF_I32_LE_S = 0xf3,
	OP_BR_IF_I32_LE_U = 0xf4,
	OP_COUNT = 0x100
};

/* Decoder helpers shared by decode.c and translate.c. */
struct wasm_reader {
	const uint8_t *p, *end, *base;
	struct rvm_wasm_error *err;
	const uint8_t *sec_end; /* end of the enclosing section (function bodies) */
	const uint8_t *mod_end; /* end of the module */
	bool in_section;	/* running out is "unexpected end of section or function" */
};

bool wasm_fail(struct wasm_reader *r, enum rvm_err code, const char *msg);
/* wasm_fail with " <idx>" appended, as the reference interpreter words index errors. */
bool wasm_fail_idx(struct wasm_reader *r, enum rvm_err code, const char *msg, uint32_t idx);
const char *wasm_eof_msg(const struct wasm_reader *r);
/* The readers' general cases (and errors); the inline ones below take the common bytes. */
bool wasm_read_u8_slow(struct wasm_reader *r, uint8_t *v);
bool wasm_read_u32_slow(struct wasm_reader *r, uint32_t *v);
bool wasm_read_s32_slow(struct wasm_reader *r, int32_t *v);

static inline bool wasm_read_u8(struct wasm_reader *r, uint8_t *v)
{
	if (r->p < r->end) {
		*v = *r->p++;
		return true;
	}
	return wasm_read_u8_slow(r, v);
}

static inline bool wasm_read_u32(struct wasm_reader *r, uint32_t *v)
{
	if (r->p < r->end && *r->p < 0x80) { /* one byte: the common case */
		*v = *r->p++;
		return true;
	}
	return wasm_read_u32_slow(r, v);
}

static inline bool wasm_read_s32(struct wasm_reader *r, int32_t *v)
{
	if (r->p < r->end && *r->p < 0x80) { /* one byte: bit 6 is the sign */
		uint8_t b = *r->p++;

		*v = (b & 0x40) ? (int32_t)b - 0x80 : (int32_t)b;
		return true;
	}
	return wasm_read_s32_slow(r, v);
}

static inline bool wasm_is_reftype(uint8_t t)
{
	return t == RVM_WASM_FUNCREF || t == RVM_WASM_EXTERNREF;
}
bool wasm_read_s33(struct wasm_reader *r, int64_t *v);
bool wasm_read_s64(struct wasm_reader *r, int64_t *v);
bool wasm_read_valtype(struct wasm_reader *r, uint8_t *t);

/* Translates one function body [r->p, r->end); fills *code. */
bool wasm_translate(struct rvm_wasm_module *m, uint32_t func, struct wasm_reader *r,
		    struct wasm_arena *a, struct rvm_wasm_code *code);

/* Words taken by the op at code[pos] (0 if not a known op). */
uint32_t wasm_op_len(const uint32_t *code, uint32_t pos);

/* Runs the interpreter on inst's current call. */
enum rvm_wasm_status wasm_interp(struct rvm_wasm_instance *inst, int64_t *fuel);

/* Instantiation helpers used by the interpreter (bulk ops share them). */
enum rvm_wasm_trap wasm_table_init(struct rvm_wasm_instance *inst, uint32_t table,
				   uint32_t seg, uint32_t d, uint32_t s, uint32_t n);
uint64_t wasm_cexpr_ref(struct rvm_wasm_instance *inst, const struct wasm_cexpr *e);
int64_t wasm_memory_grow(struct rvm_wasm_memory *mem, uint32_t delta);
int64_t wasm_table_grow(struct rvm_wasm_table *t, uint32_t delta, uint64_t init);

/* Does status describe a started call that has not finished (resumable, snapshotted)? */
static inline bool wasm_call_pending(uint8_t status)
{
	return status == RVM_WASM_READY || status == RVM_WASM_OUT_OF_FUEL ||
	       status == RVM_WASM_SUSPENDED;
}

static inline bool wasm_bit(const uint8_t *bm, uint32_t i)
{
	return (bm[i >> 3] >> (i & 7)) & 1;
}

static inline void wasm_bit_set(uint8_t *bm, uint32_t i)
{
	bm[i >> 3] = (uint8_t)(bm[i >> 3] | (1u << (i & 7)));
}

#endif
