#!/bin/sh
# once-farm.sh: helper of bench/once.sh, bench/http.sh and
# bench/latency.sh.  Creates a farm under DIR:
#
#   once-farm.sh DIR N T [PORT]
#
#   DIR/upstream/pkgNN.git    N local bare repositories (file:// upstreams)
#                             with T annotated tags v1.0.0 .. v1.<T-1>.0
#   DIR/upstream/pkgNN.work   their work trees (to tag new releases)
#   DIR/recipes/pkgNN/        a watched recipe per repository: one noarch
#                             package, a trivial build.sh (mkdir + cp),
#                             the GitHub webhook enabled when PORT is given
#   DIR/etc/                  a throwaway Ed25519 key, a webhook secret,
#                             config.toml ([http] on 127.0.0.1:PORT when
#                             PORT is given; max_parallel_builds = $PAR,
#                             default 1)
#   DIR/state/                the (empty) state directory
#
# The first repository is made with git; the others are copies of it, so
# a farm of 20 x 3 takes well under a second.  Commit dates are fixed.
set -eu
dir=$1
n=$2
t=$3
port=${4:-}
hook=false
[ -z "$port" ] || hook=true
mkdir -p "$dir/upstream" "$dir/recipes" "$dir/etc" "$dir/state"
chmod 755 "$dir"

tpl=$dir/upstream/template.work
git init -q -b main "$tpl"
(
	cd "$tpl"
	git config user.email bench@example.org
	git config user.name "Bench Upstream"
	i=0
	while [ $i -lt "$t" ]; do
		echo "1.$i.0" >VERSION
		git add VERSION
		d="2026-01-0$(( i % 9 + 1 ))T12:00:00Z"
		GIT_COMMITTER_DATE=$d GIT_AUTHOR_DATE=$d git commit -q -m "1.$i.0"
		git tag -a "v1.$i.0" -m "v1.$i.0"
		i=$((i + 1))
	done
)

i=1
while [ $i -le "$n" ]; do
	id=$(printf 'pkg%02d' $i)
	cp -a "$tpl" "$dir/upstream/$id.work"
	git clone -q --bare "$dir/upstream/$id.work" "$dir/upstream/$id.git"
	mkdir -p "$dir/recipes/$id"
	cat >"$dir/recipes/$id/peipkg.toml" <<EOF
[meta]
license = "MIT"
homepage = "https://example.org/$id"
build_script = "build.sh"

[[package]]
name = "$id"
architecture = "noarch"
description = "benchmark package $id"
files = ["usr/share/$id/**"]

[upstream]
git = "file://$dir/upstream/$id.git"
tag_pattern = "^v([0-9]+\\\\.[0-9]+\\\\.[0-9]+)\$"
peios_revision = 1

[watch]
github_webhook = $hook
poll_interval = "1h"
EOF
	cat >"$dir/recipes/$id/build.sh" <<EOF
#!/bin/sh
set -eu
mkdir -p "\$DESTDIR/usr/share/$id"
cp "\$SOURCE_DIR/VERSION" "\$DESTDIR/usr/share/$id/VERSION"
EOF
	i=$((i + 1))
done
rm -rf "$tpl"

openssl genpkey -algorithm ed25519 -out "$dir/etc/farm.ed25519" 2>/dev/null
chmod 600 "$dir/etc/farm.ed25519"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/etc/webhook-secret"
chmod 600 "$dir/etc/webhook-secret"

{
	cat <<EOF
[manager]
id = "bench-farm"
recipes_dir = "$dir/recipes"
state_dir = "$dir/state"
max_parallel_builds = ${PAR:-1}

[repo]
name = "bench-repo"

[signing]
key_file = "$dir/etc/farm.ed25519"

[upload]
backend = "none"

[poll]
default_interval = "1h"
EOF
	if [ -n "$port" ]; then
		printf '\n[http]\naddr = "127.0.0.1:%s"\n' "$port"
		printf 'webhook_secret_file = "%s/etc/webhook-secret"\n' "$dir"
	fi
} >"$dir/etc/config.toml"
