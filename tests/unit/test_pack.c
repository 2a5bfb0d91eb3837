/*
 * test_pack.c: the packer: the payload rule, byte-exact output for the
 * tiny-noarch vector, refusals (paths, timestamps, caps, manifest), no
 * symlink followed, a tree changed between the two passes, and atomic
 * output files.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "crypto.h"
#include "pack.h"
#include "sign.h"
#include "zstream.h"

static char	 tmpdir[] = "/tmp/test_pack.XXXXXX";

static void
vec(const char *rel, struct buf *b)
{
	struct buf	 err = BUF_INIT;
	const char	*top = getenv("top_srcdir");
	char		 path[4096];

	snprintf(path, sizeof(path), "%s/tests/vectors/%s", top ? top : "../..",
	    rel);
	if (read_file(path, 64 << 20, b, &err) == -1)
		fail_msg("%s", buf_str(&err));
	buf_free(&err);
}

static char *
tp(const char *rel)
{
	return xasprintf("%s/%s", tmpdir, rel);
}

static void
put(const char *rel, const char *content)
{
	char	*p = tp(rel), *slash;
	int	 fd;

	slash = strrchr(p, '/');
	*slash = '\0';
	assert_int_equal(mkdir_p(p, 0755), 0);
	*slash = '/';
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd != -1);
	assert_int_equal(write_full(fd, content, strlen(content)), 0);
	close(fd);
	free(p);
}

static void
mk(const char *rel)
{
	char	*p = tp(rel);

	assert_int_equal(mkdir_p(p, 0755), 0);
	free(p);
}

static void
ln(const char *target, const char *rel)
{
	char	*p = tp(rel);

	assert_int_equal(symlink(target, p), 0);
	free(p);
}

static int
setup(void **state)
{
	strcpy(tmpdir, "/tmp/test_pack.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	rm_rf(tmpdir);
	return 0;
}

static int
rootfd(const char *rel)
{
	char	*p = tp(rel);
	int	 fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	assert_true(fd != -1);
	free(p);
	return fd;
}

/* The tiny-noarch manifest, sorted, ready to pack. */
static void
tiny_manifest(struct manifest *mf)
{
	struct buf	 in = BUF_INIT, err = BUF_INIT;

	vec("packages/tiny-noarch/manifest-input.json", &in);
	assert_int_equal(manifest_parse(in.data, in.len, MF_LENIENT, mf, &err),
	    0);
	assert_int_equal(manifest_sort(mf, &err), 0);
	buf_free(&in);
	buf_free(&err);
}

static void
unzstd(int fd, struct buf *out)
{
	struct buf	 err = BUF_INIT;
	struct zin	*z;
	char		 b[4096];
	ssize_t		 n;

	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	z = zin_new(fd, 1 << 30, &err);
	while ((n = zin_read(z, b, sizeof(b), &err)) > 0)
		buf_add(out, b, (size_t)n);
	assert_int_equal(n, 0);
	zin_free(z);
	buf_free(&err);
}

static char *
list_str(const struct pack_list *l)
{
	struct buf	 b = BUF_INIT;
	char		**v;
	size_t		 i;

	v = xcalloc(l->n, sizeof(*v));
	for (i = 0; i < l->n; i++)
		v[i] = xasprintf("%c %s", l->v[i].type == PACK_DIR ? 'd' :
		    l->v[i].type == PACK_FILE ? 'f' : 'l', l->v[i].path);
	for (i = 1; i < l->n; i++) {	/* insertion sort: tiny lists */
		size_t j = i;
		while (j > 0 && strcmp(v[j - 1] + 2, v[j] + 2) > 0) {
			char *t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
			j--;
		}
	}
	for (i = 0; i < l->n; i++) {
		buf_addf(&b, "%s;", v[i]);
		free(v[i]);
	}
	free(v);
	return buf_release(&b);
}

static void
test_collect(void **state)
{
	static const char *const dirs[] = { "var/lib/claimed/", "var/lib/claimed",
	    "tmp" };
	struct pack_opts	 o;
	struct pack_list	 l = { NULL, 0, 0 };
	struct buf		 err = BUF_INIT;
	char			*s;
	int			 fd;

	put("t/usr/bin/tool", "x");
	put("t/usr/share/doc/x", "y");
	mk("t/usr/lib");
	ln("../bin/tool", "t/usr/lib/link");
	mk("t/var/empty");
	mk("t/var/lib/claimed");
	mk("t/tmp");
	put("t/etc/conf", "");
	pack_opts_init(&o);
	fd = rootfd("t");
	assert_int_equal(pack_collect(fd, dirs, 3, &o, &l, &err), 0);
	s = list_str(&l);
	assert_string_equal(s, "d etc;f etc/conf;d tmp;d usr;d usr/bin;"
	    "f usr/bin/tool;d usr/lib;l usr/lib/link;d usr/share;d usr/share/doc;"
	    "f usr/share/doc/x;d var;d var/lib;d var/lib/claimed;");
	assert_int_equal(l.n, 14);
	free(s);
	pack_list_free(&l);

	/* A FIFO is an error naming it. */
	{
		char *p = tp("t/usr/fifo");
		assert_int_equal(mkfifo(p, 0644), 0);
		free(p);
	}
	assert_int_equal(pack_collect(fd, NULL, 0, &o, &l, &err), -1);
	assert_string_equal(err.data, "usr/fifo: a FIFO cannot be packaged");
	pack_list_free(&l);
	buf_reset(&err);
	{
		char *p = tp("t/usr/fifo");
		unlink(p);
		free(p);
	}
	/* Entry cap. */
	o.max_entries = 3;
	assert_int_equal(pack_collect(fd, NULL, 0, &o, &l, &err), -1);
	assert_string_equal(err.data, "staged tree has more than 3 payload "
	    "entries");
	pack_list_free(&l);
	buf_reset(&err);
	/* A bad claim. */
	o.max_entries = PACK_MAX_ENTRIES;
	{
		static const char *const bad[] = { "usr/../etc" };
		assert_int_equal(pack_collect(fd, bad, 1, &o, &l, &err), -1);
		assert_string_equal(err.data, "directory claim: path "
		    "\"usr/../etc\": \"..\" component");
	}
	pack_list_free(&l);
	close(fd);
	buf_free(&err);
}

static void
test_ancestors(void **state)
{
	struct pack_list	 l = { NULL, 0, 0 };
	char			*s;

	pack_list_add(&l, "a/b/c", PACK_FILE);
	pack_list_add(&l, "a/b", PACK_DIR);
	pack_list_add(&l, "x/y", PACK_SYMLINK);
	pack_list_add_ancestors(&l);
	s = list_str(&l);
	assert_string_equal(s, "d a;d a/b;f a/b/c;d x;l x/y;");
	free(s);
	pack_list_free(&l);
}

static void
test_tiny_exact(void **state)
{
	struct manifest		 mf;
	struct pack_opts	 o;
	struct pack_list	 l = { NULL, 0, 0 };
	struct pack_result	 res;
	struct pm_key		 key;
	struct buf		 err = BUF_INIT, seed = BUF_INIT, tar = BUF_INIT,
				 exp = BUF_INIT, file = BUF_INIT;
	uint8_t			 h[32];
	int			 fd, out;
	char			*op;

	put("tiny/usr/share/hello/MESSAGE", "Hello, Peios!\n");
	tiny_manifest(&mf);
	vec("keys/test-ed25519.seed", &seed);
	assert_int_equal(key_load_mem(seed.data, seed.len, "seed", &key, &err),
	    0);
	pack_opts_init(&o);
	o.level = 3;
	o.signer = signer_local_new(&key);
	fd = rootfd("tiny");
	assert_int_equal(pack_collect(fd, NULL, 0, &o, &l, &err), 0);
	op = tp("tiny.peipkg");
	out = open(op, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (pack_write_fd(&mf, fd, &l, &o, out, &res, &err) == -1)
		fail_msg("%s", buf_str(&err));
	unzstd(out, &tar);
	vec("packages/tiny-noarch/expected.tar", &exp);
	assert_int_equal(tar.len, exp.len);
	assert_memory_equal(tar.data, exp.data, exp.len);
	assert_int_equal(res.tar_size, 6656);
	assert_int_equal(res.signed_bytes, 4608);
	assert_int_equal(res.size_installed, 14);
	assert_int_equal(mf.size_installed, 14);
	assert_int_equal(res.nentries, 4);
	assert_int_equal(read_file(op, 1 << 20, &file, &err), 0);
	assert_int_equal(res.size_compressed, file.len);
	sha256(file.data, file.len, h);
	assert_memory_equal(res.sha256, h, 32);
	close(out);
	close(fd);
	free(op);
	signer_local_free(o.signer);
	key_free(&key);
	pack_list_free(&l);
	manifest_free(&mf);
	buf_free(&err);
	buf_free(&seed);
	buf_free(&tar);
	buf_free(&exp);
	buf_free(&file);
}

/* Pack `l` from tree `rel`; returns rc, message in err. */
static int
try_pack(struct manifest *mf, const char *rel, struct pack_list *l,
    struct pack_opts *o, struct buf *err)
{
	int	 fd = rootfd(rel), out, rc;
	char	*op = tp("try.peipkg");

	out = open(op, O_RDWR | O_CREAT | O_TRUNC, 0644);
	rc = pack_write_fd(mf, fd, l, o, out, NULL, err);
	close(out);
	close(fd);
	free(op);
	return rc;
}

static void
test_refusals(void **state)
{
	struct manifest		 mf;
	struct pack_opts	 o;
	struct pack_list	 l = { NULL, 0, 0 };
	struct buf		 err = BUF_INIT;

	put("r/usr/share/a", "aaaa");
	put("r/usr/share/q\xcc\x87", "nfd");	/* q + combining dot */
	pack_opts_init(&o);
	o.level = 1;
	tiny_manifest(&mf);
	pack_list_add(&l, "usr/share/a", PACK_FILE);
	pack_list_add(&l, "usr//share", PACK_DIR);
	pack_list_add(&l, ".peipkg/x", PACK_FILE);
	pack_list_add(&l, "usr/share/c\xcc\xa7", PACK_FILE);
	pack_list_add(&l, "/abs", PACK_FILE);
	assert_int_equal(try_pack(&mf, "r", &l, &o, &err), -1);
	assert_string_equal(err.data,
	    "payload path \"usr//share\": empty component at byte 4 "
	    "(\"//\" or a trailing '/')\n"
	    "payload path \".peipkg/x\": reserved for package metadata "
	    "(.peipkg)\n"
	    "payload path \"usr/share/c\xcc\xa7\": not in Unicode NFC\n"
	    "payload path \"/abs\": absolute (leading '/')");
	pack_list_free(&l);
	buf_reset(&err);

	/* Listed twice, and as a file and a directory. */
	pack_list_add(&l, "usr/share/a", PACK_FILE);
	pack_list_add(&l, "usr/share/a", PACK_FILE);
	assert_int_equal(try_pack(&mf, "r", &l, &o, &err), -1);
	assert_string_equal(err.data, "payload entry usr/share/a is listed "
	    "twice");
	pack_list_free(&l);
	buf_reset(&err);
	pack_list_add(&l, "usr/share/a", PACK_FILE);
	pack_list_add(&l, "usr/share/a", PACK_DIR);
	assert_int_equal(try_pack(&mf, "r", &l, &o, &err), -1);
	assert_string_equal(err.data, "payload path usr/share/a is listed both "
	    "as a directory and as a file or symlink");
	pack_list_free(&l);
	buf_reset(&err);

	/* Claimed as a directory, but a file; missing. */
	pack_list_add(&l, "usr/share/a", PACK_DIR);
	assert_int_equal(try_pack(&mf, "r", &l, &o, &err), -1);
	assert_string_equal(err.data, "usr/share/a: claimed as a directory but "
	    "is a regular file");
	pack_list_free(&l);
	buf_reset(&err);
	pack_list_add(&l, "usr/none", PACK_FILE);
	assert_int_equal(try_pack(&mf, "r", &l, &o, &err), -1);
	assert_string_equal(err.data, "usr/none: No such file or directory");
	pack_list_free(&l);
	buf_reset(&err);

	/* Caps. */
	pack_list_add(&l, "usr/share/a", PACK_FILE);
	pack_list_add(&l, "usr/share", PACK_DIR);
	o.max_bytes = 3;
	assert_int_equal(try_pack(&mf, "r", &l, &o, &err), -1);
	assert_string_equal(err.data, "usr/share/a: payload files total more "
	    "than 3 bytes");
	buf_reset(&err);
	o.max_bytes = PACK_MAX_BYTES;
	o.max_entries = 1;
	assert_int_equal(try_pack(&mf, "r", &l, &o, &err), -1);
	assert_string_equal(err.data, "2 payload entries (at most 1)");
	buf_reset(&err);
	o.max_entries = PACK_MAX_ENTRIES;

	/* Timestamps: whole seconds, 'Z'. */
	manifest_set(&mf.build.timestamp, "2026-05-06T12:00:00.250Z");
	assert_int_equal(try_pack(&mf, "r", &l, &o, &err), -1);
	assert_string_equal(err.data, "manifest build: timestamp "
	    "\"2026-05-06T12:00:00.250Z\" has fractional seconds (whole "
	    "seconds only: the signature must not follow a PAX mtime header)");
	buf_reset(&err);
	manifest_set(&mf.build.timestamp, "2026-05-06T14:00:00+02:00");
	assert_int_equal(try_pack(&mf, "r", &l, &o, &err), -1);
	assert_string_equal(err.data, "manifest build: timestamp "
	    "\"2026-05-06T14:00:00+02:00\" must be UTC and end with 'Z'");
	buf_reset(&err);
	manifest_set(&mf.build.timestamp, "1969-12-31T23:59:59Z");
	assert_int_equal(try_pack(&mf, "r", &l, &o, &err), -1);
	assert_non_null(strstr(err.data, "outside the range"));
	buf_reset(&err);

	/* Manifest fields the consumer rejects, all named. */
	manifest_set(&mf.build.timestamp, "2026-05-06T12:00:00Z");
	manifest_set(&mf.version, "1.0");
	manifest_dep_add(&mf.rel.dependencies, "libc", "", "x86_64");
	manifest_side_effect_add(&mf, "systemd-reload");
	assert_int_equal(try_pack(&mf, "r", &l, &o, &err), -1);
	assert_string_equal(err.data, "manifest is not acceptable to the "
	    "consumer:\nversion: version \"1.0\": no -revision\n"
	    "dependencies[0]: dependency arch \"x86_64\": must be empty or "
	    "\"any\"\nside_effects: side effect \"systemd-reload\": must be one "
	    "of ldconfig, depmod, man-db");
	pack_list_free(&l);
	manifest_free(&mf);
	buf_free(&err);
}

/* A symlinked directory is never entered. */
static void
test_no_follow(void **state)
{
	struct manifest		 mf;
	struct pack_opts	 o;
	struct pack_list	 l = { NULL, 0, 0 };
	struct buf		 err = BUF_INIT;
	char			*s;
	int			 fd;

	put("outside/share/secret", "s3cret");
	mk("nf");
	{
		char *p = tp("outside");
		ln(p, "nf/usr");
		free(p);
	}
	pack_opts_init(&o);
	o.level = 1;
	fd = rootfd("nf");
	assert_int_equal(pack_collect(fd, NULL, 0, &o, &l, &err), 0);
	s = list_str(&l);
	assert_string_equal(s, "l usr;");
	free(s);
	close(fd);
	pack_list_free(&l);
	tiny_manifest(&mf);
	pack_list_add(&l, "usr/share/secret", PACK_FILE);
	assert_int_equal(try_pack(&mf, "nf", &l, &o, &err), -1);
	assert_string_equal(err.data, "usr/share/secret: cannot open directory "
	    "usr: it is a symlink");
	pack_list_free(&l);
	manifest_free(&mf);
	buf_free(&err);
}

/* What the progress hook does to the tree between the two passes. */
static int	 swap_mode;

static void
swap(void *arg, const char *stage)
{
	char	*p = tp("sw/usr/f");

	if (strcmp(stage, "hashed") != 0)
		goto out;
	if (swap_mode == 1)
		put("sw/usr/f", "BBBB");	/* same size, new bytes */
	else if (swap_mode == 2)
		put("sw/usr/f", "AAAAA");
	else if (swap_mode == 3) {
		unlink(p);
		ln("elsewhere", "sw/usr/f");
	}
 out:
	free(p);
}

static void
test_swap_between_passes(void **state)
{
	static const char *const want[] = {
		NULL,
		"usr/f: content changed while being packed",
		"usr/f: size changed while being packed (4, then 5 bytes)",
		"usr/f: expected a regular file, found a symlink",
	};
	struct manifest		 mf;
	struct pack_opts	 o;
	struct pack_list	 l = { NULL, 0, 0 };
	struct buf		 err = BUF_INIT;
	char			*p;

	tiny_manifest(&mf);
	pack_opts_init(&o);
	o.level = 1;
	o.progress = swap;
	pack_list_add(&l, "usr/f", PACK_FILE);
	pack_list_add(&l, "usr", PACK_DIR);
	for (swap_mode = 0; swap_mode < 4; swap_mode++) {
		p = tp("sw/usr/f");
		unlink(p);
		free(p);
		put("sw/usr/f", "AAAA");
		buf_reset(&err);
		if (want[swap_mode] == NULL)
			assert_int_equal(try_pack(&mf, "sw", &l, &o, &err), 0);
		else {
			assert_int_equal(try_pack(&mf, "sw", &l, &o, &err), -1);
			assert_string_equal(err.data, want[swap_mode]);
		}
	}
	pack_list_free(&l);
	manifest_free(&mf);
	buf_free(&err);
}

static int
count_entries(const char *rel)
{
	DIR		*d;
	struct dirent	*de;
	char		*p = tp(rel);
	int		 n = 0;

	d = opendir(p);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' || (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0))
			n++;
	closedir(d);
	free(p);
	return n;
}

static void
test_write_file(void **state)
{
	struct manifest		 mf;
	struct pack_opts	 o;
	struct pack_list	 l = { NULL, 0, 0 };
	struct buf		 err = BUF_INIT, tar = BUF_INIT, exp = BUF_INIT;
	struct stat		 st;
	char			*op;
	int			 fd, ofd;

	put("wf/usr/share/hello/MESSAGE", "Hello, Peios!\n");
	mk("out");
	tiny_manifest(&mf);
	pack_opts_init(&o);
	o.level = 1;
	fd = rootfd("wf");
	assert_int_equal(pack_collect(fd, NULL, 0, &o, &l, &err), 0);
	op = tp("out/hello.peipkg");
	assert_int_equal(pack_write_file(&mf, fd, &l, &o, op, NULL, &err), 0);
	assert_int_equal(count_entries("out"), 1);
	assert_int_equal(stat(op, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	/* Unsigned: the trailer follows the payload. */
	ofd = open(op, O_RDONLY);
	unzstd(ofd, &tar);
	close(ofd);
	vec("packages/unsigned-noarch/expected.tar", &exp);
	assert_int_equal(tar.len, exp.len);
	assert_memory_equal(tar.data, exp.data, exp.len);
	/* A failure replaces nothing and leaves no temporary file. */
	manifest_set(&mf.name, "BAD");
	assert_int_equal(pack_write_file(&mf, fd, &l, &o, op, NULL, &err), -1);
	assert_int_equal(count_entries("out"), 1);
	free(op);
	op = tp("out/new.peipkg");
	assert_int_equal(pack_write_file(&mf, fd, &l, &o, op, NULL, &err), -1);
	assert_int_equal(count_entries("out"), 1);
	close(fd);
	free(op);
	pack_list_free(&l);
	manifest_free(&mf);
	buf_free(&err);
	buf_free(&tar);
	buf_free(&exp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_collect, setup, teardown),
		cmocka_unit_test(test_ancestors),
		cmocka_unit_test_setup_teardown(test_tiny_exact, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_follow, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_swap_between_passes,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_file, setup,
		    teardown),
	};

	crypto_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
