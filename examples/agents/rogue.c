/* examples/agents/rogue.c - a misbehaving agent for tests: each mode breaks one rule of the host ABI. */
#include "rvm_agent.h"

static int64_t mode;

/* args: mode (1 log out of bounds, 2 oversized send, 3 recv out of bounds, 4 send without the
 * right, 5 spawn without the right, 6 unknown edge). */
EXPORT("init") void init(int64_t a0, int64_t a1, int64_t a2, int64_t a3)
{
	(void)a1;
	(void)a2;
	(void)a3;
	mode = a0;
}

static char buf[2048];

EXPORT("run") void run(void)
{
	int32_t r = 0;

	switch (mode) {
	case 1:
		rvm_log((const char *)0x7ffffff0, 100);
		break;
	case 2:
		rvm_send(0, buf, sizeof(buf));
		break;
	case 3:
		rvm_recv((void *)0x7fffff00, 1024);
		break;
	case 4:
		r = rvm_send(0, buf, 4);
		break;
	case 5:
		r = rvm_spawn("rogue", 5);
		break;
	case 6:
		r = rvm_send(31, buf, 4);
		break;
	}
	/* The host answered instead of trapping: report what it said, then idle. */
	log_num("result", r);
	for (;;)
		rvm_yield();
}
