/*
 * test_manifest.c: manifest.json and files.json: byte-exact round trips
 * over every package vector, the lenient pack input, and the consumer's
 * rejections (CONSUMER.md §1.9), each asserted with the field it names.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "manifest.h"

static const char *const cases[] = {
	"tiny-noarch", "unsigned-noarch", "x86_64-triplet", "symlinks",
	"long-path-split", "long-path-pax", "non-ascii-nfc", "empty-file",
	"explicit-empty-dir", "dir-vs-file-order", "many-files", "large-file",
	"deps-full", "side-effects", "epoch-version", "json-escaping",
	"empty-payload", "hardlink-copies", "debug-paths",
};

/* A valid manifest every rejection case is derived from. */
static const char base[] =
    "{\"schema_version\":1,\"name\":\"hello\",\"version\":\"0.1-1\","
    "\"architecture\":\"noarch\",\"description\":\"Hi.\","
    "\"license\":\"CC0-1.0\",\"homepage\":\"https://peios.org\","
    "\"dependencies\":[{\"name\":\"libc\",\"constraint\":\">= 2.38\"},"
    "{\"name\":\"zlib\"}],\"optional_dependencies\":[],"
    "\"conflicts\":[],\"provides\":[{\"name\":\"hi\",\"version\":\"1.0-1\"}],"
    "\"replaces\":[],\"side_effects\":[\"man-db\",\"ldconfig\"],"
    "\"size_installed\":14,\"sd_overrides\":[],"
    "\"build\":{\"timestamp\":\"2026-05-06T12:00:00Z\","
    "\"farm_id\":\"f\",\"source_ref\":\"s\"}}\n";

static void
load(const char *c, const char *file, struct buf *b)
{
	struct buf	 err = BUF_INIT;
	const char	*top = getenv("top_srcdir");
	char		 path[4096];

	snprintf(path, sizeof(path), "%s/tests/vectors/packages/%s/%s",
	    top ? top : "../..", c, file);
	if (read_file(path, 64 << 20, b, &err) == -1)
		fail_msg("%s", buf_str(&err));
	buf_free(&err);
}

/* Replace the first `from` in base by `to`. */
static char *
mutate(const char *from, const char *to)
{
	const char	*p = strstr(base, from);

	if (p == NULL)
		fail_msg("mutation source %s not in base", from);
	return xasprintf("%.*s%s%s", (int)(p - base), base, to,
	    p + strlen(from));
}

static void
test_round_trip(void **state)
{
	struct manifest	 mf;
	struct buf	 in = BUF_INIT, out = BUF_INIT, err = BUF_INIT;
	size_t		 i;

	for (i = 0; i < nitems(cases); i++) {
		buf_reset(&in);
		buf_reset(&out);
		load(cases[i], "expected-manifest.json", &in);
		if (manifest_parse(in.data, in.len, MF_STRICT, &mf,
		    &err) == -1)
			fail_msg("%s: %s", cases[i], buf_str(&err));
		assert_int_equal(manifest_validate(&mf, MF_PRODUCER, &err), 0);
		manifest_write(&mf, &out);
		assert_int_equal(out.len, in.len);
		assert_memory_equal(out.data, in.data, in.len);
		manifest_free(&mf);
	}
	buf_free(&in);
	buf_free(&out);
	buf_free(&err);
}

/* manifest-input.json (unsorted, no size) -> expected-manifest.json */
static void
test_pack_input(void **state)
{
	struct manifest	 mf, want;
	struct buf	 in = BUF_INIT, exp = BUF_INIT, out = BUF_INIT,
			 err = BUF_INIT;
	size_t		 i;

	for (i = 0; i < nitems(cases); i++) {
		buf_reset(&in);
		buf_reset(&exp);
		buf_reset(&out);
		load(cases[i], "manifest-input.json", &in);
		load(cases[i], "expected-manifest.json", &exp);
		assert_int_equal(manifest_parse(exp.data, exp.len, MF_STRICT,
		    &want, &err), 0);
		assert_int_equal(manifest_parse(in.data, in.len, MF_LENIENT,
		    &mf, &err), 0);
		assert_int_equal(manifest_sort(&mf, &err), 0);
		mf.size_installed = want.size_installed;
		manifest_write(&mf, &out);
		assert_int_equal(out.len, exp.len);
		assert_memory_equal(out.data, exp.data, exp.len);
		manifest_free(&mf);
		manifest_free(&want);
	}
	buf_free(&in);
	buf_free(&exp);
	buf_free(&out);
	buf_free(&err);
}

static const struct {
	const char	*from, *to, *msg;	/* msg NULL: accepted */
} muts[] = {
	{ "\"name\":\"hello\"", "\"name\":\"Hello_World\"",
	    "name: package name \"Hello_World\": must be lowercase" },
	{ "\"name\":\"hello\"", "\"name\":\"h\"", "name: package name \"h\"" },
	{ "\"name\":\"hello\"", "\"name\":\"a--b\"", "adjacent separators" },
	{ "\"name\":\"hello\"", "\"name\":\"foo.\"", "must end with" },
	{ "\"name\":\"hello\"", "\"name\":\"foo_bar\"", "invalid character" },
	{ "\"name\":\"hello\"", "\"name\":\"libstdc++\"", NULL },
	{ "\"name\":\"hello\"", "\"name\":\"g++\"", NULL },
	{ "\"version\":\"0.1-1\"", "\"version\":\"1.0\"",
	    "version: version \"1.0\": no -revision" },
	{ "\"version\":\"0.1-1\"", "\"version\":\"2:1.0~rc1-3\"", NULL },
	{ "\"architecture\":\"noarch\"", "\"architecture\":\"x86-64\"",
	    "architecture: architecture \"x86-64\"" },
	{ "\"architecture\":\"noarch\"", "\"architecture\":\"X86_64\"",
	    "architecture" },
	{ "\"architecture\":\"noarch\"", "\"architecture\":\"3dnow\"",
	    "architecture" },
	{ "\"architecture\":\"noarch\"",
	    "\"architecture\":\"abcdefghijklmnopq\"", "architecture" },
	{ "\"description\":\"Hi.\"", "\"description\":\"tab\\there\"",
	    "description: description \"tab\\there\": character U+0009" },
	{ "\"description\":\"Hi.\"", "\"description\":\"del\x7f\"",
	    "U+007F" },
	{ "\"description\":\"Hi.\"", "\"description\":\"nb\xc2\xa0sp\"",
	    "U+00A0" },
	{ "\"description\":\"Hi.\"", "\"description\":\"ls\\u2028\"",
	    "U+2028" },
	{ "\"description\":\"Hi.\"",
	    "\"description\":\"caf\xc3\xa9 \xe2\x80\x94 ok\"", NULL },
	{ "\"homepage\":\"https://peios.org\"",
	    "\"homepage\":\"ftp://peios.org\"", "homepage: homepage" },
	{ "\"homepage\":\"https://peios.org\"", "\"homepage\":\"peios.org\"",
	    "homepage" },
	{ "\"homepage\":\"https://peios.org\"", "\"homepage\":\"\"", NULL },
	{ "\"license\":\"CC0-1.0\"", "\"license\":\"anything\\u0001\"", NULL },
	{ "{\"name\":\"zlib\"}", "{\"name\":\"zlib\",\"arch\":\"x86_64\"}",
	    "dependencies[1]: dependency arch \"x86_64\"" },
	{ "{\"name\":\"zlib\"}", "{\"name\":\"zlib\",\"arch\":\"any\"}", NULL },
	{ "\">= 2.38\"", "\"~> 1.2\"",
	    "dependencies[0]: constraint \"~> 1.2\"" },
	{ "\">= 2.38\"", "\">= 1.2, < 2.0\"", NULL },
	{ "\">= 2.38\"", "\">= 1.2,\"", "expression 2 is empty" },
	{ "{\"name\":\"zlib\"}", "{\"name\":\"abc\"}",
	    "dependencies: not sorted by name (\"libc\" before \"abc\"" },
	{ "{\"name\":\"zlib\"}", "{\"name\":\"libc\"}",
	    "dependencies: duplicate entry \"libc\"" },
	{ "\"conflicts\":[]", "\"conflicts\":[{\"name\":\"B\"}]",
	    "conflicts[0]: package name \"B\"" },
	{ "\"version\":\"1.0-1\"", "\"version\":\"1.0\"",
	    "provides[0]: version \"1.0\": no -revision" },
	{ "\"replaces\":[]", "\"replaces\":[{\"name\":\"b\"},{\"name\":\"a\"}]",
	    "replaces: not sorted" },
	{ "[\"man-db\",\"ldconfig\"]", "[\"ldconfig\",\"ldconfig\"]",
	    "side_effects: \"ldconfig\" appears more than once" },
	{ "[\"man-db\",\"ldconfig\"]", "[\"systemd-reload\"]",
	    "side_effects: side effect \"systemd-reload\"" },
	{ "[\"man-db\",\"ldconfig\"]", "[\"depmod\",\"man-db\",\"ldconfig\"]",
	    NULL },
	{ "\"2026-05-06T12:00:00Z\"", "\"2026-05-06T14:00:00+02:00\"",
	    "build: timestamp \"2026-05-06T14:00:00+02:00\" must be UTC" },
	{ "\"2026-05-06T12:00:00Z\"", "\"2026-05-06T12:00:00.25Z\"", NULL },
	{ "\"2026-05-06T12:00:00Z\"", "\"2026-13-06T12:00:00Z\"",
	    "build: timestamp 2026-13-06T12:00:00Z is not an RFC 3339" },
	{ "\"2026-05-06T12:00:00Z\"", "\"2026-05-06t12:00:00z\"",
	    "must be UTC" },
	{ ",\"farm_id\":\"f\"", "", "build.farm_id: missing" },
	{ "\"farm_id\":\"f\",\"source_ref\":\"s\"",
	    "\"farm_id\":\"\",\"source_ref\":\"\"", NULL },
	{ "\"schema_version\":1", "\"schema_version\":2",
	    "schema_version: must be 1" },
	{ "\"dependencies\":", "\"dependencies\":null,\"x\":",
	    "dependencies: missing" },
	{ "\"conflicts\":[],", "", "conflicts: missing" },
	{ "\"size_installed\":14", "\"size_installed\":-1",
	    "size_installed: must not be negative" },
	{ "\"size_installed\":14", "\"size_installed\":1.5",
	    "size_installed: must be an integer" },
	{ "\"size_installed\":14", "\"size_installed\":14,\"future\":{}", NULL },
	{ "\"optional_dependencies\":[],", "", NULL },
	{ "\"name\":\"hello\"", "\"name\":\"hello\",\"Name\":\"x\"",
	    "member \"Name\" differs from \"name\" only in letter case" },
	{ "\"side_effects\"", "\"\xc5\xbfide_effects\":[],\"side_effects\"",
	    "differs from \"side_effects\" only in letter case" },
	{ "\"name\":\"hello\"", "\"name\":\"hello\",\"name\":\"hello\"",
	    "member \"name\" appears more than once" },
	{ "\"name\":\"hello\"", "\"name\":7", "name: must be a string" },
	{ "\"sd_overrides\":[]",
	    "\"sd_overrides\":[{\"path\":\"usr/bin\",\"sd\":\"AQAB\"}]", NULL },
	{ "\"sd_overrides\":[]",
	    "\"sd_overrides\":[{\"path\":\"usr/bin\",\"sd\":\"AQA=\"}]",
	    "sd_overrides[0]: sd is not unpadded standard base64" },
	{ "\"sd_overrides\":[]",
	    "\"sd_overrides\":[{\"path\":\"b\",\"sd\":\"\"},"
	    "{\"path\":\"a\",\"sd\":\"\"}]", "sd_overrides: not sorted" },
	{ "\"sd_overrides\":[]", "\"sd_overrides\":[{\"path\":\"b\"}]",
	    "sd_overrides[0].sd: missing" },
	{ "{\"schema_version\"", "[{\"schema_version\"",
	    "not valid JSON" },
	{ "\"name\":\"hello\"", "\"name\":\v\"hello\"",
	    "not valid JSON: vertical tab byte at offset 27" },
	{ "\"name\":\"hello\"", "\"name\":\"hello\"\f",
	    "not valid JSON: form feed byte at offset 34" },
};

static void
test_rejections(void **state)
{
	struct manifest	 mf;
	struct buf	 err = BUF_INIT;
	char		*doc;
	size_t		 i;
	int		 rc;

	assert_int_equal(manifest_parse(base, strlen(base), MF_STRICT, &mf,
	    &err), 0);
	manifest_free(&mf);
	for (i = 0; i < nitems(muts); i++) {
		buf_reset(&err);
		doc = mutate(muts[i].from, muts[i].to);
		rc = manifest_parse(doc, strlen(doc), MF_STRICT, &mf, &err);
		if (muts[i].msg == NULL && rc != 0)
			fail_msg("case %zu rejected: %s", i, buf_str(&err));
		if (muts[i].msg != NULL && (rc != -1 ||
		    strstr(buf_str(&err), muts[i].msg) == NULL))
			fail_msg("case %zu: want \"%s\", got rc %d \"%s\"", i,
			    muts[i].msg, rc, buf_str(&err));
		if (rc == -1)
			assert_string_equal(mf.name, "");
		manifest_free(&mf);
		free(doc);
	}
	buf_free(&err);
}

/* Every violation is reported, one line each. */
static void
test_validate_all(void **state)
{
	struct manifest	 mf;
	struct buf	 err = BUF_INIT;

	manifest_init(&mf);
	manifest_set(&mf.name, "Bad");
	manifest_set(&mf.version, "1.0");
	manifest_set(&mf.architecture, "x86_64");
	manifest_dep_add(&mf.rel.dependencies, "libc", "", "x86_64");
	manifest_side_effect_add(&mf, "systemd-reload");
	manifest_set(&mf.build.timestamp, "2026-05-06T12:00:00.5Z");
	assert_int_equal(manifest_validate(&mf, MF_PRODUCER, &err), -1);
	assert_non_null(strstr(err.data, "name: package name \"Bad\""));
	assert_non_null(strstr(err.data, "\nversion: version \"1.0\""));
	assert_non_null(strstr(err.data, "\ndependencies[0]: dependency arch "
	    "\"x86_64\""));
	assert_non_null(strstr(err.data, "\nside_effects: side effect "
	    "\"systemd-reload\""));
	assert_non_null(strstr(err.data, "\nbuild: timestamp "
	    "\"2026-05-06T12:00:00.5Z\" has fractional seconds"));
	/* The reader accepts the fraction, like the consumer. */
	buf_reset(&err);
	assert_int_equal(manifest_validate(&mf, 0, &err), -1);
	assert_null(strstr(err.data, "fractional"));
	manifest_free(&mf);
	buf_free(&err);
}

static void
test_timestamp(void **state)
{
	struct buf	 err = BUF_INIT;
	int64_t		 t;

	assert_int_equal(manifest_timestamp("2026-05-06T12:00:00Z", &t, &err),
	    0);
	assert_int_equal(t, 1778068800);
	assert_int_equal(manifest_timestamp("2026-05-06T12:00:00.000Z", &t,
	    &err), -1);
	assert_string_equal(err.data, "timestamp \"2026-05-06T12:00:00.000Z\" "
	    "has fractional seconds (whole seconds only: the signature must "
	    "not follow a PAX mtime header)");
	buf_reset(&err);
	assert_int_equal(manifest_timestamp("2026-05-06T12:00:00+00:00", &t,
	    &err), -1);
	assert_string_equal(err.data, "timestamp \"2026-05-06T12:00:00+00:00\" "
	    "must be UTC and end with 'Z'");
	buf_reset(&err);
	assert_int_equal(manifest_timestamp("", &t, &err), -1);
	assert_string_equal(err.data, "timestamp is empty");
	buf_reset(&err);
	assert_int_equal(manifest_timestamp("yesterdayZ", &t, &err), -1);
	assert_string_equal(err.data, "timestamp \"yesterdayZ\" is not an "
	    "RFC 3339 date-time");
	buf_free(&err);
}

static void
test_sort(void **state)
{
	struct manifest	 mf;
	struct buf	 err = BUF_INIT, out = BUF_INIT;

	manifest_init(&mf);
	manifest_dep_add(&mf.rel.dependencies, "libc", "", "");
	manifest_dep_add(&mf.rel.dependencies, "lib.foo", "", "");
	manifest_dep_add(&mf.rel.dependencies, "lib-foo", "", "");
	manifest_dep_add(&mf.rel.dependencies, "lib+foo", "", "");
	manifest_provide_add(&mf, "b", "");
	manifest_provide_add(&mf, "a", "1-1");
	assert_int_equal(manifest_sort(&mf, &err), 0);
	assert_string_equal(mf.rel.dependencies.v[0].name, "lib+foo");
	assert_string_equal(mf.rel.dependencies.v[1].name, "lib-foo");
	assert_string_equal(mf.rel.dependencies.v[2].name, "lib.foo");
	assert_string_equal(mf.rel.dependencies.v[3].name, "libc");
	assert_string_equal(mf.rel.provides[0].name, "a");
	manifest_write(&mf, &out);
	assert_non_null(strstr(out.data, "\"provides\":[{\"name\":\"a\","
	    "\"version\":\"1-1\"},{\"name\":\"b\"}]"));
	manifest_dep_add(&mf.rel.conflicts, "x", "", "");
	manifest_dep_add(&mf.rel.conflicts, "x", "< 1", "");
	manifest_dep_add(&mf.rel.conflicts, "x", "", "");
	manifest_replace_add(&mf, "old", "");
	manifest_replace_add(&mf, "old", "");
	assert_int_equal(manifest_sort(&mf, &err), -1);
	assert_string_equal(err.data, "conflicts: duplicate name \"x\"\n"
	    "replaces: duplicate name \"old\"");
	manifest_free(&mf);
	buf_free(&err);
	buf_free(&out);
}

/* Pack input: names folded, unknown members dropped, null lists empty. */
static void
test_lenient(void **state)
{
	static const char in[] = "{\"Name\":\"hello\",\"VERSION\":\"1-1\","
	    "\"architecture\":\"noarch\",\"dependencies\":null,\"whatever\":1,"
	    "\"size_installed\":99,\"schema_version\":\"x\","
	    "\"build\":{\"Timestamp\":\"2026-05-06T12:00:00Z\"}}";
	struct manifest	 mf;
	struct buf	 err = BUF_INIT;

	assert_int_equal(manifest_parse(in, strlen(in), MF_LENIENT, &mf, &err),
	    0);
	assert_string_equal(mf.name, "hello");
	assert_string_equal(mf.version, "1-1");
	assert_int_equal(mf.rel.dependencies.n, 0);
	assert_int_equal(mf.size_installed, 0);
	assert_string_equal(mf.build.timestamp, "2026-05-06T12:00:00Z");
	assert_string_equal(mf.build.farm_id, "");
	manifest_free(&mf);
	assert_int_equal(manifest_parse("{\"name\":[]}", 11, MF_LENIENT, &mf,
	    &err), -1);
	assert_string_equal(err.data, "name: must be a string");
	manifest_free(&mf);
	buf_free(&err);
}

static void
test_files_round_trip(void **state)
{
	struct mf_file	*f;
	struct buf	 in = BUF_INIT, out = BUF_INIT, err = BUF_INIT;
	size_t		 i, n;

	for (i = 0; i < nitems(cases); i++) {
		buf_reset(&in);
		buf_reset(&out);
		load(cases[i], "expected-files.json", &in);
		if (manifest_files_parse(in.data, in.len, &f, &n, &err) == -1)
			fail_msg("%s: %s", cases[i], buf_str(&err));
		manifest_files_write(f, n, &out);
		assert_int_equal(out.len, in.len);
		assert_memory_equal(out.data, in.data, in.len);
		manifest_files_free(f, n);
	}
	buf_free(&in);
	buf_free(&out);
	buf_free(&err);
}

static void
test_files_rejections(void **state)
{
#define H64	"4f91e7c17054930fd12bf2de72f8f31eb44090052475b88dc2338163d642e7ac"
	static const struct { const char *doc, *msg; } bad[] = {
		{ "{\"schema_version\":1,\"algorithm\":\"sha256\","
		    "\"entries\":null}", "entries: missing" },
		{ "{\"schema_version\":1,\"algorithm\":\"sha512\","
		    "\"entries\":[]}", "algorithm: must be \"sha256\"" },
		{ "{\"schema_version\":2,\"algorithm\":\"sha256\","
		    "\"entries\":[]}", "schema_version: must be 1" },
		{ "{\"schema_version\":1,\"algorithm\":\"sha256\",\"entries\":"
		    "[{\"path\":\"a\",\"size\":1,\"hash\":\""
		    "4F91e7c17054930fd12bf2de72f8f31eb44090052475b88dc2338163d642e7ac"
		    "\"}]}", "entries[0].hash: not 64 lowercase hex" },
		{ "{\"schema_version\":1,\"algorithm\":\"sha256\",\"entries\":"
		    "[{\"path\":\"b\",\"size\":1,\"hash\":\"" H64 "\"},"
		    "{\"path\":\"a\",\"size\":1,\"hash\":\"" H64 "\"}]}",
		    "entries: \"b\" is not sorted before \"a\"" },
		{ "{\"schema_version\":1,\"algorithm\":\"sha256\",\"entries\":"
		    "[{\"path\":\"a\",\"size\":1,\"hash\":\"" H64 "\"},"
		    "{\"path\":\"a\",\"size\":1,\"hash\":\"" H64 "\"}]}",
		    "entries: \"a\" appears twice" },
		{ "{\"schema_version\":1,\"algorithm\":\"sha256\",\"entries\":"
		    "[{\"path\":\"a\",\"size\":-1,\"hash\":\"" H64 "\"}]}",
		    "entries[0].size: must not be negative" },
		{ "{\"schema_version\":1,\"algorithm\":\"sha256\",\"entries\":"
		    "[{\"path\":\"a\",\"hash\":\"" H64 "\"}]}",
		    "entries[0].size: missing" },
		{ "{\"schema_version\":1,\"algorithm\":\"sha256\",\"entries\":"
		    "[{},{},{}]}", "entries[0].path: missing" },
		{ "{\"schema_version\":1,\"algorithm\":\"sha256\",\"entries\":"
		    "[{\"Path\":\"a\",\"path\":\"a\",\"size\":1,\"hash\":\"" H64
		    "\"}]}", "differs from \"path\" only in letter case" },
	};
	struct mf_file	*f;
	struct buf	 err = BUF_INIT;
	size_t		 i, n;

	for (i = 0; i < nitems(bad); i++) {
		buf_reset(&err);
		if (manifest_files_parse(bad[i].doc, strlen(bad[i].doc), &f, &n,
		    &err) != -1 || strstr(buf_str(&err), bad[i].msg) == NULL)
			fail_msg("case %zu: want \"%s\", got \"%s\"", i,
			    bad[i].msg, buf_str(&err));
	}
	buf_free(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_pack_input),
		cmocka_unit_test(test_rejections),
		cmocka_unit_test(test_validate_all),
		cmocka_unit_test(test_timestamp),
		cmocka_unit_test(test_sort),
		cmocka_unit_test(test_lenient),
		cmocka_unit_test(test_files_round_trip),
		cmocka_unit_test(test_files_rejections),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
