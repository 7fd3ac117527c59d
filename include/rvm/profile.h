/* rvm/profile.h - build profiles: every pool size and optional subsystem of the core. */
#ifndef RVM_PROFILE_H
#define RVM_PROFILE_H

/*
 * The build selects one profile with -DRVM_PROFILE_SEED or -DRVM_PROFILE_APPLIANCE
 * (the default). Each knob has a default and the reason for it. Subsystems test
 * the RVM_HAS_* flags with `if`, not `#if`, so both branches keep compiling.
 */
#if defined(RVM_PROFILE_SEED)
#define RVM_PROFILE_NAME "seed"
/* 64 KB of RAM in all: 32 records (2 KiB) is enough between UART drains. */
#define RVM_WITNESS_RING_RECORDS 32u
/* Seed boards have no coherence engine (DC-1): static placement only. */
#define RVM_HAS_COHERENCE 0
#define RVM_MAX_PARTITIONS 8u
#define RVM_MAX_CPUS 1u
#define RVM_CAP_TABLE_SLOTS 32u
/* Memory regions: a few per partition. */
#define RVM_REGION_SLOTS 32u
#else
#define RVM_PROFILE_APPLIANCE 1
#define RVM_PROFILE_NAME "appliance"
/* 4096 records = 256 KiB: several epochs of bursty IPC between sink flushes. */
#define RVM_WITNESS_RING_RECORDS 4096u
#define RVM_HAS_COHERENCE 1
#define RVM_MAX_PARTITIONS 1024u
#define RVM_MAX_CPUS 8u
#define RVM_CAP_TABLE_SLOTS 1024u
/* Memory regions: about one per partition plus shared buffers. */
#define RVM_REGION_SLOTS 1024u
#endif

/* Signed checkpoint every N witness records (and at shutdown). */
#ifndef RVM_WITNESS_CHECKPOINT_EVERY
#define RVM_WITNESS_CHECKPOINT_EVERY 1024u
#endif

_Static_assert((RVM_WITNESS_RING_RECORDS & (RVM_WITNESS_RING_RECORDS - 1)) == 0,
	       "witness ring size must be a power of two");

#endif
