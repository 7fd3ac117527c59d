#!/usr/bin/env python3
"""scripts/gen_traces.py - writes the example agent traces for `rvm sim` (deterministic seed).

Usage: scripts/gen_traces.py [OUTDIR]   (default: examples/traces next to this script's repo)
Each trace is JSON Lines: spawn/send/trust/exit events, times in microseconds.
"""
import json
import os
import random
import sys

SEED = 20261126


def line(ev):
    return json.dumps(ev, separators=(",", ":"))


def spawn_all(names, t=0):
    return [{"t_us": t, "op": "spawn", "agent": n} for n in names]


def sends(rng, t0, t1, count, pick):
    """count sends spread evenly over [t0, t1); pick(rng) -> (from, to, bytes)."""
    out = []
    for i in range(count):
        t = t0 + (t1 - t0) * i // count
        a, b, n = pick(rng)
        out.append({"t_us": t, "op": "send", "from": a, "to": b, "bytes": n})
    return out


def interleaved(teams):
    """Spawn order that alternates teams (so arrival order says nothing about teams)."""
    order = []
    for i in range(max(len(t) for t in teams)):
        for t in teams:
            if i < len(t):
                order.append(t[i])
    return order


def team_pick(teams, intra):
    everyone = [a for t in teams for a in t]
    team_of = {a: k for k, t in enumerate(teams) for a in t}

    def pick(rng):
        a = rng.choice(everyone)
        if rng.random() < intra:
            b = rng.choice([x for x in teams[team_of[a]] if x != a])
        else:
            b = rng.choice([x for x in everyone if team_of[x] != team_of[a]])
        return a, b, rng.choice((256, 512, 1024, 2048))

    return pick


def pipeline(rng):
    """Two 8-stage pipelines: stage i feeds stage i+1; a few control messages to stage 0."""
    pipes = [[f"p{p}s{i}" for i in range(8)] for p in range(2)]
    evs = spawn_all(interleaved(pipes))

    def pick(rng):
        p = rng.choice(pipes)
        i = rng.randrange(7)
        return p[i], p[i + 1], 4096 if rng.random() < 0.9 else 128

    evs += sends(rng, 10, 40000, 3000, pick)
    return evs


def clustered(rng):
    """Six teams of five: 90% of traffic inside the team."""
    teams = [[f"t{k}a{i}" for i in range(5)] for k in range(6)]
    evs = spawn_all(interleaved(teams))
    evs += sends(rng, 10, 40000, 4000, team_pick(teams, 0.9))
    return evs


def shifting(rng):
    """Six teams of five whose membership shifts: every 20 ms three agents change team."""
    names = [f"w{i}" for i in range(30)]
    teams = [names[k::6] for k in range(6)]  # interleaved membership
    evs = spawn_all(names)
    t = 10
    for phase in range(4):
        evs += sends(rng, t, t + 20000, 2000, team_pick(teams, 0.9))
        t += 20000
        for _ in range(3):
            src, dst = rng.sample(range(6), 2)
            mover = rng.choice(teams[src])
            if len(teams[src]) > 3 and len(teams[dst]) < 7:
                teams[src].remove(mover)
                teams[dst].append(mover)
    return evs


def hub(rng):
    """One hub and twenty spokes that talk only to the hub (and back)."""
    spokes = [f"s{i}" for i in range(20)]
    evs = spawn_all(["hub"] + spokes)

    def pick(rng):
        s = rng.choice(spokes)
        return (s, "hub", 512) if rng.random() < 0.5 else ("hub", s, 2048)

    evs += sends(rng, 10, 30000, 2000, pick)
    for i, s in enumerate(spokes[:5]):
        evs.append({"t_us": 30000 + i, "op": "exit", "agent": s})
    return evs


def trust_drop(rng):
    """Four teams of five; at 20 ms one member of team 0 drops to trust 20 (below the floor)."""
    teams = [[f"r{k}a{i}" for i in range(5)] for k in range(4)]
    evs = spawn_all(interleaved(teams))
    evs += sends(rng, 10, 20000, 2000, team_pick(teams, 0.9))
    evs.append({"t_us": 20000, "op": "trust", "agent": "r0a0", "level": 20})
    evs += sends(rng, 20001, 40000, 2000, team_pick(teams, 0.9))
    return evs


TRACES = {
    "pipeline": pipeline,
    "clustered": clustered,
    "shifting_teams": shifting,
    "hub_spoke": hub,
    "trust_drop": trust_drop,
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "examples", "traces")
    os.makedirs(out, exist_ok=True)
    for k, (name, fn) in enumerate(TRACES.items()):
        rng = random.Random(SEED + k)
        evs = sorted(fn(rng), key=lambda e: e["t_us"])  # stable: spawns stay first
        with open(os.path.join(out, name + ".jsonl"), "w") as f:
            for e in evs:
                f.write(line(e) + "\n")


if __name__ == "__main__":
    main()
