/* rvm/tier.h - the tier policy: which regions cool down, driven by access recency and coherence. */
#ifndef RVM_TIER_H
#define RVM_TIER_H

#include <stdint.h>

#include <rvm/fixed.h>
#include <rvm/region.h>

/*
 * Thresholds in epochs without access. A partition's coherence (basis
 * points, from the coherence engine) scales them: at 10000 they apply as
 * written; lower coherence (the partition left this node, or talks to it
 * less) shrinks them linearly down to min_scale at coherence 0, so the
 * memory of a partition that moved away cools sooner.
 * Invariant: warm_after <= dormant_after <= cold_after.
 */
struct rvm_tier_policy {
	uint64_t warm_after;
	uint64_t dormant_after;
	uint64_t cold_after;
	rvm_bp min_scale;
};

/* The tier a region idle for `age` epochs belongs in, for an owner of this coherence. */
enum rvm_tier rvm_tier_advise(const struct rvm_tier_policy *p, uint64_t age, rvm_bp coherence);

/* Coherence of a partition, in basis points. */
typedef rvm_bp rvm_tier_coherence_fn(void *ctx, uint32_t partition);

struct rvm_tier_sweep_stats {
	uint32_t moved;  /* regions moved one tier cooler */
	uint32_t busy;   /* would go dormant but are mapped */
	uint32_t failed; /* the move was refused (store full, checkpoint store error, ...) */
};

/*
 * One policy pass over every region at epoch now: each region the policy
 * wants cooler moves one step (HOT -> WARM -> DORMANT -> COLD), on the
 * kernel's authority and witnessed like any tier move. Warming is not done
 * here: it happens on demand (rvm_region_set_tier). coherence may be NULL
 * (everyone at 10000). st may be NULL.
 */
void rvm_tier_sweep(struct rvm_region_space *s, const struct rvm_tier_policy *p, uint64_t now,
		    rvm_tier_coherence_fn *coherence, void *ctx, struct rvm_tier_sweep_stats *st);

#endif
