/* tools/rvm/cmd_run.c - `rvm run [MANIFEST]`: boot the hosted kernel, run a swarm, leave a witnessed run dir. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rvm/bytes.h>
#include <rvm/ed25519.h>
#include <rvm/world.h>

#include "cmd.h"
#include "hosted.h"
#include "logfile.h"
#include "run.h"

#ifndef RVM_EXAMPLE_AGENTS_DIR
#define RVM_EXAMPLE_AGENTS_DIR NULL
#endif

static int usage(void)
{
	fprintf(stderr,
		"usage: rvm run [MANIFEST] [--out DIR] [--cpus N] [--seconds S] [--graph FILE.dot|.svg]\n"
		"               [--json] [--plain] [--quiet] [--agents DIR]\n"
		"               [--key FILE | --hmac-key FILE | --unsigned] [--chain sha256|fnv1a64]\n"
		"               [--checkpoint-every N] [--faults P]\n"
		"  Boots the hosted kernel (seven measured, witnessed phases) and, given a MANIFEST\n"
		"  (examples/*.json), runs its agents on N virtual CPUs for S seconds while the\n"
		"  coherence engine splits, merges and migrates partitions. DIR (default run) receives\n"
		"  witness.log, witness.pub, journal.log, checkpoints/, status.json and run.txt.\n"
		"  --json       print the exit summary as JSON on stdout (no live view)\n"
		"  --plain      plain status lines even on a terminal; --quiet: no live view\n"
		"  --agents DIR where module names without a path are found (default: the build's\n"
		"               example agents, or $RVM_AGENTS)\n"
		"  --faults P   each epoch, with probability P, a random agent is made to trap\n"
		"               (fault injection for soak tests: it takes the F1 recovery path)\n"
		"  --key FILE   sign with this Ed25519 secret key (rvm keygen); default: a fresh\n"
		"               key pair per run, only its public half kept\n");
	fprintf(stderr,
		"  --until-expect MAX  past S seconds, run on until the manifest's \"expect\"\n"
		"               counts are reached, MAX seconds in all (tests on a loaded host)\n");
	return 2;
}

static bool parse_seconds(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || !(v > 0) || v > 86400)
		return false;
	*out = v;
	return true;
}

static bool parse_fraction(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || !(v >= 0) || v > 1)
		return false;
	*out = v;
	return true;
}

/* Says which option's value was refused and what it takes; -2 (no usage text after it). */
static int bad_value(const char *opt, const char *val, const char *want)
{
	fprintf(stderr, "rvm run: %s '%s': want %s (rvm run --help lists the options)\n", opt, val,
		want);
	return -2;
}

/* Fills *o from the command line. 0, -1 for a usage error (unknown option, a value missing, a
 * second manifest, two keys), -2 for a refused value (already reported on stderr). */
static int parse(int argc, char **argv, struct run_opts *o)
{
	uint64_t v;

	memset(o, 0, sizeof(*o));
	o->out = "run";
	o->chain = RVM_CHAIN_SHA256;
	o->every = RVM_WITNESS_CHECKPOINT_EVERY;
	o->live = true;
	o->agents_dir = getenv("RVM_AGENTS") ? getenv("RVM_AGENTS") : RVM_EXAMPLE_AGENTS_DIR;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--unsigned") || !strcmp(a, "--json") || !strcmp(a, "--plain") ||
		    !strcmp(a, "--quiet")) {
			o->unsigned_log |= !strcmp(a, "--unsigned");
			o->json |= !strcmp(a, "--json");
			o->plain |= !strcmp(a, "--plain");
			if (!strcmp(a, "--quiet") || !strcmp(a, "--json"))
				o->live = false;
			continue;
		}
		if (a[0] != '-') {
			if (o->manifest)
				return -1;
			o->manifest = a;
			continue;
		}
		if (!val) {
			fprintf(stderr, "rvm run: %s needs a value\n", a);
			return -1;
		}
		i++;
		if (!strcmp(a, "--out")) {
			o->out = val;
		} else if (!strcmp(a, "--key")) {
			o->key = val;
		} else if (!strcmp(a, "--hmac-key")) {
			o->hmac_key = val;
		} else if (!strcmp(a, "--graph")) {
			o->graph = val;
		} else if (!strcmp(a, "--agents")) {
			o->agents_dir = val;
		} else if (!strcmp(a, "--chain")) {
			if (strcmp(val, "sha256") && strcmp(val, "fnv1a64"))
				return bad_value(a, val, "sha256 or fnv1a64");
			o->chain = !strcmp(val, "sha256") ? RVM_CHAIN_SHA256 : RVM_CHAIN_FNV1A;
		} else if (!strcmp(a, "--checkpoint-every")) {
			if (!rvm_tool_parse_u64(val, false, &v) || v > UINT32_MAX)
				return bad_value(a, val,
						 "a whole number of records, 0 to 4294967295");
			o->every = (uint32_t)v;
		} else if (!strcmp(a, "--cpus")) {
			if (!rvm_tool_parse_u64(val, false, &v) || v < 1 || v > RVM_MAX_CPUS) {
				char want[64];

				snprintf(want, sizeof(want), "a whole number of CPUs, 1 to %u",
					 (unsigned)RVM_MAX_CPUS);
				return bad_value(a, val, want);
			}
			o->cpus = (uint32_t)v;
		} else if (!strcmp(a, "--seconds")) {
			if (!parse_seconds(val, &o->seconds))
				return bad_value(a, val,
						 "seconds above 0, at most 86400 (e.g. 2.5)");
		} else if (!strcmp(a, "--until-expect")) {
			if (!parse_seconds(val, &o->until_expect))
				return bad_value(a, val,
						 "seconds above 0, at most 86400 (e.g. 60)");
		} else if (!strcmp(a, "--faults")) {
			if (!parse_fraction(val, &o->faults))
				return bad_value(a, val, "a probability from 0 to 1 (e.g. 0.01)");
		} else if (!strcmp(a, "--stress-sync")) {
			if (!rvm_tool_parse_u64(val, false, &v))
				return bad_value(a, val, "a whole number");
			o->stress = v, o->stress_on = true;
		} else {
			fprintf(stderr, "rvm run: unknown option %s\n", a);
			return -1;
		}
	}
	if (o->stress_on)
		o->live = false;
	return (!!o->key + !!o->hmac_key + o->unsigned_log) > 1 ? -1 : 0;
}

/* Fills cfg's signing part; describes the key in desc. Returns an exit status. */
static int setup_key(const struct run_opts *o, const struct rvm_platform *plat,
		     struct rvm_witness_config *cfg, char *desc, size_t n)
{
	uint8_t seed[RVM_ED25519_SEED], pk[RVM_ED25519_PUBLIC];

	if (o->unsigned_log) {
		cfg->sig = RVM_SIG_NONE;
		snprintf(desc, n, "unsigned (--unsigned)");
		return 0;
	}
	if (o->hmac_key) {
		cfg->sig = RVM_SIG_HMAC_SHA256;
		snprintf(desc, n, "HMAC-SHA-256 key from %s", o->hmac_key);
		return rvm_tool_key_read(o->hmac_key, RVM_KEY_HMAC, cfg->key, 32) == RVM_OK ? 0 : 2;
	}
	cfg->sig = RVM_SIG_ED25519;
	if (o->key) {
		snprintf(desc, n, "ed25519 key from %s", o->key);
		return rvm_tool_key_read(o->key, RVM_KEY_ED25519_SECRET, cfg->key, 64) == RVM_OK ? 0
												  : 2;
	}
	if (rvm_platform_entropy(plat, seed, sizeof(seed)) != RVM_OK)
		return 2;
	rvm_ed25519_keypair(pk, cfg->key, seed);
	rvm_wipe(seed, sizeof(seed));
	snprintf(desc, n, "fresh ed25519 key pair for this run (secret half discarded)");
	return 0;
}

/* Writes DIR/witness.pub (Ed25519) and DIR/run.txt naming the signing key. */
static int write_run_files(const char *dir, const struct rvm_kernel *k, const char *desc,
			   const struct run_opts *o)
{
	const struct rvm_witness_log *w = &k->witness;
	char path[4200], fp[65], attest[65];
	FILE *f;

	rvm_tool_hex(w->public_key, 32, fp);
	rvm_tool_hex(k->attest, 32, attest);
	if (w->cfg.sig == RVM_SIG_ED25519) {
		snprintf(path, sizeof(path), "%s/witness.pub", dir);
		if (rvm_tool_key_write(path, RVM_KEY_ED25519_PUBLIC, w->public_key, 32, false))
			return 2;
	}
	snprintf(path, sizeof(path), "%s/run.txt", dir);
	if (!(f = fopen(path, "w")))
		return 2;
	fprintf(f,
		"witness_log witness.log\njournal journal.log\nchain %s\nsignatures %s\n"
		"signing_key %s\nkey_source %s\nboot_attestation %s\nmanifest %s\n",
		rvm_tool_chain_name(w->cfg.chain), rvm_tool_sig_name(w->cfg.sig),
		w->cfg.sig == RVM_SIG_NONE ? "none" : fp, desc, attest,
		o->manifest ? o->manifest : "none");
	return fclose(f) == 0 ? 0 : 2;
}

/*
 * Hidden crash-test writer: bursts of records, each followed by a sync and a
 * line "durable N" once records 0..N-1 are on disk. The e2e crash test kills
 * it with SIGKILL at random moments and audits what is left.
 */
static int stress(struct rvm_kernel *k, uint64_t bursts)
{
	uint64_t rnd = k->witness.boot_clock_ns | 1;

	for (uint64_t b = 0; !bursts || b < bursts; b++) {
		uint64_t n = 1 + (rnd = rnd * 6364136223846793005ull + 1442695040888963407ull) % 97;

		for (uint64_t i = 0; i < n; i++)
			if (rvm_witness_emit(&k->witness, RVM_ACT_IPC_SEND, 0, (uint32_t)(i % 5), b, i,
					     rnd, NULL) != RVM_OK)
				return 2;
		if (rvm_witness_sync(&k->witness) != RVM_OK)
			return 2;
		printf("durable %" PRIu64 "\n", k->witness.durable_seq);
		fflush(stdout);
	}
	return 0;
}

static void report(const struct run_opts *o, const struct rvm_kernel *k, const char *desc)
{
	char fp[65];

	rvm_tool_hex(k->witness.public_key, 32, fp);
	printf("rvm run: hosted kernel booted (%" PRIu32 " phases witnessed) and shut down cleanly\n",
	       k->phases_done);
	printf("  run dir      %s\n  witness log  %s/witness.log (%" PRIu64 " records, chain %s)\n",
	       o->out, o->out, k->witness.next_seq, rvm_tool_chain_name(k->witness.cfg.chain));
	if (k->witness.cfg.sig == RVM_SIG_ED25519)
		printf("  signed by    ed25519 %.16s: %s\n  public key   %s/witness.pub\n", fp, desc,
		       o->out);
	else
		printf("  signed by    %s: %s\n", rvm_tool_sig_name(k->witness.cfg.sig), desc);
}

int rvm_cmd_run(int argc, char **argv)
{
	struct run_result res = { .stress = stress };
	struct rvm_witness_config cfg;
	struct rvm_platform plat;
	struct rvm_hosted h;
	struct run_opts o;
	char desc[4400];
	enum rvm_err err;
	int rc;

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		return usage(), 0;
	if ((rc = parse(argc, argv, &o)) != 0)
		return rc == -2 ? 2 : usage();
	if ((err = rvm_hosted_open(&h, o.out, RVM_HOSTED_TRUNCATE, &plat)) != RVM_OK) {
		fprintf(stderr, "rvm run: %s: cannot open run directory %s: %s\n", rvm_err_name(err),
			o.out, rvm_err_str(err));
		return 2;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.chain = o.chain;
	cfg.checkpoint_every = o.every;
	rc = setup_key(&o, &plat, &cfg, desc, sizeof(desc));
	if (rc == 0)
		rc = run_swarm(&o, &plat, &cfg, &res);
	rvm_wipe(&cfg, sizeof(cfg));
	if (res.k && res.k->phases_done)
		rc = write_run_files(o.out, res.k, desc, &o) ? 2 : rc;
	if (rc == 0 && o.graph) {
		int g = run_graph_write(o.graph, res.k);

		if (g == -2)
			fprintf(stderr, "rvm run: --graph %s: Graphviz 'dot' failed or is missing; the "
					"graph is in %s.dot\n",
				o.graph, o.graph);
		else if (g)
			fprintf(stderr, "rvm run: --graph %s: cannot write it\n", o.graph);
	}
	if (rc == 0 && !o.stress_on && res.snap) {
		if (o.json)
			run_summary(stdout, res.k, res.m, res.snap, true);
		else if (o.manifest)
			run_summary(stdout, res.k, res.m, res.snap, false);
		else
			report(&o, res.k, desc);
	}
	if (res.k)
		rvm_wipe(&res.k->witness.cfg, sizeof(res.k->witness.cfg));
	run_release(&res);
	rvm_hosted_close(&h);
	return rc;
}
