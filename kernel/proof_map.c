/* kernel/proof_map.c - P2 rule 3: mapped host ranges, no writable range shared by two partitions. */
#include <rvm/proof.h>

void rvm_map_init(struct rvm_map_table *m)
{
	for (uint32_t i = 0; i < RVM_MAP_SLOTS; i++)
		m->r[i].used = 0;
	m->count = 0;
}

enum rvm_err rvm_p2_no_alias(const struct rvm_map_table *m, uint32_t partition, uint64_t base,
			     uint64_t size, bool writable)
{
	uint64_t end;

	if (size == 0)
		return RVM_E_INVAL;
	if (base > UINT64_MAX - size)
		return RVM_E_RANGE;
	end = base + size;
	/* O(n) over a small fixed pool: one pass, no allocation, no ordering to keep. */
	for (uint32_t i = 0; i < RVM_MAP_SLOTS; i++) {
		const struct rvm_map_range *r = &m->r[i];

		if (!r->used || r->partition == partition || (!r->writable && !writable))
			continue;
		if (r->base < end && base < r->base + r->size)
			return RVM_E_ALIAS;
	}
	return RVM_OK;
}

enum rvm_err rvm_map_add(struct rvm_map_table *m, uint32_t partition, uint64_t base,
			 uint64_t size, bool writable)
{
	enum rvm_err e = rvm_p2_no_alias(m, partition, base, size, writable);

	if (e != RVM_OK)
		return e;
	for (uint32_t i = 0; i < RVM_MAP_SLOTS; i++) {
		struct rvm_map_range *r = &m->r[i];

		if (r->used)
			continue;
		r->base = base;
		r->size = size;
		r->partition = partition;
		r->writable = writable;
		r->used = 1;
		r->pad = 0;
		m->count++;
		return RVM_OK;
	}
	return RVM_E_FULL;
}

enum rvm_err rvm_map_remove(struct rvm_map_table *m, uint32_t partition, uint64_t base,
			    uint64_t size)
{
	for (uint32_t i = 0; i < RVM_MAP_SLOTS; i++) {
		struct rvm_map_range *r = &m->r[i];

		if (r->used && r->partition == partition && r->base == base && r->size == size) {
			r->used = 0;
			m->count--;
			return RVM_OK;
		}
	}
	return RVM_E_NOTFOUND;
}
