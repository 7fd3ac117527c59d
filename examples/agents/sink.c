/* examples/agents/sink.c - an actuator: takes every message it is sent, counts and logs. */
#include "rvm_agent.h"

EXPORT("run") void run(void)
{
	int32_t msg[64];

	for (uint32_t n = 1;; n++) {
		recv_wait(msg, sizeof(msg));
		if (n % 1024 == 0)
			log_num("actuated", msg[2]);
	}
}
