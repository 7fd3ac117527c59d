/* kernel/quota.c - quotas charged by check-and-record in one step (no TOCTOU window). */
#include <rvm/proof.h>

enum rvm_err rvm_quota_charge(struct rvm_quota *q, uint64_t amount)
{
	/* Compare against the room left, never used + amount (which could wrap). */
	if (q->used > q->limit || amount > q->limit - q->used)
		return RVM_E_QUOTA;
	q->used += amount;
	return RVM_OK;
}

void rvm_quota_release(struct rvm_quota *q, uint64_t amount)
{
	q->used = amount > q->used ? 0 : q->used - amount;
}
