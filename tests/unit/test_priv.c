/*
 * test_priv.c: unit tests of priv.c, giving up root.
 *
 * A drop cannot be undone, so each one happens in a child process that
 * reports by its exit status. The drops need root (as make check runs
 * here); as another user those tests are skipped, and say so.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <grp.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "priv.h"

/* The value of "Field:" in /proc/self/status, or "" (cap octets). */
static void
proc_status(const char *field, char *out, size_t cap)
{
	FILE	*f;
	char	 line[256];
	size_t	 n = strlen(field);

	out[0] = '\0';
	if ((f = fopen("/proc/self/status", "r")) == NULL)
		return;
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, field, n) == 0 && line[n] == ':') {
			snprintf(out, cap, "%s", line + n + 1);
			out[strcspn(out, "\n")] = '\0';
			break;
		}
	}
	fclose(f);
}

/* Run fn in a child; its exit status (0 is success). */
static int
in_child(int (*fn)(void))
{
	pid_t	pid;
	int	status;

	fflush(NULL);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0)
		_exit(fn());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return (WEXITSTATUS(status));
}

static void
test_lookup(void **state)
{
	struct priv_user	u;
	struct passwd		*pw;
	char			err[256];

	(void)state;
	assert_int_equal(priv_lookup("root", &u, err, sizeof err), -1);
	assert_string_equal(err, "user 'root' is root: nothing would be "
	    "dropped");
	assert_int_equal(priv_lookup("no-such-user-veilig", &u, err,
	    sizeof err), -1);
	assert_string_equal(err, "no user 'no-such-user-veilig' on this "
	    "system");
	/* A number is not a name. */
	assert_int_equal(priv_lookup("65534", &u, err, sizeof err), -1);

	pw = getpwnam("nobody");
	assert_non_null(pw);
	assert_int_equal(priv_lookup("nobody", &u, err, sizeof err), 0);
	assert_int_equal(u.uid, pw->pw_uid);
	assert_int_equal(u.gid, pw->pw_gid);
}

/* Child: drop to nobody, then look at what is left. */
static int
drop_nobody(void)
{
	struct priv_user	u;
	char			err[256], buf[256];
	gid_t			groups[4];

	if (priv_lookup("nobody", &u, err, sizeof err) == -1 ||
	    priv_drop(&u, err, sizeof err) == -1) {
		fprintf(stderr, "drop: %s\n", err);
		return (1);
	}
	if (getuid() != u.uid || geteuid() != u.uid || getgid() != u.gid ||
	    getegid() != u.gid)
		return (2);
	if (getgroups(4, groups) != 1 || groups[0] != u.gid)
		return (3);
	/* The kernel's view: no capability left, in any set. */
	proc_status("CapEff", buf, sizeof buf);
	if (strcmp(buf, "\t0000000000000000") != 0)
		return (4);
	proc_status("CapPrm", buf, sizeof buf);
	if (strcmp(buf, "\t0000000000000000") != 0)
		return (5);
	proc_status("NoNewPrivs", buf, sizeof buf);
	if (strcmp(buf, "\t1") != 0)
		return (6);
	/* No way back. */
	if (setuid(0) != -1 || seteuid(0) != -1 || setgid(0) != -1 ||
	    setresuid(0, 0, 0) != -1 || setgroups(0, NULL) != -1)
		return (7);
	return (0);
}

/* Child: drop to nobody, then try to drop again to someone else. */
static int
drop_twice(void)
{
	struct priv_user	u, other;
	char			err[256];

	if (priv_lookup("nobody", &u, err, sizeof err) == -1 ||
	    priv_drop(&u, err, sizeof err) == -1)
		return (1);
	other.uid = u.uid - 1;
	other.gid = u.gid - 1;
	if (priv_drop(&other, err, sizeof err) != -1)
		return (2);
	/* Refused at the first step, with the reason. */
	if (strncmp(err, "setgroups: ", 11) != 0)
		return (3);
	return (0);
}

static void
test_drop(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(in_child(drop_nobody), 0);
	assert_int_equal(in_child(drop_twice), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_drop),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
