# shellcheck shell=bash
# Sourced by scripts/tailor.sh and scripts/tailor-try.sh: the payload runs
# of one boot, as the loop and each bisection step make them.

# tailor_run VMRUN REPORT "VM_ARGS" KERNEL DIR PAYLOADS ID...: the payloads
# PAYLOADS/ID, traced with the function tracer and killed by --duration 1,
# in one boot of the kernel build tree KERNEL; vmrun's results in DIR, its
# log in DIR.log. Returns 1, with the reason in run_failure, when vmrun
# fails ("vmrun exit N") or a run did not reach its --duration.
tailor_run() {
	local vmrun=$1 report=$2 vm_args=$3 kernel=$4 dir=$5 payloads=$6 id status
	shift 6
	local payload_args=()
	for id in "$@"; do payload_args+=(--payload "$payloads/$id"); done
	run_failure=
	status=0
	# shellcheck disable=SC2086 # VM_ARGS is a list of words
	"$vmrun" run $vm_args --kernel-dir "$kernel" "${payload_args[@]}" --tracer function \
		--duration 1 --results "$dir" --report "$report" >"$dir.log" 2>&1 || status=$?
	if [ "$status" != 0 ]; then
		run_failure="vmrun exit $status"
		return 1
	fi
	for id in "$@"; do
		status=$(cat "$dir/$id.exit")
		[ "$status" = 137 ] || {
			run_failure="$id exited $status, not 137 (killed by --duration)"
			return 1
		}
	done
}
