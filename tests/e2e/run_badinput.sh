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
expect_rc 2 "$RVM_BIN" run --cpus 0
expect_rc 2 "$RVM_BIN" run --cpus 9
expect_rc 2 "$RVM_BIN" run --seconds abc
expect_rc 2 "$RVM_BIN" run a.json b.json
expect_rc 0 "$RVM_BIN" run --help
echo "run_badinput: ok"
