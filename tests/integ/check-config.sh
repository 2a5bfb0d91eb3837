#!/bin/sh
# check-config.sh: peipkg-manager's command line and --check-config:
# the official recipes with their grants pass; every broken config and
# recipe under tests/data/config/bad-*/ exits 2 naming file:line:col and
# the key or value (the literal strings of its `expect` file); one bad
# recipe never hides the good ones; flags and exit codes.
. "$top_srcdir/tests/lib.sh"

PM="$top_builddir/peipkg-manager"
DATA="$top_srcdir/tests/data"
[ -x "$PM" ] || skip_all "peipkg-manager not built"

# run DIR ARGS...: run in DIR, capture rc, stdout and stderr.
run() {
	_dir=$1; shift
	(cd "$_dir" && "$PM" "$@") >"$TAP_TMP/out" 2>"$TAP_TMP/err"
	RC=$?
}

# is DESC WANT GOT
is() {
	if [ "$2" = "$3" ]; then ok "$1"; else notok "$1"
		diag "want: $2"; diag "got:  $3"; fi
}

# has DESC FILE STRING: FILE contains STRING literally.
has() {
	if grep -qF -- "$3" "$2"; then ok "$1"; else notok "$1"
		diag "missing: $3"; diag "$(cat "$2")"; fi
}

# A farm with copies of the official recipes.
FARM="$TAP_TMP/farm"
mkdir -p "$FARM/recipes"
cp -R "$DATA/recipes-examples/." "$FARM/recipes/"
BASE='[manager]
id = "peios-build-1"
recipes_dir = "recipes"
state_dir = "state"

[repo]
name = "peios-official"

[signing]
key_file = "farm.key"

[poll]
default_interval = "1h"
'
GRANTS='
[[signing_key]]
name = "tcb"
private = "tcb.key"

[[grant]]
recipe = "loregd"
sign = ["tcb"]

[[grant]]
recipe = "prelude"
sign = ["tcb"]
'
printf '%s%s' "$BASE" "$GRANTS" >"$FARM/config.toml"

run "$FARM" --check-config --config config.toml
is "official recipes: exit 0" 0 "$RC"
is "official recipes: summary" "config OK: 10 recipes (10 watched)" \
    "$(cat "$TAP_TMP/out")"
is "official recipes: nothing on stderr" "" "$(cat "$TAP_TMP/err")"

# The same with an absolute --config from elsewhere.
run / --check-config --config "$FARM/config.toml"
is "absolute --config: exit 0" 0 "$RC"

# Without the grants, loregd and prelude fail closed.
printf '%s' "$BASE" >"$FARM/nogrant.toml"
run "$FARM" --check-config --config nogrant.toml
is "no grants: exit 2" 2 "$RC"
has "no grants: loregd named" "$TAP_TMP/err" \
    "recipes/loregd/peipkg.toml:28:1: sign.key: [[sign]] usr/bin/loregd uses key \"tcb\" but nogrant.toml has no [[grant]] for recipe \"loregd\" with sign = [\"tcb\"] (fail closed: no grant, no signature)"
has "no grants: prelude named" "$TAP_TMP/err" \
    "recipes/prelude/peipkg.toml:26:1: sign.key: [[sign]] boot/initramfs/init uses key \"tcb\""
is "no grants: three errors" 3 "$(wc -l <"$TAP_TMP/err" | tr -d ' ')"
is "no grants: summary lists the good ones" \
    "config INVALID: 8 recipes valid (8 watched): busybox figlet fsbase hello kernel live-boot peiosutils peipkg; 2 rejected: loregd prelude" \
    "$(cat "$TAP_TMP/out")"

# One bad recipe among the good ones.
mkdir "$FARM/recipes/broken"
printf '[meta]\nbuild_script = "build.sh"\nhomepag = "x"\n[[package]]\nname = "broken"\narchitecture = "noarch"\nfiles = []\n' \
    >"$FARM/recipes/broken/peipkg.toml"
run "$FARM" --check-config --config config.toml
is "one bad recipe: exit 2" 2 "$RC"
is "one bad recipe: exactly its error" \
    "$FARM/recipes/broken/peipkg.toml:3:1: meta.homepag: unknown key (did you mean \"homepage\"?)" \
    "$(cat "$TAP_TMP/err")"
is "one bad recipe: the good ones are still listed" \
    "config INVALID: 10 recipes valid (10 watched): busybox figlet fsbase hello kernel live-boot loregd peiosutils peipkg prelude; 1 rejected: broken" \
    "$(cat "$TAP_TMP/out")"
rm -r "$FARM/recipes/broken"

# Every broken fixture: exit 2 and every expected string.
n=0
for d in "$DATA"/config/bad-*/; do
	name=$(basename "$d")
	n=$((n + 1))
	run "$d" --check-config --config config.toml
	if [ "$RC" != 2 ]; then
		notok "$name: exit 2 (got $RC)"
		diag "$(cat "$TAP_TMP/err")"
		continue
	fi
	missing=
	while IFS= read -r want; do
		[ -n "$want" ] || continue
		grep -qF -- "$want" "$TAP_TMP/err" || missing="$missing
$want"
	done <"$d/expect"
	if [ -z "$missing" ] && head -1 "$TAP_TMP/out" | grep -q '^config INVALID'; then
		ok "$name"
	else
		notok "$name"
		diag "missing:$missing"
		diag "stderr: $(cat "$TAP_TMP/err")"
	fi
done
[ "$n" -ge 30 ] && ok "at least 30 broken fixtures ($n)" || notok "only $n fixtures"

# Recipe fixtures keep their good sibling.
run "$DATA/config/bad-recipe-same-build" --check-config --config config.toml
has "bad recipe fixture: sibling still valid" "$TAP_TMP/out" \
    "config INVALID: 1 recipes valid (1 watched): fine; 1 rejected: lonely"

# The sample configuration passes once its paths exist.
sed -e "s|^recipes_dir = .*|recipes_dir = \"$FARM/recipes\"|" \
    "$top_srcdir/etc/config.toml.sample" >"$FARM/sample.toml"
run "$FARM" --check-config --config sample.toml
is "sample config: exit 0" 0 "$RC"
is "sample config: summary" "config OK: 10 recipes (10 watched)" \
    "$(cat "$TAP_TMP/out")"
is "sample config: no warnings" "" "$(cat "$TAP_TMP/err")"

# Command line.
run "$FARM" --version
is "--version: exit 0" 0 "$RC"
has "--version: prints the version" "$TAP_TMP/out" "peipkg-manager "
run "$FARM" -check-config -config config.toml
is "single-dash long options (Go flag style): exit 0" 0 "$RC"
run "$FARM" -h
is "-h: exit 0" 0 "$RC"
has "-h: usage on stdout" "$TAP_TMP/out" "usage: peipkg-manager"
run "$FARM" --help
is "--help: exit 0" 0 "$RC"
has "--help: usage on stdout" "$TAP_TMP/out" "usage: peipkg-manager"
is "--help: nothing on stderr" "" "$(cat "$TAP_TMP/err")"
run "$FARM" --bogus
is "unknown flag: exit 2" 2 "$RC"
has "unknown flag: named" "$TAP_TMP/err" "bogus"
has "unknown flag: usage on stderr" "$TAP_TMP/err" "usage: peipkg-manager"
run "$FARM" --log-level loud --check-config --config config.toml
is "bad log level: exit 2" 2 "$RC"
is "bad log level: message" \
    'peipkg-manager: unknown log level "loud" (want one of: debug, info, warn, error)' \
    "$(cat "$TAP_TMP/err")"
run "$FARM" --log-target syslog
is "bad log target: exit 2" 2 "$RC"
run "$FARM" --config config.toml extra
is "positional argument: exit 2" 2 "$RC"
run "$FARM" --once --check-config
is "--once with --check-config: exit 2" 2 "$RC"
run "$FARM" --config
is "--config without value: exit 2" 2 "$RC"
run "$FARM" --check-config --config missing.toml
is "--check-config, missing file: exit 2" 2 "$RC"
has "--check-config, missing file: named" "$TAP_TMP/err" \
    "missing.toml: cannot open: No such file or directory"

# Daemon and --once: config errors are 2, an unreadable file is 1.
run "$FARM" --config missing.toml --log-target stderr
is "daemon, missing config: exit 1" 1 "$RC"
has "daemon, missing config: load config logged" "$TAP_TMP/err" \
    'msg="load config"'
run "$DATA/config/bad-poll-short" --config config.toml --log-target stderr
is "daemon, invalid config: exit 2" 2 "$RC"
run "$DATA/config/bad-webhook-no-secret" --once --config config.toml \
    --log-target stderr
is "once, webhook without secret: exit 2" 2 "$RC"
done_testing
