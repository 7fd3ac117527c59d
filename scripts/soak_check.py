#!/usr/bin/env python3
"""scripts/soak_check.py - checks the JSON summary of a soak run: nothing lost, faults recovered."""
import json
import sys

d = json.load(open(sys.argv[1]))
checks = [
    ("no message lost", d["messages_lost"] == 0),
    ("sent = received + queued", d["messages_sent"] == d["messages_received"] + d["messages_queued"]),
    ("kernel IPC agrees with the channels", d["kernel_ipc_mismatches"] == 0),
    ("64 agents", d["agents_total"] == 64),
    ("faults were injected and recovered", d["traps"] > 0 and d["recoveries"] > 0),
    ("messages flowed", d["messages_received"] > 0),
]
for name, ok in checks:
    print(("ok   " if ok else "FAIL ") + name)
print("soak: %.0f s, %d messages, %d traps, %d F1 restarts, %d splits, %d merges, %d migrations"
      % (d["seconds"], d["messages_received"], d["traps"], d["recoveries"], d["splits"],
         d["merges"], d["migrations"]))
sys.exit(0 if all(ok for _, ok in checks) else 1)
