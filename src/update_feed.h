/* update_feed.h: reading a release feed, GitHub's releases JSON or an Atom feed, and picking
 * the release a channel offers (metrics-reporting.md §6.3). Pure parsing: no network, no
 * database. */
#ifndef PULSE_UPDATE_FEED_H
#define PULSE_UPDATE_FEED_H

#include <stddef.h>

struct update_release {
	char tag[64];		/* as the feed names it: "v5.0.13" */
	char *notes;		/* owned; "" when the feed has none (Atom) */
	double date;		/* unix seconds, 0 when unknown */
	char download_url[1024];	/* "" when the feed names no usable asset (Atom) */
	int prerelease;
};

void update_release_clear(struct update_release *r);

/* Picks the release for channel ("stable" or "rc") from a GitHub releases JSON array:
 * drafts skipped; stable: the first non-prerelease whose tag is a version; rc: the newer of
 * the highest prerelease and the highest release. The asset: for a deb deployment a .deb for
 * this machine's architecture (or "all"), else "pulse-<tag>-linux-<arch>.tar.gz", else any
 * "pulse-*linux*.tar.gz". Returns 1 with *out filled, 0 when no release fits, -1 for a text
 * that is not such an array (reason in err, no input echoed). */
int update_feed_parse_json(const char *text, size_t len, const char *channel,
    const char *deployment, struct update_release *out, char *err, size_t errlen);

/* The same from an Atom feed, read with libxml2 without network access, entity substitution
 * or DTD loading; a document that declares entities is refused. A version is taken from an
 * entry's title ("Pulse v5.0.13") or else its link; the first entry whose version the channel
 * accepts wins (stable skips prereleases). No notes, no download. */
int update_feed_parse_atom(const char *text, size_t len, const char *channel,
    struct update_release *out, char *err, size_t errlen);

#endif
