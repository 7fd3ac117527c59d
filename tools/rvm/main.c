/* tools/rvm/main.c - the rvm command: dispatches to one sub-command per file. */
#include <stdio.h>
#include <string.h>

#include <rvm/profile.h>

#include "cmd.h"

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

const struct rvm_cmd rvm_cmds[] = {
	{ "help", "list the sub-commands", cmd_help },
	{ "version", "print the version and build profile", cmd_version },
	{ "wasm", "WebAssembly engine: validate, run, spec", cmd_wasm },
	{ "run", "boot the hosted kernel; write a run directory with its witness log", rvm_cmd_run },
	{ "audit", "verify a witness log's chain and signatures, summarise it", rvm_cmd_audit },
	{ "query", "who did what to X between T1 and T2, from a witness log", rvm_cmd_query },
	{ "keygen", "write an Ed25519 key pair for signing witness checkpoints", rvm_cmd_keygen },
	{ "replay", "rebuild a partition's state at a witness seq from a run directory", rvm_cmd_replay },
	{ "journal", "list a run's journal; --check replays every agent against its live digests",
	  rvm_cmd_journal },
	{ "sim", "place a recorded agent trace: coherence, naive, static", rvm_cmd_sim },
	{ "gpu", "GPU compute demo: matmul + reduction on OpenCL and cpu, compared", rvm_cmd_gpu },
	{ NULL, NULL, NULL },
};

static int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("usage: rvm <command> [args...]\n\ncommands:\n");
	for (const struct rvm_cmd *c = rvm_cmds; c->name; c++)
		printf("  %-10s %s\n", c->name, c->summary);
	printf("\n'rvm <command> --help' describes one command.\n");
	return 0;
}

static int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("rvm 0.1.0 (profile %s)\n", RVM_PROFILE_NAME);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cmd_help(0, NULL), argc < 2 ? 2 : 0;
	for (const struct rvm_cmd *c = rvm_cmds; c->name; c++)
		if (!strcmp(argv[1], c->name))
			return c->main(argc - 1, argv + 1);
	fprintf(stderr, "rvm: unknown command '%s' (try 'rvm help')\n", argv[1]);
	return 2;
}
