#!/usr/bin/env bash
# Splices a `ftrace_report footprint --study` table (make trace's
# results/ARCH/ID.study.md) into a README between its study table markers,
# so that the README's table is the tool's output, not a hand edit.
# usage: scripts/study-readme.sh STUDY_MD README
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: $0 STUDY_MD README" >&2; exit 2; }
study=$1 readme=$2
begin='<!-- study table: begin -->'
end='<!-- study table: end -->'
no() { echo "study-readme: $*" >&2; exit 1; }

[ -s "$study" ] || no "$study: missing or empty"
[ -f "$readme" ] || no "$readme: missing"
[ -z "$(tail -c1 "$study")" ] || no "$study: no newline at its end"
# A difference without its reason must be explained in study.rs first.
! grep -qF '| ? |' "$study" || no "$study: a difference has no reason (kernel_footprint/src/study.rs REASONS)"
lines() { grep -nxF -- "$1" "$readme" | cut -d: -f1 || true; }
b=$(lines "$begin") e=$(lines "$end")
[ "$(wc -w <<<"$b")" = 1 ] && [ "$(wc -w <<<"$e")" = 1 ] && [ "$b" -lt "$e" ] ||
	no "$readme: expected one line '$begin' before one line '$end'"

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
{ head -n "$b" "$readme"; cat "$study"; tail -n "+$e" "$readme"; } >"$tmp"
# Written over, not moved: the README keeps its mode.
cat "$tmp" >"$readme"
