/* fuzz/fuzz_gate.c - random operation sequences through the gate; the cap tree's invariants must hold. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hosted.h>
#include <rvm/gate.h>
#include <rvm/witness.h>

#define TABLES 5
#define OBJS 6
#define HANDLES 256

struct world {
	struct rvm_obj_table objs;
	struct rvm_cap_space caps;
	struct rvm_witness_log wlog;
	struct rvm_map_table maps;
	struct rvm_gate gate;
	struct rvm_hosted hosted;
	struct rvm_platform plat;
	rvm_obj_id obj[OBJS];
	uint32_t htable[HANDLES];
	rvm_cap_t h[HANDLES];
	uint32_t nh;
	struct rvm_quota quota;
	struct rvm_region_desc region;
	struct rvm_lease_desc lease;
};

static struct world *W;

/* Reads input bytes; past the end, zeros. */
struct reader {
	const uint8_t *p;
	size_t n;
};

static uint8_t byte(struct reader *r)
{
	uint8_t b = 0;

	if (r->n) {
		b = *r->p++;
		r->n--;
	}
	return b;
}

static uint64_t word(struct reader *r)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | byte(r);
	return v;
}

/* Everything but the witness log (ring-only, it never refuses; set up once: it is large). */
static void reset(struct world *w)
{
	rvm_obj_init(&w->objs);
	rvm_cap_space_init(&w->caps, &w->objs, w->plat.sha256);
	rvm_map_init(&w->maps);
	rvm_gate_init(&w->gate, &w->caps, &w->wlog, &w->maps);
	for (int i = 0; i < OBJS; i++)
		if (rvm_obj_create(&w->objs, (enum rvm_obj_type)(1 + i % 3), &w->obj[i]) != RVM_OK)
			abort();
	w->nh = 0;
	w->quota = (struct rvm_quota){ .limit = 1000 };
	w->region = (struct rvm_region_desc){ .owner = 1, .base = 0x10000, .size = 0x10000 };
	w->lease = (struct rvm_lease_desc){ .holder = 2, .expiry_ns = 5000 };
}

static void keep(struct world *w, uint32_t table, rvm_cap_t h)
{
	uint32_t k = w->nh < HANDLES ? w->nh++ : (uint32_t)(h % HANDLES);

	w->htable[k] = table;
	w->h[k] = h;
}

/* A handle from the list, sometimes damaged, sometimes in the wrong table. */
static void pick(struct world *w, struct reader *r, uint32_t *table, rvm_cap_t *h)
{
	uint8_t k = byte(r), how = byte(r);

	*table = w->nh ? w->htable[k % w->nh] : 1;
	*h = w->nh ? w->h[k % w->nh] : RVM_CAP_NULL;
	if (how % 16 == 0)
		*h ^= (uint64_t)byte(r) << (how % 64);
	if (how % 16 == 1)
		*table = byte(r) % (TABLES + 1);
}

static void one_op(struct world *w, struct reader *r)
{
	uint8_t op = byte(r) % 10;
	uint32_t table, to;
	rvm_cap_t h, out;
	uint64_t seq = w->wlog.next_seq;
	enum rvm_err e = RVM_OK;
	bool witnessed = true;

	switch (op) {
	case 0: {
		uint8_t o = byte(r) % OBJS, t = byte(r);

		table = t % TABLES;
		e = rvm_cap_mint(&w->gate, table, (enum rvm_obj_type)(1 + o % 3), w->obj[o], byte(r),
				 &out);
		if (e == RVM_OK)
			keep(w, table, out);
		break;
	}
	case 1:
	case 2:
		pick(w, r, &table, &h);
		to = byte(r) % TABLES;
		e = op == 1 ? rvm_cap_derive(&w->gate, table, h, byte(r), &out)
			    : rvm_cap_grant(&w->gate, table, h, to, byte(r), &out);
		if (e == RVM_OK)
			keep(w, op == 1 ? table : to, out);
		break;
	case 3:
		pick(w, r, &table, &h);
		e = rvm_cap_revoke(&w->gate, table, h);
		break;
	case 4:
		pick(w, r, &table, &h);
		e = rvm_cap_delete(&w->gate, table, h);
		break;
	case 5: {
		uint8_t o = byte(r) % OBJS;

		pick(w, r, &table, &h);
		e = rvm_cap_check(&w->gate, table, h, (uint8_t)(1 + o % 3), w->obj[o], byte(r));
		witnessed = e != RVM_OK;
		break;
	}
	case 6: { /* a generic request with random checks */
		struct rvm_gate_req req;

		memset(&req, 0, sizeof(req));
		pick(w, r, &table, &h);
		req.action = RVM_ACT_REGION_WRITE;
		req.checks = (uint32_t)byte(r) | (uint32_t)(byte(r) & 3) << 8;
		req.caller = table;
		req.cap = h;
		req.rights = byte(r);
		req.obj_type = (uint8_t)(1 + byte(r) % 3);
		req.object = w->obj[byte(r) % OBJS];
		req.owner = byte(r) % 8;
		req.region = byte(r) & 1 ? &w->region : NULL;
		req.offset = word(r) >> (byte(r) % 64);
		req.length = word(r) >> (byte(r) % 64);
		req.align = 1ull << (byte(r) % 64);
		req.map_base = (uint64_t)byte(r) << 12;
		req.map_size = (uint64_t)byte(r) << 10;
		req.map_writable = byte(r) & 1;
		req.lease = byte(r) & 1 ? &w->lease : NULL;
		req.now_ns = word(r) >> 48;
		req.epoch = w->caps.epoch - (byte(r) % 2);
		req.nonce = word(r) >> (byte(r) % 64);
		req.quota = byte(r) & 1 ? &w->quota : NULL;
		req.amount = byte(r);
		e = rvm_gate_invoke(&w->gate, &req);
		break;
	}
	case 7: { /* objects come and go; caps to dead objects go stale */
		uint8_t o = byte(r) % OBJS;

		witnessed = false;
		if (rvm_obj_destroy(&w->objs, w->obj[o]) == RVM_OK &&
		    rvm_obj_create(&w->objs, (enum rvm_obj_type)(1 + o % 3), &w->obj[o]) != RVM_OK)
			abort();
		break;
	}
	case 8:
		witnessed = false;
		if (byte(r) & 1)
			(void)rvm_map_add(&w->maps, byte(r) % 4, (uint64_t)byte(r) << 12,
					  (uint64_t)(byte(r) + 1) << 10, byte(r) & 1);
		else if (w->maps.count)
			(void)rvm_map_remove(&w->maps, w->maps.r[0].partition, w->maps.r[0].base,
					     w->maps.r[0].size);
		break;
	case 9:
		e = rvm_cap_table_clear(&w->gate, byte(r) % (TABLES + 1));
		break;
	}
	/* Every operation and every refusal leaves exactly one record (passing checks none). */
	if (w->wlog.next_seq != seq + (witnessed ? 1 : 0))
		abort();
	if (e >= RVM_ERR_COUNT)
		abort();
	if (rvm_cap_check_invariants(&w->caps) != RVM_OK)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reader r = { data, size };

	if (!W) {
		W = calloc(1, sizeof(*W));
		struct rvm_witness_config cfg;

		if (!W || rvm_hosted_open(&W->hosted, NULL, RVM_HOSTED_QUIET, &W->plat) != RVM_OK)
			abort();
		memset(&cfg, 0, sizeof(cfg));
		cfg.chain = RVM_CHAIN_SHA256;
		memset(cfg.boot_nonce, 3, sizeof(cfg.boot_nonce));
		if (rvm_witness_init(&W->wlog, &W->plat, &cfg) != RVM_OK)
			abort();
	}
	reset(W);
	for (int i = 0; i < 400 && r.n; i++)
		one_op(W, &r);
	/* Every live cap passes P3. */
	for (uint32_t k = 0; k < W->nh; k++) {
		const struct rvm_cap *c;

		if (rvm_cap_resolve(&W->caps, W->htable[k], W->h[k], &c) == RVM_OK &&
		    rvm_proof_p3(&W->caps, W->htable[k], W->h[k]) != RVM_OK)
			abort();
	}
	return 0;
}
