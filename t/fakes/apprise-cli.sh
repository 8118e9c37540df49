#!/bin/sh
# apprise-cli.sh: a stand-in for the apprise program in unit tests. Writes its arguments,
# one per line, to $APPRISE_FAKE_RECORD; then sleeps $APPRISE_FAKE_SLEEP seconds, prints
# $APPRISE_FAKE_STDERR on its error output and exits with $APPRISE_FAKE_EXIT (default 0).
if [ -n "$APPRISE_FAKE_RECORD" ]; then
	: > "$APPRISE_FAKE_RECORD"
	for a in "$@"; do
		printf '%s\n' "$a" >> "$APPRISE_FAKE_RECORD"
	done
fi
echo "sending"
[ -n "$APPRISE_FAKE_SLEEP" ] && sleep "$APPRISE_FAKE_SLEEP"
[ -n "$APPRISE_FAKE_STDERR" ] && printf '%s\n' "$APPRISE_FAKE_STDERR" >&2
exit "${APPRISE_FAKE_EXIT:-0}"
