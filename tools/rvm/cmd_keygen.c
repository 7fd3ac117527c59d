/* tools/rvm/cmd_keygen.c - `rvm keygen --out PREFIX`: an Ed25519 key pair for witness checkpoints. */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <rvm/bytes.h>
#include <rvm/ed25519.h>

#include "cmd.h"
#include "logfile.h"

static int usage(void)
{
	fprintf(stderr, "usage: rvm keygen --out PREFIX\n"
			"  Writes PREFIX.key (Ed25519 secret key, mode 0600) and PREFIX.pub.\n"
			"  'rvm run --key PREFIX.key' signs with it; 'rvm audit --pub PREFIX.pub' checks.\n");
	return 2;
}

int rvm_cmd_keygen(int argc, char **argv)
{
	uint8_t seed[RVM_ED25519_SEED], pk[RVM_ED25519_PUBLIC], sk[RVM_ED25519_SECRET];
	char keypath[4200], pubpath[4200], fp[65];
	const char *prefix = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--out") && i + 1 < argc)
			prefix = argv[++i];
		else
			return usage();
	}
	if (!prefix || !*prefix)
		return usage();
	snprintf(keypath, sizeof(keypath), "%s.key", prefix);
	snprintf(pubpath, sizeof(pubpath), "%s.pub", prefix);
	if (getrandom(seed, sizeof(seed), 0) != (ssize_t)sizeof(seed)) {
		fprintf(stderr, "rvm keygen: %s: no entropy\n", rvm_err_name(RVM_E_IO));
		return 2;
	}
	rvm_ed25519_keypair(pk, sk, seed);
	rvm_wipe(seed, sizeof(seed));
	if (rvm_tool_key_write(keypath, RVM_KEY_ED25519_SECRET, sk, sizeof(sk), true) != RVM_OK ||
	    rvm_tool_key_write(pubpath, RVM_KEY_ED25519_PUBLIC, pk, sizeof(pk), false) != RVM_OK) {
		rvm_wipe(sk, sizeof(sk));
		return 2;
	}
	rvm_wipe(sk, sizeof(sk));
	rvm_tool_hex(pk, sizeof(pk), fp);
	printf("rvm keygen: ed25519 key %.16s\n  secret  %s (mode 0600)\n  public  %s\n", fp, keypath,
	       pubpath);
	return 0;
}
