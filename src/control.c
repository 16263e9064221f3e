/*
 * control.c: the control socket that veiligctl talks to.
 *
 * An evconnlistener on a Unix stream socket in the daemon's main event
 * base. Each connection is a struct control_conn with a bufferevent: the
 * request line is read (the bufferevent's high watermark keeps at most
 * CONTROL_MAX_LINE octets in memory), checked, split into words and run
 * through the command table; the answer is queued and the connection is
 * closed by the write callback once its output has drained. At most
 * CONTROL_MAX_CONNS connections are served at once; more are closed at
 * once, so a stuck client cannot make the daemon use memory without bound.
 *
 * Commands run synchronously inside the event loop; they must not call
 * control_free(). libevent writes with writev(2), so the process must
 * ignore SIGPIPE (veiligd does) or a client that hangs up early kills it.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "control.h"
#include "log.h"

#define CONTROL_MAX_CONNS	16	/* simultaneous connections */
#define CONTROL_BACKLOG		16
#define CONTROL_ACCEPT_PAUSE	1	/* seconds without accept on EMFILE */

/* One client connection; owned by the list of its struct control. */
struct control_conn {
	LIST_ENTRY(control_conn) entry;
	struct control		*ctl;
	struct bufferevent	*bev;
	int			 answered;	/* answer queued */
};
LIST_HEAD(control_conns, control_conn);

struct control {
	struct event_base	*base;
	struct evconnlistener	*listener;
	struct event		*pause;		/* re-enables the listener */
	char			*path;
	const struct control_cmd *cmds;
	size_t			 ncmds;
	void			*arg;
	struct control_conns	 conns;
	int			 nconns;
	int			 timeout;	/* seconds; CONTROL_TIMEOUT */
};

/* The built-in help command, shown with the others. */
static const struct control_cmd control_help_cmd = {
	"help", 0, 1, "help [COMMAND]", "list the commands, or show one",
	NULL
};

static void	control_accept_cb(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	control_accept_error_cb(struct evconnlistener *, void *);
static void	control_pause_cb(evutil_socket_t, short, void *);
static void	control_read_cb(struct bufferevent *, void *);
static void	control_write_cb(struct bufferevent *, void *);
static void	control_event_cb(struct bufferevent *, short, void *);

/* Set *cause to an allocated formatted message. */
static void __attribute__((format(printf, 2, 3)))
control_cause(char **cause, const char *fmt, ...)
{
	va_list	ap;

	if (cause == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(cause, fmt, ap) == -1)
		*cause = NULL;
	va_end(ap);
}

/*
 * Make path free for a new socket: nothing there, or a socket nobody
 * listens on (left behind by a daemon that died), which is removed. A
 * live socket is refused, so a second daemon cannot steal the first one's.
 */
static int
control_clear_path(const char *path, const struct sockaddr_un *sun,
    char **cause)
{
	struct stat	st;
	int		fd, live;

	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return (0);
		control_cause(cause, "%s: %s", path, strerror(errno));
		return (-1);
	}
	if (!S_ISSOCK(st.st_mode)) {
		control_cause(cause, "%s: path exists and is not a socket",
		    path);
		return (-1);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1) {
		control_cause(cause, "socket: %s", strerror(errno));
		return (-1);
	}
	/* Non-blocking: EAGAIN means a full backlog, so someone listens. */
	live = connect(fd, (const struct sockaddr *)sun, sizeof *sun) == 0 ||
	    errno == EAGAIN;
	close(fd);
	if (live) {
		control_cause(cause, "%s: socket in use by another process",
		    path);
		return (-1);
	}
	if (unlink(path) == -1 && errno != ENOENT) {
		control_cause(cause, "%s: %s", path, strerror(errno));
		return (-1);
	}
	return (0);
}

struct control *
control_new(struct event_base *base, const char *path,
    const struct control_cmd *cmds, size_t ncmds, void *arg, char **cause)
{
	struct control		*ctl;
	struct sockaddr_un	 sun;
	mode_t			 mask;
	int			 fd, error;

	if (cause != NULL)
		*cause = NULL;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		control_cause(cause, "%s: path too long", path);
		return (NULL);
	}
	if (*path == '\0') {
		control_cause(cause, "empty control socket path");
		return (NULL);
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (control_clear_path(path, &sun, cause) == -1)
		return (NULL);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1) {
		control_cause(cause, "socket: %s", strerror(errno));
		return (NULL);
	}
	/*
	 * The umask is process-wide, but nothing else creates files while
	 * this runs; the chmod after makes the mode certain whatever the
	 * umask was. Group access is how the operator hands out veiligctl.
	 */
	mask = umask(0117);
	error = bind(fd, (struct sockaddr *)&sun, sizeof sun);
	umask(mask);
	if (error == -1) {
		control_cause(cause, "%s: %s", sun.sun_path, strerror(errno));
		close(fd);
		return (NULL);
	}
	if (chmod(path, 0660) == -1 || listen(fd, CONTROL_BACKLOG) == -1) {
		control_cause(cause, "%s: %s", sun.sun_path, strerror(errno));
		unlink(path);
		close(fd);
		return (NULL);
	}

	if ((ctl = calloc(1, sizeof *ctl)) == NULL ||
	    (ctl->path = strdup(path)) == NULL) {
		control_cause(cause, "out of memory");
		goto fail;
	}
	ctl->base = base;
	ctl->cmds = cmds;
	ctl->ncmds = ncmds;
	ctl->arg = arg;
	ctl->timeout = CONTROL_TIMEOUT;
	LIST_INIT(&ctl->conns);
	ctl->pause = evtimer_new(base, control_pause_cb, ctl);
	ctl->listener = evconnlistener_new(base, control_accept_cb, ctl,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
	if (ctl->pause == NULL || ctl->listener == NULL) {
		control_cause(cause, "%s: cannot set up listener", path);
		goto fail;
	}
	evconnlistener_set_error_cb(ctl->listener, control_accept_error_cb);
	return (ctl);

fail:
	if (ctl != NULL) {
		if (ctl->pause != NULL)
			event_free(ctl->pause);
		free(ctl->path);
		free(ctl);
	}
	unlink(path);
	close(fd);
	return (NULL);
}

/* Close one connection and forget it. */
static void
control_conn_free(struct control_conn *conn)
{
	LIST_REMOVE(conn, entry);
	conn->ctl->nconns--;
	bufferevent_free(conn->bev);
	free(conn);
}

void
control_free(struct control *ctl)
{
	struct control_conn	*conn;

	if (ctl == NULL)
		return;
	while ((conn = LIST_FIRST(&ctl->conns)) != NULL)
		control_conn_free(conn);
	evconnlistener_free(ctl->listener);
	event_free(ctl->pause);
	unlink(ctl->path);
	free(ctl->path);
	free(ctl);
}

void
control_set_timeout(struct control *ctl, int seconds)
{
	ctl->timeout = seconds;
}

/*
 * Close a connection beyond CONTROL_MAX_CONNS, saying why: the socket
 * of a new connection has room for a line, and veiligctl reads it before
 * the reset that the close of its unread request brings.
 */
static void
control_refuse(evutil_socket_t fd)
{
	static const char	msg[] = "error: too many control connections "
				    "at once; try again\n";

	(void)send(fd, msg, sizeof msg - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	close(fd);
}

static void
control_accept_cb(struct evconnlistener *listener, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct control		*ctl = arg;
	struct control_conn	*conn;
	struct timeval		 tv = { ctl->timeout, 0 };

	(void)listener;
	(void)sa;
	(void)salen;
	if (ctl->nconns >= CONTROL_MAX_CONNS) {
		log_ratelimited("control: too many connections");
		control_refuse(fd);
		return;
	}
	if ((conn = calloc(1, sizeof *conn)) == NULL) {
		close(fd);
		return;
	}
	conn->ctl = ctl;
	conn->bev = bufferevent_socket_new(ctl->base, fd,
	    BEV_OPT_CLOSE_ON_FREE);
	if (conn->bev == NULL) {
		close(fd);
		free(conn);
		return;
	}
	LIST_INSERT_HEAD(&ctl->conns, conn, entry);
	ctl->nconns++;

	/* Stop reading at one full line: the rest is never needed. */
	bufferevent_setwatermark(conn->bev, EV_READ, 0, CONTROL_MAX_LINE);
	bufferevent_set_timeouts(conn->bev, &tv, &tv);
	bufferevent_setcb(conn->bev, control_read_cb, NULL, control_event_cb,
	    conn);
	if (bufferevent_enable(conn->bev, EV_READ) == -1)
		control_conn_free(conn);
}

/*
 * accept() failed. Out of descriptors would make the listener fire again
 * at once for ever, so stop accepting for a moment.
 */
static void
control_accept_error_cb(struct evconnlistener *listener, void *arg)
{
	struct control	*ctl = arg;
	struct timeval	 tv = { CONTROL_ACCEPT_PAUSE, 0 };
	int		 error = EVUTIL_SOCKET_ERROR();

	log_ratelimited("control: accept: %s", strerror(error));
	if (error == EMFILE || error == ENFILE || error == ENOBUFS ||
	    error == ENOMEM) {
		evconnlistener_disable(listener);
		evtimer_add(ctl->pause, &tv);
	}
}

static void
control_pause_cb(evutil_socket_t fd, short events, void *arg)
{
	struct control	*ctl = arg;

	(void)fd;
	(void)events;
	evconnlistener_enable(ctl->listener);
}

/* Queue the answer and close once it is written. */
static void
control_conn_answer(struct control_conn *conn, int ok, struct evbuffer *body)
{
	struct evbuffer	*output = bufferevent_get_output(conn->bev);
	const char	*data, *nl;
	size_t		 len;

	len = evbuffer_get_length(body);
	data = (const char *)evbuffer_pullup(body, -1);
	if (ok)
		evbuffer_add(output, "ok\n", 3);
	else if (len == 0)
		evbuffer_add_printf(output, "error: command failed\n");
	else {
		/* The reason is the first line of the body. */
		evbuffer_add(output, "error: ", 7);
		nl = memchr(data, '\n', len);
		if (nl == NULL) {
			evbuffer_add(output, data, len);
			evbuffer_add(output, "\n", 1);
			len = 0;
		} else {
			evbuffer_add(output, data, nl - data + 1);
			len -= nl - data + 1;
			data = nl + 1;
		}
	}
	if (len > 0) {
		evbuffer_add(output, data, len);
		if (data[len - 1] != '\n')
			evbuffer_add(output, "\n", 1);
	}

	conn->answered = 1;
	bufferevent_disable(conn->bev, EV_READ);
	bufferevent_setcb(conn->bev, NULL, control_write_cb, control_event_cb,
	    conn);
	bufferevent_enable(conn->bev, EV_WRITE);
	if (evbuffer_get_length(output) == 0)
		control_conn_free(conn);
}

/* Answer with an error; the reason is printf-formatted. */
static void __attribute__((format(printf, 2, 3)))
control_conn_error(struct control_conn *conn, const char *fmt, ...)
{
	struct evbuffer	*body;
	va_list		 ap;

	if ((body = evbuffer_new()) == NULL) {
		control_conn_free(conn);
		return;
	}
	va_start(ap, fmt);
	evbuffer_add_vprintf(body, fmt, ap);
	va_end(ap);
	control_conn_answer(conn, 0, body);
	evbuffer_free(body);
}

/* Is [s, s+len) valid UTF-8 (no overlong forms, no surrogates)? */
static int
control_utf8_valid(const unsigned char *s, size_t len)
{
	size_t		i, n, k;
	unsigned int	c;

	for (i = 0; i < len; i += n) {
		c = s[i];
		if (c < 0x80)
			n = 1;
		else if (c >= 0xc2 && c <= 0xdf)
			n = 2;
		else if (c >= 0xe0 && c <= 0xef)
			n = 3;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 4;
		else
			return (0);
		if (n > len - i)
			return (0);
		for (k = 1; k < n; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return (0);
		if ((c == 0xe0 && s[i + 1] < 0xa0) ||
		    (c == 0xed && s[i + 1] > 0x9f) ||
		    (c == 0xf0 && s[i + 1] < 0x90) ||
		    (c == 0xf4 && s[i + 1] > 0x8f))
			return (0);
	}
	return (1);
}

/* Find a command by name; the built-in help goes first. */
static const struct control_cmd *
control_find(struct control *ctl, const char *name)
{
	size_t	i;

	if (strcmp(name, control_help_cmd.name) == 0)
		return (&control_help_cmd);
	for (i = 0; i < ctl->ncmds; i++)
		if (strcmp(name, ctl->cmds[i].name) == 0)
			return (&ctl->cmds[i]);
	return (NULL);
}

/* Append "usage  help" for one command. */
static void
control_help_line(struct evbuffer *out, const struct control_cmd *cmd)
{
	evbuffer_add_printf(out, "%-36s %s\n",
	    cmd->usage != NULL ? cmd->usage : cmd->name,
	    cmd->help != NULL ? cmd->help : "");
}

/* The built-in help: every command, or the one named. */
static int
control_help(struct control *ctl, int argc, char **argv,
    struct evbuffer *out)
{
	const struct control_cmd	*cmd;
	size_t				 i;

	if (argc > 1) {
		if ((cmd = control_find(ctl, argv[1])) == NULL) {
			evbuffer_add_printf(out, "unknown command: %s\n",
			    argv[1]);
			return (-1);
		}
		control_help_line(out, cmd);
		return (0);
	}
	for (i = 0; i < ctl->ncmds; i++) {
		if (strcmp(ctl->cmds[i].name, control_help_cmd.name) != 0)
			control_help_line(out, &ctl->cmds[i]);
	}
	control_help_line(out, &control_help_cmd);
	return (0);
}

/* Check, split and run one request line of len octets. */
static void
control_conn_run(struct control_conn *conn, char *line, size_t len)
{
	struct control			*ctl = conn->ctl;
	const struct control_cmd	*cmd;
	struct evbuffer			*body;
	char				*argv[CONTROL_MAX_ARGS + 1];
	char				*p, *word;
	unsigned char			 c;
	size_t				 i;
	int				 argc, nargs, error;

	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	for (i = 0; i < len; i++) {
		c = line[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			control_conn_error(conn, "non-printable character "
			    "in request\n");
			return;
		}
	}
	if (!control_utf8_valid((unsigned char *)line, len)) {
		control_conn_error(conn, "request is not valid UTF-8\n");
		return;
	}

	argc = 0;
	p = line;
	while ((word = strsep(&p, " \t")) != NULL) {
		if (*word == '\0')
			continue;
		if (argc == CONTROL_MAX_ARGS) {
			control_conn_error(conn, "too many words (at most "
			    "%d)\n", CONTROL_MAX_ARGS);
			return;
		}
		argv[argc++] = word;
	}
	argv[argc] = NULL;
	if (argc == 0) {
		control_conn_error(conn, "empty request\nTry \"help\".\n");
		return;
	}

	if ((cmd = control_find(ctl, argv[0])) == NULL) {
		control_conn_error(conn, "unknown command: %s\n"
		    "Try \"help\".\n", argv[0]);
		return;
	}
	nargs = argc - 1;
	if (nargs < cmd->min_args || nargs > cmd->max_args) {
		control_conn_error(conn, "wrong number of arguments\n"
		    "usage: %s\n", cmd->usage != NULL ? cmd->usage : cmd->name);
		return;
	}

	if ((body = evbuffer_new()) == NULL) {
		control_conn_free(conn);
		return;
	}
	if (cmd == &control_help_cmd)
		error = control_help(ctl, argc, argv, body);
	else
		error = cmd->cb(ctl->arg, argc, argv, body);
	/*
	 * libevent reads the clock once a loop round: after a long command
	 * (a reload) the answer's write timeout would count from before it
	 * and expire before the answer is written.
	 */
	event_base_update_cache_time(ctl->base);
	control_conn_answer(conn, error == 0, body);
	evbuffer_free(body);
}

static void
control_read_cb(struct bufferevent *bev, void *arg)
{
	struct control_conn	*conn = arg;
	struct evbuffer		*input = bufferevent_get_input(bev);
	char			*line;
	size_t			 len;

	if (conn->answered)
		return;
	line = evbuffer_readln(input, &len, EVBUFFER_EOL_LF);
	if (line == NULL) {
		/* No newline yet: wait, unless the line is already too long. */
		if (evbuffer_get_length(input) >= CONTROL_MAX_LINE)
			control_conn_error(conn, "line too long (at most %d "
			    "octets)\n", CONTROL_MAX_LINE);
		return;
	}
	if (len + 1 > CONTROL_MAX_LINE)
		control_conn_error(conn, "line too long (at most %d octets)\n",
		    CONTROL_MAX_LINE);
	else
		control_conn_run(conn, line, len);
	free(line);
}

static void
control_write_cb(struct bufferevent *bev, void *arg)
{
	struct control_conn	*conn = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		control_conn_free(conn);
}

/*
 * End of file, error or timeout. A client that closes its side without a
 * final newline still gets its line run, as "printf status | nc -U" would.
 */
static void
control_event_cb(struct bufferevent *bev, short events, void *arg)
{
	struct control_conn	*conn = arg;
	struct evbuffer		*input = bufferevent_get_input(bev);
	char			*line;
	size_t			 len;

	if ((events & BEV_EVENT_EOF) && !conn->answered &&
	    (len = evbuffer_get_length(input)) > 0 && len < CONTROL_MAX_LINE) {
		if ((line = malloc(len + 1)) == NULL) {
			control_conn_free(conn);
			return;
		}
		evbuffer_remove(input, line, len);
		line[len] = '\0';
		control_conn_run(conn, line, len);
		free(line);
		return;
	}
	control_conn_free(conn);
}
