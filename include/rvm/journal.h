/* rvm/journal.h - the journal: every input an agent sees, bound to a witness record, for exact replay. */
#ifndef RVM_JOURNAL_H
#define RVM_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rvm/err.h>
#include <rvm/platform.h>

/*
 * File format (docs/journal.md), little-endian, written to RVM_SINK_JOURNAL:
 *   header  16 bytes: "RVM-JOURNAL\0" then u32 version (1)
 *   entry   32-byte head then the payload, zero-padded to a multiple of 8:
 *     0  u64 seq     witness seq of the agent.hostcall record that binds the entry
 *     8  u32 agent   agent number (the record's target)
 *    12  u16 kind    enum rvm_journal_kind
 *    14  u16 flags   0
 *    16  u32 len     payload bytes
 *    20  u32 aux     kind-specific (below)
 *    24  u8  hash8[8] first 8 bytes of SHA-256(payload); the record's arg1 holds the same
 * The record binding entry e has action agent.hostcall, target e.agent,
 * arg0 = kind << 32 | len, arg1 = hash8 read as a little-endian u64, so a
 * payload edited after the fact no longer matches the signed chain.
 */
#define RVM_JOURNAL_MAGIC "RVM-JOURNAL"
#define RVM_JOURNAL_VERSION 1u
#define RVM_JOURNAL_HEADER 16u
#define RVM_JOURNAL_HEAD 32u
/* Largest payload one entry carries (an agent message is smaller). */
#define RVM_JOURNAL_MAX_PAYLOAD 4096u
/* Bytes buffered before the journal appends them to the platform sink. */
#define RVM_JOURNAL_BUFFER 65536u

/* What an entry records; values are part of the format: append only. */
enum rvm_journal_kind {
	RVM_JK_RECV = 1,  /* payload: u32 polls, then the message; aux: inbound edge index */
	RVM_JK_NOW = 2,	  /* payload: u64 time the agent saw */
	RVM_JK_SPAWN = 3, /* payload: i32 result of rvm.spawn; aux: template index */
	RVM_JK_SEND = 4,  /* payload: u32 sends accepted, then u32 sends answered "full", since
			   * the last SEND entry, then i32 the result of the send that ended the
			   * run (0 accepted after refusals, -2, -3; -1: none, counts only) */
	RVM_JK_START = 5, /* payload: module SHA-256 (32 bytes), the 4 i64 init arguments, u32
			   * rights; aux: module index; the agent (re)started here */
	RVM_JK_DIGEST = 6, /* not an input: the agent's state for replay checks; payload: u64
			    * fuel used since its START (or RESUME), SHA-256 of its linear memory */
	RVM_JK_GPU = 7,	   /* payload: i64 result of an rvm.gpu_* call, then the bytes it wrote
			    * into the agent's memory (at most RVM_JOURNAL_GPU_CHUNK per entry: a
			    * longer gpu_read is several entries); aux: enum rvm_agent_gpu_op */
	RVM_JK_RESUME = 8, /* payload: u64 checkpoint id, module SHA-256 (32 bytes), u32 rights;
			    * aux: module index; the agent (re)started from its snapshot in that
			    * checkpoint (F1/F2 recovery), not from its module */
	RVM_JK_REGION_WRITE = 9, /* payload: the bytes of the REGION_WRITE record seq (kernels
				  * with region spaces; the swarm's agents write none) */
	RVM_JK_COUNT
};

/*
 * RECV payload layout: u32 polls (empty polls before this message, for
 * agents that poll rather than block) then the message bytes.
 */
#define RVM_JOURNAL_RECV_PREFIX 4u
/* RECV aux of an entry that only carries counted empty polls (no message). */
#define RVM_JOURNAL_NO_EDGE UINT32_MAX
/* RESUME payload: u64 checkpoint id, module SHA-256, u32 rights. */
#define RVM_JOURNAL_RESUME_LEN 44u

/* Bytes of agent memory one GPU entry carries after its 8-byte result. */
#define RVM_JOURNAL_GPU_CHUNK (RVM_JOURNAL_MAX_PAYLOAD - 8u)

/* One decoded entry; payload points into the caller's buffer. */
struct rvm_journal_entry {
	uint64_t seq;
	uint32_t agent;
	uint16_t kind;
	uint16_t flags;
	uint32_t len;
	uint32_t aux;
	uint8_t hash8[8];
	const uint8_t *payload;
};

/*
 * The writer: caller-owned, no allocation. Invariant: used <= RVM_JOURNAL_BUFFER;
 * buf[0..used) holds whole entries not yet appended to the sink; entries before
 * them were appended (durable after rvm_journal_sync). Without a sink (ring-only
 * kernels, tests) the bytes are counted and dropped.
 */
struct rvm_journal {
	const struct rvm_platform *plat;
	uint8_t buf[RVM_JOURNAL_BUFFER];
	uint32_t used;
	bool has_sink;
	uint64_t entries; /* written since init */
	uint64_t bytes;	  /* file bytes produced, header included */
	enum rvm_err sink_err;
};

/* Starts a journal: writes the header to the sink if the platform has one. */
enum rvm_err rvm_journal_init(struct rvm_journal *j, const struct rvm_platform *plat);
/* The first 8 bytes of SHA-256(payload) as a little-endian u64 (the binding record's arg1). */
uint64_t rvm_journal_hash8(const struct rvm_platform *plat, const void *payload, size_t len);
/*
 * Appends one entry (len <= RVM_JOURNAL_MAX_PAYLOAD, else RVM_E_RANGE). The
 * caller has emitted the binding witness record as seq. RVM_E_IO if the sink
 * failed (the entry is lost and sink_err keeps the error).
 */
enum rvm_err rvm_journal_append(struct rvm_journal *j, uint64_t seq, uint32_t agent,
				enum rvm_journal_kind kind, uint32_t aux, const void *payload,
				uint32_t len);
/* Appends buffered entries to the sink. */
enum rvm_err rvm_journal_flush(struct rvm_journal *j);
/* Flush, then make the journal durable. */
enum rvm_err rvm_journal_sync(struct rvm_journal *j);

/* ---- Reading (replay, audit, tests) ---- */

/* RVM_OK if buf starts with a valid header; RVM_E_FORMAT / RVM_E_VERSION / RVM_E_TRUNCATED. */
enum rvm_err rvm_journal_check_header(const uint8_t *buf, size_t len);
/*
 * Decodes the entry at *off (start at RVM_JOURNAL_HEADER) and advances *off.
 * RVM_E_EMPTY at the clean end, RVM_E_TRUNCATED for a torn tail (an entry cut
 * short: everything before it is good), RVM_E_CORRUPT for an impossible
 * head (unknown kind, flags set, len too large, padding not zero).
 */
enum rvm_err rvm_journal_next(const uint8_t *buf, size_t len, size_t *off,
			      struct rvm_journal_entry *out);

#endif
