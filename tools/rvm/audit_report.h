/* tools/rvm/audit_report.h - what `rvm audit` counts while it verifies, and its JSON report. */
#ifndef RVM_TOOL_AUDIT_REPORT_H
#define RVM_TOOL_AUDIT_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include <rvm/err.h>
#include <rvm/witness_file.h>

/* Per-action record counts (index = action value) and the two notes the summary gives. */
struct audit_counts {
	uint64_t by_action[65536];
	uint64_t batched_events, denied;
};

/*
 * Prints the whole audit result of a verified (or rejected) log as one JSON object on stdout.
 * rc is the exit status the command returns; keydesc says which key was trusted.
 */
void rvm_audit_json_report(const char *log, const struct rvm_witness_reader *rd,
			   const struct audit_counts *c, const char *keydesc, bool require_clean,
			   int rc);
/*
 * Prints the JSON object for an audit that stopped before the log was verified (unreadable
 * file, missing key, a key of the wrong kind): verdict from rc, the error code and why.
 */
void rvm_audit_json_early(const char *log, int rc, enum rvm_err code, const char *why);

#endif
