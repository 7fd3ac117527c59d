# tests/docs/extract.awk - splits a guide chapter into its marked blocks for docs_test.sh.
#
# A marker comment on the line before a fenced block says what the docs test does with it:
#   <!-- docs-test: run -->            a sh block: run it (blocks of a chapter share one shell)
#   <!-- docs-test: skip: REASON -->   a sh block: not run, and the reason is printed
#   <!-- docs-test: expect -->         a text block: each line must appear in the previous run
#                                      block's output (stdout and stderr)
# Every ```sh block must carry run or skip, so no shell example goes untested by accident.
# Writes OUT/NNN.sh and OUT/NNN.expect; prints an index line per block and exits 1 on an error.
BEGIN { n = 0; mark = ""; infence = 0; bad = 0; lastrun = 0 }
function fail(msg) { printf "%s:%d: %s\n", FILENAME, FNR, msg > "/dev/stderr"; bad = 1 }
infence {
	if ($0 ~ /^```[ \t]*$/) { infence = 0; close(file); next }
	if (file != "") print > file
	next
}
/^<!-- docs-test: / {
	if (mark != "") fail("two docs-test markers in a row")
	if ($0 ~ /^<!-- docs-test: run -->$/) mark = "run"
	else if ($0 ~ /^<!-- docs-test: expect -->$/) mark = "expect"
	else if ($0 ~ /^<!-- docs-test: skip: [^ ].* -->$/) {
		mark = "skip"
		reason = $0
		sub(/^<!-- docs-test: skip: /, "", reason)
		sub(/ -->$/, "", reason)
	} else fail("unknown marker (run, expect or 'skip: REASON')")
	next
}
/^```/ {
	lang = $0
	sub(/^```[ \t]*/, "", lang)
	infence = 1
	file = ""
	shell = (lang == "sh" || lang == "bash" || lang == "shell" || lang == "console")
	if (shell && mark == "") fail("a " lang " block without a docs-test marker (run, or skip: REASON)")
	if (mark == "run" || mark == "skip") {
		if (!shell) fail("run/skip marker before a '" lang "' block (needs sh)")
		n++
		if (mark == "run") { file = sprintf("%s/%03d.sh", out, n); lastrun = n; printf "run %d %d\n", n, FNR }
		else printf "skip %d %d %s\n", n, FNR, reason
	} else if (mark == "expect") {
		if (lang != "text") fail("expect marker before a '" lang "' block (needs text)")
		if (!lastrun) fail("expect block with no run block before it")
		file = sprintf("%s/%03d.expect", out, lastrun)
		printf "expect %d %d\n", lastrun, FNR
	}
	if (file != "") printf "" > file
	mark = ""
	next
}
mark != "" && $0 !~ /^[ \t]*$/ { fail("docs-test marker not followed by a fenced block"); mark = "" }
END {
	if (infence) fail("unterminated code fence")
	exit bad
}
