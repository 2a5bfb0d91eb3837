#!/bin/sh
# once-loop.sh: helper of bench/once.sh, the baseline - what the daemon's
# --once replaces, done by hand for every recipe of a farm made by
# bench/once-farm.sh:
#
#   once-loop.sh FARM REPO BUILDDIR WORK
#
#   peipkg-repo init (REPO), then per recipe `git ls-remote --tags` and,
#   per tag matching ^v([0-9]+\.[0-9]+\.[0-9]+)$: `git clone --branch TAG`
#   (the build timestamp is the commit's committer time, as the worker
#   takes it), `peipkg-build build` in the same build sandbox as the
#   daemon's worker (as root: build.sh runs as peipkg-build), signed with
#   the farm key, and `peipkg-repo publish` of its output into REPO.
set -eu
farm=$1
repo=$2
build=$3
work=$4
key=$farm/etc/farm.ed25519
now() { date -u +%Y-%m-%dT%H:%M:%SZ; }
tab=$(printf '\t')

"$build/peipkg-repo" init --name bench-repo --sign-key "$key" \
    --timestamp "$(now)" --out "$repo" >/dev/null
for rdir in "$farm"/recipes/*/; do
	id=$(basename "$rdir")
	url=file://$farm/upstream/$id.git
	tags=$(git ls-remote --tags "$url" | sed -n \
	    "s,^[0-9a-f]*${tab}refs/tags/\(v[0-9][0-9]*\.[0-9][0-9]*\.[0-9][0-9]*\)\$,\1,p")
	for tag in $tags; do
		src=$work/src
		out=$work/out
		git -c advice.detachedHead=false clone -q --branch "$tag" \
		    "$url" "$src"
		ts=$(TZ=UTC git -C "$src" log -1 --format=%cd \
		    --date=format-local:%Y-%m-%dT%H:%M:%SZ)
		rm -rf "$src/.git"
		"$build/peipkg-build" build --recipe "$rdir/peipkg.toml" \
		    --source "$src" --out "$out" --version "${tag#v}-1" \
		    --sign-key "$key" --build-user peipkg-build \
		    --farm-id bench-farm --source-ref "$tag" --timestamp "$ts" \
		    >/dev/null
		"$build/peipkg-repo" publish --in "$repo" --out "$repo" \
		    --new "$out" --sign-key "$key" --timestamp "$(now)" >/dev/null
		rm -rf "$src" "$out"
	done
done
