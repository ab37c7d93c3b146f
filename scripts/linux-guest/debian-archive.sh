# shellcheck shell=bash
# Sourced by fetch-kernel and build-initramfs: apt-get and apt-cache on a private apt state
# (sources list, package lists, cache, an empty dpkg status, no pinning) under a directory of
# the caller's, for one suite of deb.debian.org. The system's sources, lists, cache and
# preferences are neither read for packages nor written; the system's keyring checks the
# archive's signatures. Nothing is installed: packages are only downloaded and unpacked.

DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
DONJON_CACHE=${DONJON_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/donjon}

die() {
	echo "${0##*/}: $*" >&2
	exit 1
}

say() {
	echo "${0##*/}: $*" >&2
}

# debian_state SUITE DIR: makes DIR the private apt state for SUITE (main, amd64) and sets
# APT_OPTS, the options that point apt-get and apt-cache at it.
debian_state() {
	local suite=$1 dir=$2
	mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/prefs.d"
	echo "deb [arch=amd64] $DEBIAN_MIRROR $suite main" >"$dir/sources.list"
	: >"$dir/status"
	: >"$dir/preferences"
	APT_OPTS=(
		-o "Dir::Etc::SourceList=$dir/sources.list"
		-o "Dir::Etc::SourceParts=/dev/null"
		-o "Dir::Etc::Preferences=$dir/preferences"
		-o "Dir::Etc::PreferencesParts=$dir/prefs.d"
		-o "Dir::State::Lists=$dir/lists"
		-o "Dir::State::status=$dir/status"
		-o "Dir::State::extended_states=$dir/extended_states"
		-o "Dir::Cache=$dir/cache"
		-o "Acquire::Languages=none"
		-o "APT::Architecture=amd64"
		-o "APT::Architectures=amd64"
		-o "APT::Sandbox::User=root"
	)
	DEBIAN_STATE=$dir
	DEBIAN_SUITE=$suite
}

# debian_update: fetches the suite's package lists into the private state. Fails with the
# reason apt gave when the archive cannot be reached or the suite has no lists.
debian_update() {
	local log=$DEBIAN_STATE/update.log
	say "apt-get update ($DEBIAN_SUITE, private lists in $DEBIAN_STATE/lists)"
	if ! apt-get "${APT_OPTS[@]}" -q update >"$log" 2>&1 ||
		grep -q -E '^(E|W): (Failed to fetch|Some index files failed)' "$log" ||
		! compgen -G "$DEBIAN_STATE/lists/*_Packages*" >/dev/null; then
		sed 's/^/    /' "$log" >&2
		die "cannot fetch the package lists of $DEBIAN_SUITE from $DEBIAN_MIRROR (network down, or no such suite?)"
	fi
}

# debian_has_lists: true when the private state already holds the suite's package lists.
debian_has_lists() {
	compgen -G "$DEBIAN_STATE/lists/*_Packages*" >/dev/null
}

# debian_candidate PACKAGE: prints the version apt would pick of PACKAGE (the suite's newest),
# or nothing when the suite has no such package.
debian_candidate() {
	apt-cache "${APT_OPTS[@]}" policy "$1" 2>/dev/null |
		sed -n 's/^  Candidate: //p' | grep -v -x '(none)' || true
}

# debian_depends PACKAGE VERSION: prints the names in the Depends field of that version, one a
# line (alternatives split, version constraints dropped).
debian_depends() {
	apt-cache "${APT_OPTS[@]}" show "$1=$2" 2>/dev/null |
		sed -n 's/^Depends: //p' | head -n 1 | sed 's/[,|]/\n/g' |
		sed -E 's/^ *//; s/[ (].*//' | grep -v '^$' || true
}

# debian_download DIR PACKAGE=VERSION...: downloads the .debs into DIR.
debian_download() {
	local dir=$1 log=$DEBIAN_STATE/download.log
	shift
	say "apt-get download $*"
	if ! (cd "$dir" && apt-get "${APT_OPTS[@]}" -q download "$@") >"$log" 2>&1; then
		sed 's/^/    /' "$log" >&2
		die "apt-get download failed for: $*"
	fi
}

# debian_busybox: sets BUSYBOX to the path of a static busybox from Debian's busybox-static
# package of BUSYBOX_SUITE (trixie unless set), downloaded and unpacked under
# $DONJON_CACHE/busybox once, and BUSYBOX_VERSION to that package's version. The host's own
# busybox, if any, is not used. Changes APT_OPTS when it has to download.
debian_busybox() {
	local base=$DONJON_CACHE/busybox suite=${BUSYBOX_SUITE:-trixie} ver tmp deb
	if [ -x "$base/current/busybox" ] && [ -s "$base/current/version" ]; then
		# shellcheck disable=SC2034 # for the caller
		BUSYBOX_VERSION=$(cat "$base/current/version") BUSYBOX=$base/current/busybox
		return
	fi
	mkdir -p "$base"
	debian_state "$suite" "$base/apt/$suite"
	debian_update
	ver=$(debian_candidate busybox-static)
	[ -n "$ver" ] || die "no busybox-static in $suite"
	tmp=$(mktemp -d "$base/tmp.XXXXXX")
	debian_download "$tmp" "busybox-static=$ver"
	deb=$(find "$tmp" -maxdepth 1 -name 'busybox-static_*.deb' | head -n 1)
	[ -n "$deb" ] || die "apt-get download left no busybox-static .deb in $tmp"
	dpkg-deb -x "$deb" "$tmp/root"
	[ -x "$tmp/root/usr/bin/busybox" ] || die "busybox-static $ver has no /usr/bin/busybox"
	"$tmp/root/usr/bin/busybox" true || die "busybox-static $ver does not run here"
	rm -rf "${base:?}/${ver//:/_}"
	mkdir -p "$base/${ver//:/_}"
	cp "$tmp/root/usr/bin/busybox" "$base/${ver//:/_}/busybox"
	echo "$ver" >"$base/${ver//:/_}/version"
	ln -sfn "${ver//:/_}" "$base/current"
	rm -rf "$tmp"
	# shellcheck disable=SC2034 # for the caller
	BUSYBOX_VERSION=$ver BUSYBOX=$base/current/busybox
	say "busybox-static $ver from $suite"
}
