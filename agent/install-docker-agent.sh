#!/bin/bash
# install-docker-agent.sh: the legacy Docker agent installer (served at
# /install-docker-agent.sh), kept for the commands people saved: it takes --url and --token
# and runs the server's install.sh with --enable-docker.
set -euo pipefail
URL="" TOKEN=""
while [ $# -gt 0 ]; do
	case "$1" in
	--url) URL="${2:-}"; shift ;;
	--token) TOKEN="${2:-}"; shift ;;
	*) echo "install-docker-agent.sh: only --url and --token are taken (got $1)" >&2; exit 1 ;;
	esac
	shift
done
if [ -z "$URL" ] || [ -z "$TOKEN" ]; then
	echo "usage: install-docker-agent.sh --url URL --token TOKEN" >&2
	exit 1
fi
echo "install-docker-agent.sh is deprecated: running $URL/install.sh --enable-docker" >&2
script="$(curl -fsSL --connect-timeout 30 --max-time 120 "${URL%/}/install.sh")"
exec bash -c "$script" install.sh --url "$URL" --token "$TOKEN" --enable-docker
