/*
 * control.h: the control socket that veiligctl talks to.
 *
 * A Unix stream socket (mode 0660, so a group can be given access) in the
 * daemon's main event loop. Protocol, one request per connection:
 *   client: one line, words separated by spaces, at most CONTROL_MAX_LINE
 *           octets including the newline: "explain 192.0.2.7 example.com A"
 *   daemon: the answer as text lines; the first line is "ok" or
 *           "error: reason"; then the daemon closes the connection.
 * A line too long, not valid UTF-8/ASCII printable, an unknown command or
 * the wrong number of arguments gets "error: ..." and the usage. A client
 * that sends nothing for CONTROL_TIMEOUT seconds is dropped.
 *
 * The commands themselves are the daemon's: a table of struct control_cmd
 * passed to control_new().
 *
 * Ownership: control_new() returns an object owned by the caller; the
 * table and arg must outlive it. control_free() closes and removes the
 * socket.
 */
#ifndef VEILIG_CONTROL_H
#define VEILIG_CONTROL_H

#include <stddef.h>

#define CONTROL_MAX_LINE	1024
#define CONTROL_MAX_ARGS	8
#define CONTROL_TIMEOUT		10

struct event_base;
struct evbuffer;
struct control;

/*
 * A command: argv[0] is the command name, argc counts it. The callback
 * appends its answer body (lines ending in '\n', without the first
 * "ok"/"error:" line) to out and returns 0 for ok, or -1 for an error,
 * with the reason as the first line of out.
 */
struct control_cmd {
	const char	*name;
	int		 min_args;	/* not counting the name */
	int		 max_args;
	const char	*usage;		/* "explain BOARD|ADDRESS NAME [TYPE]" */
	const char	*help;		/* one line */
	int		(*cb)(void *arg, int argc, char **argv,
			    struct evbuffer *out);
};

/*
 * Listen on path (a stale socket file there is replaced; anything else
 * there is an error) with the commands cmds[0..ncmds). The command "help"
 * is built in. NULL with *cause set (allocated) on failure.
 */
struct control	*control_new(struct event_base *base, const char *path,
		    const struct control_cmd *cmds, size_t ncmds, void *arg,
		    char **cause);
void		 control_free(struct control *);

/* Seconds a client may stay silent or unread (tests use a short one). */
void		 control_set_timeout(struct control *, int);

#endif
