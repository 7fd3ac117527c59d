#!/usr/bin/env bash
# tests/e2e/run_badinput.sh - bad manifests and options: exit 2 with the offending key named.
source "$(dirname "$0")/run_lib.bash"

bad() { # bad JSON EXPECTED-TEXT
  printf '%s' "$1" >"$WORK/m.json"
  expect_rc 2 "$RVM_BIN" run "$WORK/m.json" --out "$WORK/r" --seconds 0.2
  grep -qF -- "$2" <<<"$OUT" || fail "want '$2' in: $OUT"
}
A='{"name":"x","module":"sink"}'
bad '{"agents": [' 'not valid JSON'
bad '[]' 'must be an object'
bad '{"agents": [], "bogus": 1}' 'unknown key "bogus"'
bad '{"agents": []}' 'agents: must be a non-empty array'
bad '{"agents": [{"name":"x"}]}' 'agents[0].module: missing'
bad '{"agents": [{"name":"x","module":"sink","colour":"red"}]}' 'agents[0].: unknown key "colour"'
bad '{"agents": [{"name":"x","module":"sink","trust":101}]}' 'agents[0].trust: must be an integer 0..100'
bad '{"agents": [{"name":"x","module":"sink","trust":"high"}]}' 'agents[0].trust'
bad '{"agents": [{"name":"x","module":"sink","capabilities":["fly"]}]}' 'agents[0].capabilities[0]'
bad '{"agents": [{"name":"x","module":"sink","args":[1,2,3,4,5]}]}' 'agents[0].args'
bad "{\"agents\": [$A, $A]}" 'agents[1].name: "x" used twice'
bad "{\"agents\": [$A], \"edges\": [[\"x\",\"y\"]]}" 'edges[0]: no agent named "y"'
bad "{\"agents\": [$A], \"edges\": [[\"x\",\"x\"]]}" 'edges[0]: an agent cannot have an edge to itself'
bad "{\"agents\": [$A], \"edges\": [\"x\"]}" 'edges[0]: must be a pair'
bad "{\"agents\": [$A], \"limits\": {\"cpus\": 99}}" 'limits.cpus: must be an integer 1..8'
bad "{\"agents\": [$A], \"limits\": {\"seconds\": -1}}" 'limits.seconds'
bad "{\"agents\": [$A], \"limits\": {\"speed\": 1}}" 'limits.: unknown key "speed"'
bad "{\"agents\": [$A], \"events\": [{\"at\": 1, \"agent\": \"nobody\", \"trust\": 5}]}" 'events[0].agent: no agent named "nobody"'
bad "{\"agents\": [$A], \"events\": [{\"at\": 1, \"agent\": \"x\"}]}" 'events[0].trust: missing'
bad "{\"agents\": [{\"name\":\"x\",\"module\":\"nosuchmodule\"}]}" 'module nosuchmodule: cannot read'
bad "{\"modules\": {\"m\": \"m.wasm\"}, \"agents\": [{\"name\":\"x\",\"module\":\"m\"}]}" 'cannot read'
# A file that is not a wasm module: rejected with the engine's reason, not a crash.
printf 'not wasm at all' >"$WORK/junk.wasm"
bad "{\"modules\": {\"m\": \"junk.wasm\"}, \"agents\": [{\"name\":\"x\",\"module\":\"m\"}]}" 'RVM_E_MALFORMED'
# A module importing something RVM does not offer fails to link.
bad "{\"modules\": {\"m\": \"$RVM_BUILD/agents/hello.wasm\"}, \"agents\": [{\"name\":\"x\",\"module\":\"m\"}]}" 'agent x (module m)'
expect_rc 2 "$RVM_BIN" run "$WORK/missing.json" --out "$WORK/r"
grep -q 'cannot read the manifest' <<<"$OUT" || fail "missing manifest: $OUT"
# A refused option value: exit 2, the option, the value and what it takes named, nothing run.
badopt() { # badopt OPTION VALUE EXPECTED-TEXT
  expect_rc 2 "$RVM_BIN" run --out "$WORK/never" "$1" "$2"
  grep -qF -- "rvm run: $1 '$2': want $3" <<<"$OUT" || fail "want '$1 '$2': want $3' in: $OUT"
  [ ! -e "$WORK/never" ] || fail "run dir made despite a bad $1"
}
badopt --cpus 0 'a whole number of CPUs, 1 to 8'
badopt --cpus 9 'a whole number of CPUs, 1 to 8'
badopt --cpus 2x 'a whole number of CPUs, 1 to 8'
badopt --cpus -1 'a whole number of CPUs, 1 to 8'
badopt --cpus 99999999999999999999999 'a whole number of CPUs, 1 to 8'
badopt --seconds abc 'seconds above 0, at most 86400'
badopt --seconds 0 'seconds above 0, at most 86400'
badopt --seconds nan 'seconds above 0, at most 86400'
badopt --seconds 1e9 'seconds above 0, at most 86400'
badopt --faults 1.5 'a probability from 0 to 1'
badopt --faults -0.1 'a probability from 0 to 1'
badopt --chain md5 'sha256 or fnv1a64'
badopt --checkpoint-every -1 'a whole number of records, 0 to 4294967295'
badopt --checkpoint-every 4294967296 'a whole number of records, 0 to 4294967295'
badopt --checkpoint-every '' 'a whole number of records, 0 to 4294967295'
badopt --stress-sync 1e3 'a whole number'
badopt --until-expect 0 'seconds above 0, at most 86400'
badopt --until-expect soon 'seconds above 0, at most 86400'
expect_rc 2 "$RVM_BIN" run --bogus 1
grep -q 'rvm run: unknown option --bogus' <<<"$OUT" || fail "unknown option: $OUT"
expect_rc 2 "$RVM_BIN" run --cpus
grep -q 'rvm run: --cpus needs a value' <<<"$OUT" || fail "missing value: $OUT"
expect_rc 2 "$RVM_BIN" run a.json b.json
# The other commands' numeric options are checked as strictly.
expect_rc 2 "$RVM_BIN" journal "$WORK" --agent abc
grep -qF "rvm journal: --agent 'abc': want an agent number" <<<"$OUT" || fail "journal --agent: $OUT"
expect_rc 2 "$RVM_BIN" journal "$WORK" --agent 256
grep -qF "rvm journal: --agent '256'" <<<"$OUT" || fail "journal --agent 256: $OUT"
expect_rc 2 "$RVM_BIN" wasm run "$WORK/junk.wasm" --invoke f --fuel -5
grep -qF "rvm wasm run: --fuel '-5': want a whole number" <<<"$OUT" || fail "wasm --fuel: $OUT"
expect_rc 0 "$RVM_BIN" run --help
echo "run_badinput: ok"
