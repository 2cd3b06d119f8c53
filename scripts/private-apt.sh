# Sourced by the scripts that fetch Debian packages into the project's cache
# without touching the system (qemu.sh, trace-cmd-arm64.sh): a
# private apt configuration under DIR (own sources list, lists and cache),
# on the Debian mirror the system's apt already uses.
#
#   private_apt DIR "SUITE..." [ARCH]   sets the array `aptopts`
#   fetch_debs DIR ROOT SPEC...         downloads SPEC (`pkg` or
#                                       `pkg/suite`) and what installing it
#                                       would bring, unpacks it all into ROOT
#
# Without ARCH the system's dpkg status is read (dependencies the host
# already has are not fetched); with ARCH the status is empty, so the whole
# closure of that architecture is fetched. Both need `say` from the caller.
# Exit 3 when apt cannot resolve or download.

# The first Debian archive (not the security one) of the system's sources,
# deb822 or one-line.
debian_mirror() {
	local uris mirror
	uris=$(
		awk '/^URIs:/ { print $2 }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true
		sed -n 's/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*\) .*/\2/p' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true
	)
	mirror=$(awk '!/-security/ && /\/debian\/?$/ { print; exit }' <<<"$uris")
	[ -n "$mirror" ] && echo "$mirror"
}

private_apt() {
	local apt=$1/apt suites=$2 arch=${3:-} mirror suite
	mirror=$(debian_mirror) || { say "no Debian archive in the system's apt sources"; exit 3; }
	mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs"
	: >"$apt/sources.list"
	for suite in $suites; do
		echo "deb [${arch:+arch=$arch }signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" >>"$apt/sources.list"
	done
	aptopts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
		-o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache"
		-o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache=" -o "Debug::NoLocking=1"
		-o "APT::Sandbox::User=root")
	if [ -n "$arch" ]; then
		: >"$apt/status"
		aptopts+=(-o "Dir::State::status=$apt/status" -o "APT::Architecture=$arch" -o "APT::Architectures=$arch")
	fi
	apt-get "${aptopts[@]}" -qq update >&2 || { say "apt-get update failed"; exit 3; }
}

fetch_debs() {
	local apt=$1/apt root=$2 deb
	shift 2
	local -a pkgs
	mapfile -t pkgs < <(apt-get "${aptopts[@]}" -s --no-install-recommends install "$@" 2>/dev/null |
		awk '$1 == "Inst" { print $2 }')
	[ ${#pkgs[@]} -gt 0 ] || { say "apt cannot resolve $*"; exit 3; }
	# A package asked for by suite is downloaded from that suite.
	local spec i
	for spec in "$@"; do
		for i in "${!pkgs[@]}"; do
			[ "${pkgs[$i]}" = "${spec%/*}" ] && pkgs[$i]=$spec
		done
	done
	(cd "$apt/debs" && apt-get "${aptopts[@]}" -qq download "${pkgs[@]}" >&2) ||
		{ say "apt-get download failed"; exit 3; }
	mkdir -p "$root"
	for deb in "$apt"/debs/*.deb; do
		dpkg-deb -x "$deb" "$root"
	done
	say "${#pkgs[@]} package(s) unpacked into $root"
}
