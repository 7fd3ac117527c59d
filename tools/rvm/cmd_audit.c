/* tools/rvm/cmd_audit.c - `rvm audit LOG`: verifies a witness log's chain and signatures, summarises it. */
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rvm/witness_file.h>

#include "audit_report.h"
#include "cmd.h"
#include "logfile.h"

struct audit_opts {
	const char *log, *pub, *hmac_key;
	bool trust_log_key, require_clean, json;
};

static int usage(void)
{
	fprintf(stderr,
		"usage: rvm audit LOG [--pub FILE | --trust-log-key] [--hmac-key FILE] [--require-clean]\n"
		"                     [--json]\n"
		"  Verifies the hash chain and checkpoint signatures of a witness log.\n"
		"  --pub FILE        Ed25519 public key to trust (default: witness.pub next to LOG)\n"
		"  --trust-log-key   no trusted key: check signatures with the key the log names\n"
		"  --hmac-key FILE   HMAC key for logs signed with HMAC-SHA-256\n"
		"  --require-clean   exit 1 unless the log ends with its shutdown checkpoint\n"
		"  --json            the report as one JSON object on stdout (same exit status)\n"
		"exit: 0 verified (a torn tail is not tampering), 1 tampered, 2 bad usage or input\n");
	return 2;
}

static int parse(int argc, char **argv, struct audit_opts *o)
{
	memset(o, 0, sizeof(*o));
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--pub") && i + 1 < argc)
			o->pub = argv[++i];
		else if (!strcmp(argv[i], "--hmac-key") && i + 1 < argc)
			o->hmac_key = argv[++i];
		else if (!strcmp(argv[i], "--trust-log-key"))
			o->trust_log_key = true;
		else if (!strcmp(argv[i], "--require-clean"))
			o->require_clean = true;
		else if (!strcmp(argv[i], "--json"))
			o->json = true;
		else if (argv[i][0] != '-' && !o->log)
			o->log = argv[i];
		else
			return -1;
	}
	return o->log ? 0 : -1;
}

/* The header if it parses; false otherwise (the reader then reports why). */
static bool peek_header(const char *path, struct rvm_witness_file_header *h)
{
	uint8_t buf[RVM_WFILE_HEADER_SIZE];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;

	if (fd >= 0)
		close(fd);
	return n >= 0 && rvm_witness_header_decode(buf, (size_t)n, h) == RVM_OK;
}

/* The trusted Ed25519 key file: --pub, else witness.pub next to the log, else NULL. */
static const char *pub_path(const struct audit_opts *o, char *buf, size_t n)
{
	char tmp[4096];

	if (o->pub || o->trust_log_key)
		return o->pub;
	snprintf(tmp, sizeof(tmp), "%s", o->log);
	snprintf(buf, n, "%s/witness.pub", dirname(tmp));
	return access(buf, F_OK) == 0 ? buf : NULL;
}

/* A key was given for another kind of log than this one: a downgrade is a finding. */
static int downgrade(const struct audit_opts *o, const char *expected, unsigned sig)
{
	char why[160];

	snprintf(why, sizeof(why), "a %s key is trusted for this log but the log says its "
		 "signatures are '%s'", expected, rvm_tool_sig_name(sig));
	if (o->json)
		rvm_audit_json_early(o->log, 1, RVM_E_BADSIG, why);
	else
		printf("rvm audit: %s\nverdict: TAMPERED: header: %s (%s)\n", o->log, why,
		       rvm_err_name(RVM_E_BADSIG));
	return 1;
}

/* Bad input found before verification: stderr already says why; --json also gets an object. */
static int bad_input(const struct audit_opts *o, enum rvm_err code, const char *why)
{
	if (o->json)
		rvm_audit_json_early(o->log, 2, code, why);
	return 2;
}

static int pick_hmac(const struct audit_opts *o, uint8_t key[32], const uint8_t **keyp,
		     char *desc, size_t desclen)
{
	if (!o->hmac_key) {
		fprintf(stderr, "rvm audit: %s: log is HMAC-signed; give --hmac-key FILE\n",
			rvm_err_name(RVM_E_INVAL));
		return bad_input(o, RVM_E_INVAL, "log is HMAC-signed; give --hmac-key FILE");
	}
	if (rvm_tool_key_read(o->hmac_key, RVM_KEY_HMAC, key, 32) != RVM_OK)
		return bad_input(o, RVM_E_INVAL, "cannot read the HMAC key file");
	*keyp = key;
	snprintf(desc, desclen, "trusted HMAC-SHA-256 key from %s", o->hmac_key);
	return 0;
}

/* Picks the key to trust; returns 0, or an exit status after saying why. */
static int pick_key(const struct audit_opts *o, uint8_t key[32], const uint8_t **keyp, char *desc,
		    size_t desclen)
{
	struct rvm_witness_file_header h;
	char fp[65], dflt[4200];
	const char *pub = pub_path(o, dflt, sizeof(dflt));

	*keyp = NULL;
	snprintf(desc, desclen, "none (unsigned log: the chain detects accidents, not forgers)");
	if (pub && rvm_tool_key_read(pub, RVM_KEY_ED25519_PUBLIC, key, 32) != RVM_OK)
		return bad_input(o, RVM_E_INVAL, "cannot read the public key file");
	if (!peek_header(o->log, &h))
		return 0;
	if (o->hmac_key && h.sig != RVM_SIG_HMAC_SHA256)
		return downgrade(o, "HMAC", h.sig);
	if (h.sig == RVM_SIG_HMAC_SHA256)
		return pick_hmac(o, key, keyp, desc, desclen);
	if (pub && h.sig != RVM_SIG_ED25519)
		return downgrade(o, "ed25519", h.sig);
	if (h.sig != RVM_SIG_ED25519)
		return 0;
	if (!pub && !o->trust_log_key) {
		fprintf(stderr, "rvm audit: %s: no public key to trust: %s not found "
				"(give --pub FILE, or --trust-log-key)\n",
			rvm_err_name(RVM_E_NOTFOUND), dflt);
		return bad_input(o, RVM_E_NOTFOUND,
				 "no public key to trust: give --pub FILE, or --trust-log-key");
	}
	if (!pub) {
		rvm_tool_hex(h.key, 32, fp);
		snprintf(desc, desclen, "UNTRUSTED: the key the log itself names, ed25519 %.16s", fp);
		return 0;
	}
	rvm_tool_hex(key, 32, fp);
	*keyp = key;
	snprintf(desc, desclen, "trusted ed25519 public key %.16s from %s", fp, pub);
	return 0;
}

static void count_record(void *ctx, const struct rvm_witness_record *r)
{
	struct audit_counts *c = ctx;

	c->by_action[r->action]++;
	if (r->flags & RVM_WF_BATCH)
		c->batched_events += r->target;
	if (r->flags & RVM_WF_DENIED)
		c->denied++;
}

static void print_actions(const struct audit_counts *c)
{
	const char *sep = "";

	printf("  actions      ");
	for (uint32_t a = 0; a < 65536; a++) {
		const char *name = rvm_action_name((uint16_t)a);

		if (!c->by_action[a])
			continue;
		if (name)
			printf("%s%s %llu", sep, name, (unsigned long long)c->by_action[a]);
		else
			printf("%s0x%04x %llu", sep, a, (unsigned long long)c->by_action[a]);
		sep = ", ";
	}
	printf("%s\n", *sep ? "" : "(none)");
	if (c->batched_events || c->denied)
		printf("  notes        %llu events folded into epoch batches, %llu denied actions\n",
		       (unsigned long long)c->batched_events, (unsigned long long)c->denied);
}

static void print_tail(const struct rvm_witness_verdict *v)
{
	uint64_t last = v->records ? v->records - 1 : 0;
	uint64_t unpinned = v->pinned ? v->records - 1 - v->last_pinned_seq : v->records;

	if (v->clean)
		printf("  end          clean: shutdown checkpoint at seq %llu\n",
		       (unsigned long long)last);
	else if (v->pinned)
		printf("  end          NOT CLEAN: no shutdown checkpoint; unpinned tail of %llu records "
		       "after the last signed checkpoint (seq %llu): crash, or truncation\n",
		       (unsigned long long)unpinned, (unsigned long long)v->last_pinned_seq);
	else
		printf("  end          NOT CLEAN: no shutdown checkpoint; unpinned tail of %llu records "
		       "(no verified signed checkpoint): crash, or truncation\n",
		       (unsigned long long)unpinned);
	if (v->torn_checkpoint)
		printf("  tail         torn: checkpoint seq %llu lacks its signature block%s\n",
		       (unsigned long long)last, v->torn_bytes ? " (partial block ignored)" : "");
	if (v->torn_bytes && !v->torn_checkpoint)
		printf("  tail         torn tail: %llu bytes ignored after seq %llu\n",
		       (unsigned long long)v->torn_bytes, (unsigned long long)last);
}

static void print_summary(const struct rvm_witness_reader *rd, const struct audit_counts *c,
			  const char *keydesc)
{
	const struct rvm_witness_verdict *v = &rd->v;
	uint64_t span = v->last_time_ns - v->first_time_ns;

	printf("  format       v%u, chain %s, signatures %s, checkpoint every %u records\n",
	       rd->hdr.version, rvm_tool_chain_name(rd->hdr.chain), rvm_tool_sig_name(rd->hdr.sig),
	       rd->hdr.checkpoint_every);
	printf("  key          %s\n", keydesc);
	if (v->records)
		printf("  records      %llu verified (seq 0..%llu), time span %llu ns (%llu.%06llu s)\n",
		       (unsigned long long)v->records, (unsigned long long)(v->records - 1),
		       (unsigned long long)span, (unsigned long long)(span / 1000000000u),
		       (unsigned long long)(span % 1000000000u / 1000u));
	else
		printf("  records      0\n");
	print_actions(c);
	printf("  checkpoints  %llu, %llu signatures verified\n", (unsigned long long)v->checkpoints,
	       (unsigned long long)v->signatures_ok);
}

static int verdict(const char *log, const struct rvm_witness_reader *rd, bool require_clean)
{
	const struct rvm_witness_verdict *v = &rd->v;
	int rc = rvm_tool_exit_for(v->err);
	const char *why = v->why ? v->why : rvm_err_str(v->err);

	if (v->err == RVM_OK) {
		print_tail(v);
		if (require_clean && !v->clean) {
			printf("verdict: NOT CLEAN (--require-clean): %s\n", log);
			return 1;
		}
		printf("verdict: OK%s: %s\n", v->torn_bytes || v->torn_checkpoint
						     ? " (torn tail ignored, not tampering)" : "", log);
		return 0;
	}
	if (v->where == RVM_WHERE_HEADER)
		printf("verdict: %s: header: %s (%s)\n", rc == 1 ? "TAMPERED" : "BAD INPUT", why,
		       rvm_err_name(v->err));
	else if (v->where == RVM_WHERE_SIGNATURE)
		printf("verdict: TAMPERED: first bad seq %llu: signature block of checkpoint %llu at "
		       "byte %llu: %s (%s)\n", (unsigned long long)v->bad_seq,
		       (unsigned long long)v->bad_seq, (unsigned long long)v->bad_offset, why,
		       rvm_err_name(v->err));
	else
		printf("verdict: TAMPERED: first bad seq %llu at byte %llu: %s (%s)\n",
		       (unsigned long long)v->bad_seq, (unsigned long long)v->bad_offset, why,
		       rvm_err_name(v->err));
	return rc;
}

int rvm_cmd_audit(int argc, char **argv)
{
	static struct audit_counts counts;
	static struct rvm_witness_reader rd;
	struct audit_opts o;
	char keydesc[4400];
	const uint8_t *keyp;
	uint8_t key[32];
	int rc;

	if (parse(argc, argv, &o) != 0)
		return usage();
	if (access(o.log, R_OK) != 0) {
		fprintf(stderr, "rvm audit: %s: cannot read %s\n", rvm_err_name(RVM_E_IO), o.log);
		return bad_input(&o, RVM_E_IO, "cannot read the log file");
	}
	if ((rc = pick_key(&o, key, &keyp, keydesc, sizeof(keydesc))) != 0)
		return rc;
	memset(&counts, 0, sizeof(counts));
	rvm_witness_reader_init(&rd, rvm_sha256_detect(), keyp, count_record, &counts);
	if (rvm_tool_verify_file(o.log, &rd) != RVM_OK)
		return bad_input(&o, RVM_E_IO, "error reading the log file");
	rvm_witness_reader_finish(&rd);
	if (o.json) {
		rc = rd.v.err != RVM_OK		       ? rvm_tool_exit_for(rd.v.err)
		     : o.require_clean && !rd.v.clean ? 1
						       : 0;
		rvm_audit_json_report(o.log, &rd, &counts, keydesc, o.require_clean, rc);
		return rc;
	}
	printf("rvm audit: %s\n", o.log);
	if (rd.v.where != RVM_WHERE_HEADER)
		print_summary(&rd, &counts, keydesc);
	else if (rd.v.err == RVM_E_BADSIG) {
		char a[65], b[65];

		rvm_tool_hex(rd.hdr.key, 32, a);
		rvm_tool_hex(keyp, 32, b);
		printf("  key          %s\n  log signed   by %.16s, not by the trusted %.16s\n",
		       keydesc, a, b);
	}
	return verdict(o.log, &rd, o.require_clean);
}
