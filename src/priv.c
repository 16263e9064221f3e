/*
 * priv.c: giving up root for good (see priv.h).
 *
 * setresgid()/setresuid() rather than setgid()/setuid(): they say what
 * becomes of the saved IDs, which is how root could otherwise come back
 * (OpenBSD's daemons and Unbound drop the same way). The order matters:
 * groups and gid while still root, uid last.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "priv.h"

/* RLIMIT_NICE that allows nice 0 (the limit is 20 - nice). */
#define PRIV_NICE_RLIM	20

int
priv_lookup(const char *name, struct priv_user *u, char *err, size_t cap)
{
	struct passwd	*pw;

	errno = 0;
	if ((pw = getpwnam(name)) == NULL) {
		if (errno != 0)
			snprintf(err, cap, "user '%s': %s", name,
			    strerror(errno));
		else
			snprintf(err, cap, "no user '%s' on this system",
			    name);
		return (-1);
	}
	if (pw->pw_uid == 0) {
		snprintf(err, cap, "user '%s' is root: nothing would be "
		    "dropped", name);
		return (-1);
	}
	/* The root group can read what root can: no better. */
	if (pw->pw_gid == 0) {
		snprintf(err, cap, "user '%s' has the root group as its "
		    "primary group", name);
		return (-1);
	}
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	return (0);
}

int
priv_drop(const struct priv_user *u, char *err, size_t cap)
{
	struct rlimit	rl;
	uid_t		ruid, euid, suid;
	gid_t		rgid, egid, sgid, groups[2];
	int		ngroups;

	if (setgroups(1, &u->gid) == -1) {
		snprintf(err, cap, "setgroups: %s", strerror(errno));
		return (-1);
	}
	if (setresgid(u->gid, u->gid, u->gid) == -1) {
		snprintf(err, cap, "setresgid %u: %s", (unsigned)u->gid,
		    strerror(errno));
		return (-1);
	}
	/*
	 * Room for the user to undo a lowered priority (veiligd.c's
	 * background work: SCHED_IDLE, then normal when it found no idle
	 * CPU): RLIMIT_NICE for nice 0, which only root can grant. Not
	 * needed to run: a failure is left to show there.
	 */
	if (getrlimit(RLIMIT_NICE, &rl) == 0 && rl.rlim_cur < PRIV_NICE_RLIM) {
		rl.rlim_cur = PRIV_NICE_RLIM;
		if (rl.rlim_max < PRIV_NICE_RLIM)
			rl.rlim_max = PRIV_NICE_RLIM;
		(void)setrlimit(RLIMIT_NICE, &rl);
	}
	if (setresuid(u->uid, u->uid, u->uid) == -1) {
		snprintf(err, cap, "setresuid %u: %s", (unsigned)u->uid,
		    strerror(errno));
		return (-1);
	}
	/* Nothing exec'd later may gain privileges (set-user-ID files). */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		snprintf(err, cap, "prctl(PR_SET_NO_NEW_PRIVS): %s",
		    strerror(errno));
		return (-1);
	}

	/* Trust, but check: every ID is u's, and root stays out of reach. */
	if (getresuid(&ruid, &euid, &suid) == -1 ||
	    getresgid(&rgid, &egid, &sgid) == -1 ||
	    ruid != u->uid || euid != u->uid || suid != u->uid ||
	    rgid != u->gid || egid != u->gid || sgid != u->gid) {
		snprintf(err, cap, "user and group IDs are not %u:%u after "
		    "the drop", (unsigned)u->uid, (unsigned)u->gid);
		return (-1);
	}
	ngroups = getgroups(2, groups);
	if (ngroups != 1 || groups[0] != u->gid) {
		snprintf(err, cap, "supplementary groups are not just %u "
		    "after the drop", (unsigned)u->gid);
		return (-1);
	}
	if (setuid(0) != -1 || seteuid(0) != -1 || setgid(0) != -1 ||
	    setegid(0) != -1) {
		snprintf(err, cap, "root could be had back after the drop");
		return (-1);
	}
	return (0);
}
