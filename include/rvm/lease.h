/* rvm/lease.h - device leases: time-bounded, revocable grants of a device to a partition. */
#ifndef RVM_LEASE_H
#define RVM_LEASE_H

#include <stdint.h>

#include <rvm/cap.h>
#include <rvm/err.h>
#include <rvm/partition.h>
#include <rvm/proof.h>

#ifndef RVM_LEASE_SLOTS
#define RVM_LEASE_SLOTS RVM_MAX_PARTITIONS
#endif
_Static_assert(RVM_LEASE_SLOTS < 0xffffu, "lease index must fit in 16 bits");

enum rvm_lease_state {
	RVM_LEASE_FREE = 0,
	RVM_LEASE_ACTIVE = 1,
};

/*
 * One lease. Invariants: state == ACTIVE iff id is live in the registry with
 * type RVM_OBJ_LEASE; desc.holder is the holder's pool slot; the lease is
 * usable only while now < desc.expiry_ns and !desc.revoked (P2.4 checks both
 * on every use, so a lease is dead the moment it expires even before the
 * expiry sweep has witnessed it).
 */
struct rvm_lease {
	rvm_obj_id id;
	uint64_t device; /* what is leased (a device number of the board) */
	struct rvm_lease_desc desc;
	uint8_t state;
};

struct rvm_lease_table {
	struct rvm_lease l[RVM_LEASE_SLOTS];
	uint16_t by_obj[RVM_OBJ_SLOTS]; /* registry slot -> lease index */
	struct rvm_part_pool *parts;
	uint32_t active;
};

void rvm_lease_init(struct rvm_lease_table *lt, struct rvm_part_pool *parts);

/*
 * Kernel-only: leases device to the partition in pool slot holder until
 * now_ns + duration_ns, and mints a READ|WRITE|REVOKE cap to the lease in the
 * holder's table. RVM_E_INVAL for a zero duration or an overflowing expiry,
 * RVM_E_STATE if the holder is not alive, RVM_E_EXISTS if the device is
 * already leased, RVM_E_NOMEM when full. Witness LEASE_GRANT (arg0 device,
 * arg1 expiry) then CAP_MINT.
 */
enum rvm_err rvm_lease_grant(struct rvm_lease_table *lt, uint32_t holder, uint64_t device,
			     uint64_t now_ns, uint64_t duration_ns, rvm_obj_id *id, rvm_cap_t *cap);
/*
 * May the caller use the lease its cap names now? P1 (READ) and P2.4:
 * RVM_E_PERM if the caller is not the holder, RVM_E_EXPIRED past the expiry.
 * A refusal is witnessed; a pass changes nothing and is not.
 */
enum rvm_err rvm_lease_check(struct rvm_lease_table *lt, uint32_t caller, rvm_cap_t cap,
			     uint64_t now_ns);
/* Ends the lease early (cap with REVOKE). Witness LEASE_REVOKE (arg0 device). */
enum rvm_err rvm_lease_revoke(struct rvm_lease_table *lt, uint32_t caller, rvm_cap_t cap);
/*
 * Ends every lease whose expiry is at or before now_ns, each witnessed as
 * LEASE_EXPIRE (arg0 device, arg1 expiry). *expired (may be NULL) counts them.
 * RVM_E_FULL if the witness log ran out of room: the rest expire next call
 * (they are already unusable: P2.4 compares the time on every use).
 */
enum rvm_err rvm_lease_expire(struct rvm_lease_table *lt, uint64_t now_ns, uint32_t *expired);

#endif
