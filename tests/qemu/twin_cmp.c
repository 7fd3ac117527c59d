/* tests/qemu/twin_cmp.c - compares two witness logs of one deterministic scenario, field by
 * field, skipping only what is time. */
#include "twin_cmp.h"

#include <string.h>

/* Header bytes that hold time: boot_clock_ns [24, 32) and the checksum over the header
 * [120, 128). Everything else (magic, version, chain, sig, period, nonce, genesis, key)
 * must match. */
static int header_time_byte(size_t i)
{
	return (i >= 24 && i < 32) || i >= 120;
}

static const char *header_field(size_t i)
{
	if (i < 8)
		return "header magic";
	if (i < 16)
		return "header version/sizes/chain/sig";
	if (i < 24)
		return "header checkpoint_every";
	if (i < 48)
		return "header nonce";
	if (i < 80)
		return "header genesis";
	if (i < 112)
		return "header key";
	return "header reserved";
}

int rvm_twin_cmp_header(const uint8_t a[RVM_WFILE_HEADER_SIZE],
			const uint8_t b[RVM_WFILE_HEADER_SIZE], struct rvm_twin_diff *d)
{
	for (size_t i = 0; i < RVM_WFILE_HEADER_SIZE; i++)
		if (!header_time_byte(i) && a[i] != b[i]) {
			d->field = header_field(i);
			d->index = i;
			return 1;
		}
	d->field = NULL;
	return 0;
}

/* Whether arg0 of a record of this action is a time (boot duration, uptime). */
static int arg0_is_time(uint16_t action)
{
	return action == RVM_ACT_BOOT_COMPLETE || action == RVM_ACT_SHUTDOWN;
}

/* The first field of x and y that differs, or NULL. */
static const char *record_field(const struct rvm_witness_record *x,
				const struct rvm_witness_record *y)
{
	if (x->seq != y->seq)
		return "seq";
	if (x->action != y->action)
		return "action";
	if (x->flags != y->flags)
		return "flags";
	if (x->actor != y->actor)
		return "actor";
	if (x->target != y->target)
		return "target";
	if (x->arg0 != y->arg0 && !arg0_is_time(x->action))
		return "arg0";
	if (x->arg1 != y->arg1)
		return "arg1";
	return NULL;
}

int rvm_twin_cmp_records(const struct rvm_witness_record *a, size_t na,
			 const struct rvm_witness_record *b, size_t nb, struct rvm_twin_diff *d)
{
	size_t n = na < nb ? na : nb;

	for (size_t i = 0; i < n; i++) {
		const char *f = record_field(&a[i], &b[i]);

		if (f) {
			d->field = f;
			d->index = i;
			return 1;
		}
	}
	d->field = na != nb ? "record count" : NULL;
	d->index = n;
	return na != nb;
}
