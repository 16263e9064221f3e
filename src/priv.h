/*
 * priv.h: giving up root for good.
 *
 * Started as root outside systemd, veiligd binds its sockets (port 53
 * needs root) and then becomes the unprivileged user of server.user
 * before it reads a single packet: priv_drop() leaves the user's primary
 * group as the only supplementary group, sets the real, effective and
 * saved group and user IDs, and checks that root cannot be had back.
 * Under systemd (User= in the unit) veiligd starts as that user already,
 * and there is nothing to drop.
 *
 * Look the user up with priv_lookup() early, while the name service can
 * still be reached; priv_drop() itself reads no file. Neither allocates.
 */
#ifndef VEILIG_PRIV_H
#define VEILIG_PRIV_H

#include <sys/types.h>

#include <stddef.h>

/* A user to run as. */
struct priv_user {
	uid_t	uid;
	gid_t	gid;		/* the user's primary group */
};

/*
 * Find user name (a name, not a number); root, or a user whose primary
 * group is root's, is refused, as it would drop nothing. 0, or -1 with
 * the reason in err (cap octets).
 */
int	priv_lookup(const char *name, struct priv_user *u, char *err,
	    size_t cap);

/*
 * Become u for good: groups, then gid, then uid, each real, effective
 * and saved, and no new privileges through exec. Then check: the IDs are
 * u's, and setuid(0) and setgid(0) fail. The caller must be root and
 * should have no other threads yet. 0, or -1 with the reason in err.
 */
int	priv_drop(const struct priv_user *u, char *err, size_t cap);

#endif
