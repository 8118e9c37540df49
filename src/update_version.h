/* update_version.h: the version and deployment type of this build (metrics-reporting.md §6.1
 * adapted to our builds), and the version comparison of the update check (§6.3). */
#ifndef PULSE_UPDATE_VERSION_H
#define PULSE_UPDATE_VERSION_H

#include <stddef.h>

/* What this process is: worked out once, the same for the whole process. */
struct update_build {
	char version[128];	/* normalised: "0.1.0", "0.1.0+git.g1a2b3c4.dirty", ... */
	const char *build;	/* "release" or "development" (built from a git checkout) */
	const char *channel;	/* "rc" when the version names a release candidate, else "stable" */
	char deployment[32];	/* deb, systemd, source, docker, container, manual (or the
				 * deployment_type setting) */
	int docker;		/* /.dockerenv */
	int containerized;	/* /.dockerenv or /run/systemd/container */
};

/* The build, detected on the first call (thread-safe; conf must be loaded). */
const struct update_build *update_build_current(void);

/* Normalises a version as §6.1 says: a leading "v" dropped; git describe's
 * "X.Y.Z[-pre]-N-gHASH[-dirty]" becomes "X.Y.Z[-pre]+git.N.gHASH[.dirty]"; other text that is
 * not a version becomes "0.0.0-<text with [A-Za-z0-9.-] only>"; "" becomes "0.0.0-dev". */
void update_version_normalize(const char *in, char *out, size_t len);

/* Whether s ("v1.2.3", "1.2.3-rc.1+meta") is a version: 1 or 0. */
int update_version_valid(const char *s);
/* Whether version s has a prerelease part ("-rc.1"). */
int update_version_prerelease(const char *s);
/* Compares two versions (§6.3): major, minor, patch; a release beats a prerelease of the same
 * X.Y.Z; two prereleases by their rc number when both have one, else as text; build metadata
 * ignored. Returns <0, 0 or >0; text that is no version sorts below every version. */
int update_version_compare(const char *a, const char *b);

/* Whether an update of this deployment type can be applied by the worker: deb, systemd and
 * manual installs with update_install_command set. */
int update_auto_supported(const char *deployment);

#endif
