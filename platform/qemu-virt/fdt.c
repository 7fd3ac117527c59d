/* platform/qemu-virt/fdt.c - a bounds-checked reader of the flattened device tree (DTB v17). */
#include "fdt.h"

#include <rvm/bytes.h>

#define FDT_MAGIC      0xd00dfeedu
#define FDT_BEGIN_NODE 1u
#define FDT_END_NODE   2u
#define FDT_PROP       3u
#define FDT_NOP	       4u
#define FDT_END	       9u
#define FDT_MAX_DEPTH  16

/* What one open node has shown so far; classified when its END_NODE arrives. */
struct fdt_node {
	const uint8_t *name;
	size_t name_len;
	const uint8_t *reg, *compat, *dtype, *irqs, *method, *rng, *kaslr, *args;
	uint32_t reg_len, compat_len, dtype_len, irqs_len, method_len, rng_len, kaslr_len, args_len;
	uint32_t addr_cells, size_cells; /* what this node declares for its children */
};

struct fdt_walk {
	const uint8_t *blob;
	uint32_t size;
	uint32_t off_struct, size_struct, off_strings, size_strings;
	struct fdt_node stack[FDT_MAX_DEPTH];
	int depth;
	struct rvm_fdt_info *info;
};

static uint32_t be32(const uint8_t *p)
{
	return rvm_load_be32(p);
}

/* Does the NUL-separated string list [list, list+len) contain s? */
static int strlist_has(const uint8_t *list, uint32_t len, const char *s)
{
	size_t n = rvm_strlen(s);
	uint32_t i = 0;

	while (i < len) {
		uint32_t j = i;

		while (j < len && list[j])
			j++;
		if (j - i == n && rvm_memcmp(list + i, s, n) == 0)
			return 1;
		i = j + 1;
	}
	return 0;
}

/* Reads cells (1 or 2) big-endian words at p as one number. */
static uint64_t cells(const uint8_t *p, uint32_t n)
{
	uint64_t v = 0;

	for (uint32_t i = 0; i < n; i++)
		v = v << 32 | be32(p + 4 * i);
	return v;
}

/* Entry i of a reg property under parent cell sizes; 0 if it is not there. */
static int reg_entry(const struct fdt_node *n, const struct fdt_node *parent, uint32_t i,
		     uint64_t *base, uint64_t *size)
{
	uint32_t ac = parent->addr_cells, sc = parent->size_cells, step = 4 * (ac + sc);

	if (!n->reg || ac == 0 || ac > 2 || sc > 2 || (uint64_t)(i + 1) * step > n->reg_len)
		return 0;
	*base = cells(n->reg + i * step, ac);
	*size = sc ? cells(n->reg + i * step + 4 * ac, sc) : 0;
	return 1;
}

static void classify(struct fdt_walk *w, const struct fdt_node *n, const struct fdt_node *parent)
{
	struct rvm_fdt_info *in = w->info;
	uint64_t b, s;

	if (n->dtype && strlist_has(n->dtype, n->dtype_len, "memory")) {
		for (uint32_t i = 0; in->nmem < RVM_FDT_MAX_MEM && reg_entry(n, parent, i, &b, &s);
		     i++) {
			in->mem[in->nmem].base = b;
			in->mem[in->nmem].size = s;
			in->nmem++;
		}
	} else if (n->dtype && strlist_has(n->dtype, n->dtype_len, "cpu")) {
		if (in->ncpus < RVM_FDT_MAX_CPUS && reg_entry(n, parent, 0, &b, &s))
			in->mpidr[in->ncpus] = b;
		in->ncpus++;
	}
	if (n->name_len == 6 && !rvm_memcmp(n->name, "chosen", 6)) {
		const uint8_t *src[2] = {n->rng, n->kaslr};
		uint32_t len[2] = {n->rng_len, n->kaslr_len};

		for (int i = 0; i < 2; i++)
			for (uint32_t k = 0;
			     src[i] && k < len[i] && in->seed_len < sizeof(in->seed); k++)
				in->seed[in->seed_len++] = src[i][k];
		for (uint32_t k = 0;
		     n->args && k < n->args_len && k + 1 < sizeof(in->bootargs) && n->args[k]; k++)
			in->bootargs[k] = (char)n->args[k];
	}
	if (!n->compat)
		return;
	if (strlist_has(n->compat, n->compat_len, "arm,pl011") && !in->uart_base &&
	    reg_entry(n, parent, 0, &b, &s)) {
		in->uart_base = b;
	} else if (strlist_has(n->compat, n->compat_len, "arm,gic-v3") &&
		   reg_entry(n, parent, 0, &in->gicd_base, &in->gicd_size) &&
		   reg_entry(n, parent, 1, &in->gicr_base, &in->gicr_size)) {
		in->gic_version = 3;
	} else if ((strlist_has(n->compat, n->compat_len, "arm,cortex-a15-gic") ||
		    strlist_has(n->compat, n->compat_len, "arm,gic-400")) &&
		   reg_entry(n, parent, 0, &in->gicd_base, &in->gicd_size) &&
		   reg_entry(n, parent, 1, &in->gicc_base, &s)) {
		in->gic_version = 2;
	} else if (strlist_has(n->compat, n->compat_len, "arm,psci-0.2") && n->method) {
		in->psci_smc = strlist_has(n->method, n->method_len, "smc");
	} else if (strlist_has(n->compat, n->compat_len, "arm,armv8-timer") && n->irqs &&
		   n->irqs_len >= 48) {
		/* Interrupts in order: secure, non-secure, virtual, hypervisor; 3 cells each. */
		in->timer_hyp_ppi = be32(n->irqs + 36 + 4);
	}
}

/* One property of the node on top of the stack. */
static enum rvm_err prop(struct fdt_walk *w, uint32_t *off)
{
	struct fdt_node *n = &w->stack[w->depth - 1];
	uint32_t len, nameoff, end = w->off_struct + w->size_struct;
	const uint8_t *name, *val;

	if (*off > end || end - *off < 8)
		return RVM_E_MALFORMED;
	len = be32(w->blob + *off);
	nameoff = be32(w->blob + *off + 4);
	*off += 8;
	if (len > end - *off || nameoff >= w->size_strings)
		return RVM_E_MALFORMED;
	val = w->blob + *off;
	name = w->blob + w->off_strings + nameoff;
	*off += (len + 3u) & ~3u;
	/* The property name must end inside the strings block. */
	uint32_t room = w->size_strings - nameoff, k = 0;

	while (k < room && name[k])
		k++;
	if (k == room)
		return RVM_E_MALFORMED;
	if (!rvm_memcmp(name, "reg", 4)) {
		n->reg = val, n->reg_len = len;
	} else if (!rvm_memcmp(name, "compatible", 11)) {
		n->compat = val, n->compat_len = len;
	} else if (!rvm_memcmp(name, "device_type", 12)) {
		n->dtype = val, n->dtype_len = len;
	} else if (!rvm_memcmp(name, "interrupts", 11)) {
		n->irqs = val, n->irqs_len = len;
	} else if (!rvm_memcmp(name, "method", 7)) {
		n->method = val, n->method_len = len;
	} else if (!rvm_memcmp(name, "rng-seed", 9)) {
		n->rng = val, n->rng_len = len;
	} else if (!rvm_memcmp(name, "bootargs", 9)) {
		n->args = val, n->args_len = len;
	} else if (!rvm_memcmp(name, "kaslr-seed", 11)) {
		n->kaslr = val, n->kaslr_len = len;
	} else if (!rvm_memcmp(name, "#address-cells", 15) && len == 4) {
		n->addr_cells = be32(val);
	} else if (!rvm_memcmp(name, "#size-cells", 12) && len == 4) {
		n->size_cells = be32(val);
	}
	return RVM_OK;
}

static enum rvm_err begin_node(struct fdt_walk *w, uint32_t *off)
{
	uint32_t end = w->off_struct + w->size_struct, k = *off;
	struct fdt_node *n;

	if (w->depth >= FDT_MAX_DEPTH)
		return RVM_E_MALFORMED;
	while (k < end && w->blob[k])
		k++;
	if (k >= end)
		return RVM_E_MALFORMED;
	n = &w->stack[w->depth++];
	rvm_memset(n, 0, sizeof(*n));
	n->name = w->blob + *off;
	n->name_len = k - *off;
	/* Defaults from the devicetree specification. */
	n->addr_cells = 2;
	n->size_cells = 1;
	*off = (k + 1 + 3) & ~3u;
	return RVM_OK;
}

static enum rvm_err walk(struct fdt_walk *w)
{
	uint32_t off = w->off_struct, end = w->off_struct + w->size_struct;

	for (;;) {
		uint32_t tok;
		enum rvm_err err = RVM_OK;

		if (off > end || end - off < 4)
			return RVM_E_MALFORMED;
		tok = be32(w->blob + off);
		off += 4;
		if (tok == FDT_BEGIN_NODE) {
			err = begin_node(w, &off);
		} else if (tok == FDT_END_NODE) {
			if (w->depth == 0)
				return RVM_E_MALFORMED;
			if (w->depth >= 2)
				classify(w, &w->stack[w->depth - 1], &w->stack[w->depth - 2]);
			w->depth--;
		} else if (tok == FDT_PROP) {
			err = w->depth ? prop(w, &off) : RVM_E_MALFORMED;
		} else if (tok == FDT_END) {
			return w->depth == 0 ? RVM_OK : RVM_E_MALFORMED;
		} else if (tok != FDT_NOP) {
			return RVM_E_MALFORMED;
		}
		if (err != RVM_OK)
			return err;
	}
}

enum rvm_err rvm_fdt_parse(const uint8_t *fdt, size_t cap, struct rvm_fdt_info *out)
{
	struct fdt_walk w;
	enum rvm_err err;

	rvm_memset(out, 0, sizeof(*out));
	if (!fdt || cap < 40)
		return RVM_E_FORMAT;
	if (be32(fdt) != FDT_MAGIC)
		return RVM_E_FORMAT;
	rvm_memset(&w, 0, sizeof(w));
	w.blob = fdt;
	w.size = be32(fdt + 4);
	w.off_struct = be32(fdt + 8);
	w.off_strings = be32(fdt + 12);
	w.size_strings = be32(fdt + 32);
	w.size_struct = be32(fdt + 36);
	w.info = out;
	/* Version 17 (the last compatible version 16) carries the sizes read above. */
	if (be32(fdt + 20) < 17 || be32(fdt + 24) > 17)
		return RVM_E_FORMAT;
	if (w.size > cap || w.size < 40 || w.off_struct > w.size ||
	    w.size_struct > w.size - w.off_struct || w.off_strings > w.size ||
	    w.size_strings > w.size - w.off_strings || (w.off_struct & 3))
		return RVM_E_MALFORMED;
	out->totalsize = w.size;
	err = walk(&w);
	if (err != RVM_OK)
		return err;
	return out->nmem ? RVM_OK : RVM_E_NOTFOUND;
}
