/*
 * test_control.c: the control socket: answers, errors, argument counts,
 * the built-in help, bad requests (empty, too long, non-printable, bad
 * UTF-8, too many words), the socket file's life (mode, stale file
 * replaced, non-socket refused, path too long, removal) and the limit on
 * simultaneous connections.
 *
 * The client runs in the test's own event loop: a non-blocking Unix socket
 * with a read event, the loop bounded by a 5 second timer that fails the
 * test.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "control.h"

#define TEST_LIMIT_SECS	5
#define TEST_ANSWER_MAX	65536
#define TEST_SLOW_SECS	2	/* cmd_slow, past a timeout of 1 s */

struct fixture {
	char			 dir[64];
	char			 path[96];
	struct event_base	*base;
	struct control		*ctl;
	int			 calls;
};

/* What one client read, and whether it is finished. */
struct client {
	struct event_base	*base;
	char			 buf[TEST_ANSWER_MAX];
	size_t			 len;
	int			 done;
	int			 timed_out;
};

/* echo: its arguments joined by spaces. */
static int
cmd_echo(void *arg, int argc, char **argv, struct evbuffer *out)
{
	struct fixture	*f = arg;
	int		 i;

	f->calls++;
	for (i = 1; i < argc; i++)
		evbuffer_add_printf(out, "%s%s", i > 1 ? " " : "", argv[i]);
	if (argc > 1)
		evbuffer_add(out, "\n", 1);
	return (0);
}

/* fail: an error with a reason and a second line. */
static int
cmd_fail(void *arg, int argc, char **argv, struct evbuffer *out)
{
	(void)arg;
	(void)argc;
	(void)argv;
	evbuffer_add_printf(out, "it broke\nsecond line\n");
	return (-1);
}

/* mute: an error without a reason. */
static int
cmd_mute(void *arg, int argc, char **argv, struct evbuffer *out)
{
	(void)arg;
	(void)argc;
	(void)argv;
	(void)out;
	return (-1);
}

/* partial: a body whose last line has no newline. */
static int
cmd_partial(void *arg, int argc, char **argv, struct evbuffer *out)
{
	(void)arg;
	(void)argc;
	(void)argv;
	evbuffer_add_printf(out, "one\ntwo");
	return (0);
}

/* slow: a command that keeps the loop as long as a big reload does. */
static int
cmd_slow(void *arg, int argc, char **argv, struct evbuffer *out)
{
	(void)arg;
	(void)argc;
	(void)argv;
	sleep(TEST_SLOW_SECS);
	evbuffer_add_printf(out, "done\n");
	return (0);
}

static const struct control_cmd test_cmds[] = {
	{ "echo", 0, CONTROL_MAX_ARGS - 1, "echo [WORD...]", "say it back",
	  cmd_echo },
	{ "fail", 0, 0, "fail", "always fails", cmd_fail },
	{ "mute", 0, 0, "mute", "fails without a reason", cmd_mute },
	{ "pair", 2, 3, "pair A B [C]", "two or three words", cmd_echo },
	{ "partial", 0, 0, "partial", "no final newline", cmd_partial },
	{ "slow", 0, 0, "slow", "takes longer than the timeout", cmd_slow },
};
#define NCMDS (sizeof test_cmds / sizeof test_cmds[0])

static int
setup(void **state)
{
	struct fixture	*f;
	char		*cause = NULL;

	f = calloc(1, sizeof *f);
	assert_non_null(f);
	strcpy(f->dir, "/tmp/test_control.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/control.sock", f->dir);
	f->base = event_base_new();
	assert_non_null(f->base);
	f->ctl = control_new(f->base, f->path, test_cmds, NCMDS, f, &cause);
	if (f->ctl == NULL)
		fail_msg("control_new: %s", cause != NULL ? cause : "?");
	*state = f;
	return (0);
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	control_free(f->ctl);
	event_base_free(f->base);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return (0);
}

/* Connect to path without blocking; -1 on failure. */
static int
client_connect(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_int_not_equal(fd, -1);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		close(fd);
		return (-1);
	}
	return (fd);
}

static void
client_read_cb(evutil_socket_t fd, short events, void *arg)
{
	struct client	*c = arg;
	ssize_t		 n;

	(void)events;
	n = read(fd, c->buf + c->len, sizeof c->buf - 1 - c->len);
	if (n > 0) {
		c->len += n;
		if (c->len < sizeof c->buf - 1)
			return;
	} else if (n == -1 && errno == EAGAIN)
		return;
	/* EOF, or ECONNRESET when the daemon left our excess unread. */
	c->done = 1;
	event_base_loopbreak(c->base);
}

static void
client_limit_cb(evutil_socket_t fd, short events, void *arg)
{
	struct client	*c = arg;

	(void)fd;
	(void)events;
	c->timed_out = 1;
	event_base_loopbreak(c->base);
}

/* Run the loop until the client on fd has read to the end; closes fd. */
static void
client_finish(struct fixture *f, int fd, struct client *c)
{
	struct event	*ev, *limit;
	struct timeval	 tv = { TEST_LIMIT_SECS, 0 };

	memset(c, 0, sizeof *c);
	c->base = f->base;
	ev = event_new(f->base, fd, EV_READ | EV_PERSIST, client_read_cb, c);
	limit = evtimer_new(f->base, client_limit_cb, c);
	assert_non_null(ev);
	assert_non_null(limit);
	event_add(ev, NULL);
	evtimer_add(limit, &tv);
	while (!c->done && !c->timed_out)
		event_base_loop(f->base, EVLOOP_ONCE);
	event_free(ev);
	event_free(limit);
	close(fd);
	c->buf[c->len] = '\0';
	if (c->timed_out)
		fail_msg("no answer within %d seconds", TEST_LIMIT_SECS);
}

/* Send len octets of req (no newline added) and return the answer. */
static const char *
ask_raw(struct fixture *f, struct client *c, const char *req, size_t len,
    int close_write)
{
	int	fd;

	fd = client_connect(f->path);
	assert_int_not_equal(fd, -1);
	/* Small requests fit in the socket buffer: one write is enough. */
	if (len > 0)
		assert_int_equal(write(fd, req, len), (ssize_t)len);
	if (close_write)
		shutdown(fd, SHUT_WR);
	client_finish(f, fd, c);
	return (c->buf);
}

static const char *
ask(struct fixture *f, struct client *c, const char *req)
{
	return (ask_raw(f, c, req, strlen(req), 0));
}

static void
test_ok(void **state)
{
	struct fixture	*f = *state;
	struct client	 c;

	assert_string_equal(ask(f, &c, "echo hello world\n"),
	    "ok\nhello world\n");
	assert_int_equal(f->calls, 1);
	/* Tabs, runs of blanks and CRLF. */
	assert_string_equal(ask(f, &c, "  echo\t a \t b  \r\n"),
	    "ok\na b\n");
	/* No arguments: an empty body. */
	assert_string_equal(ask(f, &c, "echo\n"), "ok\n");
	/* A body without its final newline gets one. */
	assert_string_equal(ask(f, &c, "partial\n"), "ok\none\ntwo\n");
	/* UTF-8 is allowed. */
	assert_string_equal(ask(f, &c, "echo caf\xc3\xa9\n"),
	    "ok\ncaf\xc3\xa9\n");
}

static void
test_error(void **state)
{
	struct fixture	*f = *state;
	struct client	 c;

	assert_string_equal(ask(f, &c, "fail\n"),
	    "error: it broke\nsecond line\n");
	assert_string_equal(ask(f, &c, "mute\n"), "error: command failed\n");
}

static void
test_unknown(void **state)
{
	struct fixture	*f = *state;
	struct client	 c;

	assert_string_equal(ask(f, &c, "frobnicate now\n"),
	    "error: unknown command: frobnicate\nTry \"help\".\n");
	/* Names match exactly. */
	assert_string_equal(ask(f, &c, "ECHO\n"),
	    "error: unknown command: ECHO\nTry \"help\".\n");
	assert_int_equal(f->calls, 0);
}

static void
test_args(void **state)
{
	struct fixture	*f = *state;
	struct client	 c;

	assert_string_equal(ask(f, &c, "pair a\n"),
	    "error: wrong number of arguments\nusage: pair A B [C]\n");
	assert_string_equal(ask(f, &c, "pair a b c d\n"),
	    "error: wrong number of arguments\nusage: pair A B [C]\n");
	assert_string_equal(ask(f, &c, "fail x\n"),
	    "error: wrong number of arguments\nusage: fail\n");
	assert_int_equal(f->calls, 0);
	assert_string_equal(ask(f, &c, "pair a b\n"), "ok\na b\n");
	assert_string_equal(ask(f, &c, "pair a b c\n"), "ok\na b c\n");
	assert_int_equal(f->calls, 2);
}

static void
test_help(void **state)
{
	struct fixture	*f = *state;
	struct client	 c;
	const char	*a;
	size_t		 i;

	a = ask(f, &c, "help\n");
	assert_true(strncmp(a, "ok\n", 3) == 0);
	for (i = 0; i < NCMDS; i++) {
		assert_non_null(strstr(a, test_cmds[i].usage));
		assert_non_null(strstr(a, test_cmds[i].help));
	}
	assert_non_null(strstr(a, "help [COMMAND]"));

	a = ask(f, &c, "help pair\n");
	assert_true(strncmp(a, "ok\npair A B [C]", 15) == 0);
	assert_non_null(strstr(a, "two or three words\n"));
	assert_null(strstr(a, "echo"));

	assert_string_equal(ask(f, &c, "help nope\n"),
	    "error: unknown command: nope\n");
	assert_true(strncmp(ask(f, &c, "help a b\n"),
	    "error: wrong number of arguments\nusage: help", 44) == 0);
}

static void
test_empty(void **state)
{
	struct fixture	*f = *state;
	struct client	 c;

	assert_string_equal(ask(f, &c, "\n"),
	    "error: empty request\nTry \"help\".\n");
	assert_string_equal(ask(f, &c, " \t \r\n"),
	    "error: empty request\nTry \"help\".\n");
	/* Nothing at all, then end of file: closed without an answer. */
	assert_string_equal(ask_raw(f, &c, "", 0, 1), "");
}

static void
test_no_newline(void **state)
{
	struct fixture	*f = *state;
	struct client	 c;

	/* A line cut short by end of file is still run. */
	assert_string_equal(ask_raw(f, &c, "echo x", 6, 1), "ok\nx\n");
}

static void
test_too_long(void **state)
{
	struct fixture	*f = *state;
	struct client	 c;
	char		 req[CONTROL_MAX_LINE * 3];
	const char	*want = "error: line too long (at most 1024 octets)\n";

	/* Without a newline, and far beyond the limit. */
	memset(req, 'a', sizeof req);
	assert_string_equal(ask_raw(f, &c, req, sizeof req, 0), want);

	/* Exactly the limit, newline included, is fine. */
	memcpy(req, "echo ", 5);
	memset(req + 5, 'b', CONTROL_MAX_LINE - 6);
	req[CONTROL_MAX_LINE - 1] = '\n';
	assert_true(strncmp(ask_raw(f, &c, req, CONTROL_MAX_LINE, 0),
	    "ok\nbbb", 6) == 0);
	assert_int_equal(c.len, 3 + CONTROL_MAX_LINE - 5);

	/* One more octet is not. */
	memset(req + 5, 'b', CONTROL_MAX_LINE - 5);
	req[CONTROL_MAX_LINE] = '\n';
	assert_string_equal(ask_raw(f, &c, req, CONTROL_MAX_LINE + 1, 0),
	    want);
	assert_int_equal(f->calls, 1);
}

static void
test_nonprintable(void **state)
{
	struct fixture	*f = *state;
	struct client	 c;
	const char	*want = "error: non-printable character in request\n";

	assert_string_equal(ask(f, &c, "echo a\033[2Jb\n"), want);
	assert_string_equal(ask(f, &c, "echo \x7f\n"), want);
	assert_string_equal(ask(f, &c, "echo a\rb\n"), want);
	assert_string_equal(ask_raw(f, &c, "echo a\0b\n", 9, 0), want);
	assert_string_equal(ask(f, &c, "echo \xff\xfe\n"),
	    "error: request is not valid UTF-8\n");
	assert_string_equal(ask(f, &c, "echo \xc0\xaf\n"),
	    "error: request is not valid UTF-8\n");
	assert_string_equal(ask(f, &c, "echo \xe2\x82\n"),
	    "error: request is not valid UTF-8\n");
	assert_int_equal(f->calls, 0);
}

static void
test_too_many_args(void **state)
{
	struct fixture	*f = *state;
	struct client	 c;

	/* CONTROL_MAX_ARGS words in all is the most. */
	assert_string_equal(ask(f, &c, "echo 1 2 3 4 5 6 7\n"),
	    "ok\n1 2 3 4 5 6 7\n");
	assert_string_equal(ask(f, &c, "echo 1 2 3 4 5 6 7 8\n"),
	    "error: too many words (at most 8)\n");
	assert_string_equal(ask(f, &c, "echo 1 2 3 4 5 6 7 8 9 10 11 12\n"),
	    "error: too many words (at most 8)\n");
	assert_int_equal(f->calls, 1);
}

static void
test_mode(void **state)
{
	struct fixture	*f = *state;
	struct stat	 st;

	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);
}

static void
test_sequence(void **state)
{
	struct fixture	*f = *state;
	struct client	 c;
	char		 req[32], want[32];
	int		 i;

	for (i = 0; i < 50; i++) {
		snprintf(req, sizeof req, "echo %d\n", i);
		snprintf(want, sizeof want, "ok\n%d\n", i);
		assert_string_equal(ask(f, &c, req), want);
	}
	assert_int_equal(f->calls, 50);
}

/* A client that hangs up before its answer does no harm. */
static void
test_hangup(void **state)
{
	struct fixture	*f = *state;
	struct client	 c;
	int		 fd, i;

	for (i = 0; i < 5; i++) {
		fd = client_connect(f->path);
		assert_int_not_equal(fd, -1);
		assert_int_equal(write(fd, "help\n", 5), 5);
		close(fd);
		event_base_loop(f->base, EVLOOP_NONBLOCK);
	}
	fd = client_connect(f->path);
	assert_int_not_equal(fd, -1);
	assert_int_equal(write(fd, "echo half", 9), 9);
	close(fd);
	for (i = 0; i < 10; i++)
		event_base_loop(f->base, EVLOOP_NONBLOCK);
	assert_string_equal(ask(f, &c, "echo still\n"), "ok\nstill\n");
}

/* Pending connections are closed once the limit is reached. */
static void
test_conn_limit(void **state)
{
	struct fixture	*f = *state;
	struct client	 c;
	int		 fds[16], i, n, fd;

	n = sizeof fds / sizeof fds[0];
	for (i = 0; i < n; i++) {
		fds[i] = client_connect(f->path);
		assert_int_not_equal(fds[i], -1);
	}
	/* Let the listener take them all. */
	for (i = 0; i < 10; i++)
		event_base_loop(f->base, EVLOOP_NONBLOCK);
	fd = client_connect(f->path);
	assert_int_not_equal(fd, -1);
	assert_int_equal(write(fd, "echo x\n", 7), 7);
	client_finish(f, fd, &c);
	/* Closed at once, but told why. */
	assert_string_equal(c.buf, "error: too many control connections at "
	    "once; try again\n");

	/* The ones accepted are still served. */
	assert_int_equal(write(fds[0], "echo y\n", 7), 7);
	client_finish(f, fds[0], &c);
	assert_string_equal(c.buf, "ok\ny\n");
	for (i = 1; i < n; i++)
		close(fds[i]);
	/* The daemon sees them go, then serves new ones again. */
	for (i = 0; i < 10; i++)
		event_base_loop(f->base, EVLOOP_NONBLOCK);
	assert_string_equal(ask(f, &c, "echo z\n"), "ok\nz\n");
}

/* A socket left by a dead daemon is replaced. */
static void
test_stale(void **state)
{
	struct sockaddr_un	 sun;
	struct event_base	*base;
	struct control		*ctl;
	struct fixture		 f;
	struct client		 c;
	char			*cause = NULL;
	int			 fd;

	(void)state;
	memset(&f, 0, sizeof f);
	strcpy(f.dir, "/tmp/test_control.XXXXXX");
	assert_non_null(mkdtemp(f.dir));
	snprintf(f.path, sizeof f.path, "%s/s", f.dir);

	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", f.path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
	close(fd);

	base = event_base_new();
	ctl = control_new(base, f.path, test_cmds, NCMDS, &f, &cause);
	if (ctl == NULL)
		fail_msg("control_new: %s", cause);
	f.base = base;
	f.ctl = ctl;
	assert_string_equal(ask(&f, &c, "echo fresh\n"), "ok\nfresh\n");
	control_free(ctl);
	event_base_free(base);
	rmdir(f.dir);
}

/* A live socket, a regular file and a long path are all refused. */
static void
test_refused(void **state)
{
	struct fixture		*f = *state;
	struct control		*ctl;
	char			*cause = NULL, path[256];
	struct stat		 st;
	int			 fd;

	/* The fixture's own socket is live. */
	ctl = control_new(f->base, f->path, test_cmds, NCMDS, f, &cause);
	assert_null(ctl);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "in use"));
	free(cause);
	assert_string_equal(ask(f, &(struct client){ 0 }, "echo alive\n"),
	    "ok\nalive\n");

	snprintf(path, sizeof path, "%s/file", f->dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_int_not_equal(fd, -1);
	assert_int_equal(write(fd, "keep", 4), 4);
	close(fd);
	cause = NULL;
	ctl = control_new(f->base, path, test_cmds, NCMDS, f, &cause);
	assert_null(ctl);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "path exists and is not a socket"));
	free(cause);
	/* ... and left alone. */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 4);
	unlink(path);

	memset(path, 'x', sizeof path - 1);
	path[0] = '/';
	path[sizeof path - 1] = '\0';
	cause = NULL;
	ctl = control_new(f->base, path, test_cmds, NCMDS, f, &cause);
	assert_null(ctl);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "path too long"));
	free(cause);

	/* A directory that does not exist. */
	snprintf(path, sizeof path, "%s/no/such/dir", f->dir);
	cause = NULL;
	ctl = control_new(f->base, path, test_cmds, NCMDS, f, &cause);
	assert_null(ctl);
	assert_non_null(cause);
	free(cause);
}

/*
 * A command that runs longer than the timeout (a reload of a million
 * names on a loaded machine) still gets its answer out: the timeout is
 * for a silent client, not for the daemon's own work. libevent reads the
 * clock once per loop round, so without a fresh reading the answer's
 * write timeout would count from before the command and expire at once.
 */
static void
test_slow(void **state)
{
	struct fixture	*f = *state;
	struct client	 c;

	control_set_timeout(f->ctl, 1);
	assert_string_equal(ask(f, &c, "slow\n"), "ok\ndone\n");
	/* A silent client is still dropped, after the short timeout. */
	assert_string_equal(ask_raw(f, &c, "", 0, 0), "");
}

/* control_free removes the socket file and closes open connections. */
static void
test_remove(void **state)
{
	struct fixture	*f = *state;
	struct stat	 st;
	char		 buf[16];
	ssize_t		 n;
	int		 fd, i;

	fd = client_connect(f->path);
	assert_int_not_equal(fd, -1);
	for (i = 0; i < 10; i++)
		event_base_loop(f->base, EVLOOP_NONBLOCK);
	control_free(f->ctl);
	f->ctl = NULL;
	assert_int_equal(lstat(f->path, &st), -1);
	assert_int_equal(errno, ENOENT);
	/* libevent 2.1 closes a freed bufferevent's socket in the loop. */
	event_base_loop(f->base, EVLOOP_NONBLOCK);
	/* The accepted connection was closed: end of file, not EAGAIN. */
	n = read(fd, buf, sizeof buf);
	if (n != 0)
		fail_msg("read %zd: %s", n, strerror(errno));
	close(fd);
	control_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_help, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_newline, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_too_long, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nonprintable, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_too_many_args, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sequence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hangup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conn_limit, setup,
		    teardown),
		cmocka_unit_test(test_stale),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow, setup, teardown),
	};

	/* As in veiligd: a write to a client that left must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
