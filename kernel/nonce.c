/* kernel/nonce.c - nonce replay protection: a FIFO of recent nonces, rises + a hash set, a watermark. */
#include <rvm/proof.h>

#define SET_MASK (RVM_NONCE_SET - 1u)

static uint32_t home(uint64_t nonce)
{
	uint64_t x = nonce * 0x9E3779B97F4A7C15ull;

	return (uint32_t)(x ^ (x >> 29) ^ (x >> 47)) & SET_MASK;
}

/* Slot holding nonce, or RVM_NONCE_SET. The set is at most half full, so probes end. */
static uint32_t find(const struct rvm_nonce_ring *r, uint64_t nonce)
{
	for (uint32_t i = home(nonce);; i = (i + 1) & SET_MASK) {
		if (r->set[i] == nonce)
			return i;
		if (r->set[i] == 0)
			return RVM_NONCE_SET;
	}
}

static void set_insert(struct rvm_nonce_ring *r, uint64_t nonce)
{
	uint32_t i = home(nonce);

	while (r->set[i] != 0)
		i = (i + 1) & SET_MASK;
	r->set[i] = nonce;
}

/* Linear-probing delete by backward shift: no tombstones, so lookups stay short. */
static void set_remove(struct rvm_nonce_ring *r, uint64_t nonce)
{
	uint32_t i = find(r, nonce), j = i;

	if (i == RVM_NONCE_SET)
		return;
	for (;;) {
		uint32_t k;

		j = (j + 1) & SET_MASK;
		if (r->set[j] == 0)
			break;
		k = home(r->set[j]);
		/* The entry at j may move to the hole at i unless its home lies in (i, j]. */
		if ((i < j) ? (k <= i || k > j) : (k <= i && k > j)) {
			r->set[i] = r->set[j];
			i = j;
		}
	}
	r->set[i] = 0;
}

/* Whether nonce is one of the ring's rises: binary search (their values increase along rise[]). */
static bool is_rise(const struct rvm_nonce_ring *r, uint64_t nonce)
{
	uint32_t lo = 0, n = r->rise_count;

	while (n > 0) {
		uint32_t half = n / 2;
		uint64_t v = r->fifo[r->rise[(r->rise_head + lo + half) & (RVM_NONCE_RING - 1)]];

		if (v == nonce)
			return true;
		if (v < nonce) {
			lo += half + 1;
			n -= half + 1;
		} else {
			n = half;
		}
	}
	return false;
}

void rvm_nonce_init(struct rvm_nonce_ring *r)
{
	for (uint32_t i = 0; i < RVM_NONCE_SET; i++)
		r->set[i] = 0;
	for (uint32_t i = 0; i < RVM_NONCE_RING; i++) {
		r->fifo[i] = 0;
		r->rise[i] = 0;
	}
	r->low_watermark = 0;
	r->high = 0;
	r->head = 0;
	r->count = 0;
	r->rise_head = 0;
	r->rise_count = 0;
}

enum rvm_err rvm_nonce_check(const struct rvm_nonce_ring *r, uint64_t nonce)
{
	if (nonce == 0)
		return RVM_E_INVAL;
	if (nonce <= r->low_watermark)
		return RVM_E_REPLAY;
	/* Above every nonce ever recorded: new, whatever the ring holds. */
	if (nonce > r->high)
		return RVM_OK;
	if (find(r, nonce) != RVM_NONCE_SET || is_rise(r, nonce))
		return RVM_E_REPLAY;
	return RVM_OK;
}

enum rvm_err rvm_nonce_accept(struct rvm_nonce_ring *r, uint64_t nonce)
{
	enum rvm_err e = rvm_nonce_check(r, nonce);

	if (e == RVM_OK)
		rvm_nonce_record(r, nonce);
	return e;
}

void rvm_nonce_record(struct rvm_nonce_ring *r, uint64_t nonce)
{
	const uint32_t mask = RVM_NONCE_RING - 1;

	if (r->count == RVM_NONCE_RING) {
		/* Full: the oldest leaves the ring; the watermark keeps refusing it. */
		uint64_t old = r->fifo[r->head];

		if (r->rise_count > 0 && r->rise[r->rise_head] == r->head) {
			r->rise_head = (r->rise_head + 1) & mask;
			r->rise_count--;
		} else {
			set_remove(r, old);
		}
		if (old > r->low_watermark)
			r->low_watermark = old;
		r->count--;
	}
	if (nonce > r->high) {
		/* A rise: larger than every rise before it, so rise[] stays sorted. */
		r->rise[(r->rise_head + r->rise_count) & mask] = (uint16_t)r->head;
		r->rise_count++;
		r->high = nonce;
	} else {
		set_insert(r, nonce);
	}
	r->fifo[r->head] = nonce;
	r->head = (r->head + 1) & mask;
	r->count++;
}
