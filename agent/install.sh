#!/bin/bash
# install.sh: installs pulse-agent from a Pulse server as a systemd service, or removes it.
#
#   curl -fsSL https://pulse.example:7655/install.sh | sudo bash -s -- \
#       --url https://pulse.example:7655 --token <token> [--interval 30s] [--insecure]
#   curl -fsSL https://pulse.example:7655/install.sh | sudo bash -s -- --uninstall \
#       [--url ... --token ...]
#
# The server serves this file as it is; the URL and the token are its arguments. It puts the
# agent in /usr/local/bin/pulse-agent, the token in /var/lib/pulse-agent/token (mode 0600,
# never in the unit), the settings in /etc/default/pulse-agent (the variables of
# docs/AGENT.md) and the unit in /etc/systemd/system/pulse-agent.service, then enables and
# restarts it. --root DIR writes all of that below DIR instead and only enables the unit
# there (systemctl --root), for images and tests.
set -euo pipefail

usage() {
	cat <<'EOF'
usage: install.sh --url URL --token TOKEN [options]
       install.sh --uninstall [--url URL --token TOKEN] [--agent-id ID]

  --url URL                 the Pulse server (http:// or https://)
  --token TOKEN             an API token with the host-agent:report scope (hex)
  --interval D              report interval: 30s (default), 1m, 90 (seconds) ...
  --insecure                do not verify the server's TLS certificate
  --enable-commands         let the server see commands as enabled
  --agent-id ID             the agent's id (default: the machine id)
  --disk-exclude PATTERN    a mountpoint pattern to leave out (repeatable)
  --enable-host | --disable-host
  --enable-docker | --disable-docker
  --enable-kubernetes | --disable-kubernetes, --kubeconfig PATH
  --enable-proxmox | --disable-proxmox, --proxmox-type pve|pbs
                            passed to the agent, which accepts them (docs/AGENT.md)
  --disable-auto-update     accepted; this agent does not update itself
  --uninstall               stop and remove the agent
  --root DIR                install below DIR (no daemon-reload, no start)
EOF
}

die() {
	echo "install.sh: $*" >&2
	exit 1
}

URL="" TOKEN="" INTERVAL="30s" INSECURE="" COMMANDS="" AGENT_ID="" ROOT="" UNINSTALL=""
ENABLE_HOST="true" ENABLE_DOCKER="" ENABLE_KUBERNETES="" KUBECONFIG_PATH=""
ENABLE_PROXMOX="" PROXMOX_TYPE=""
DISK_EXCLUDE=()

# Every flag that takes a value must have one.
need_value() {
	[ "$2" -ge 2 ] || die "$1 needs a value"
}

while [ $# -gt 0 ]; do
	case "$1" in
	--url) need_value "$1" $#; URL="$2"; shift ;;
	--token) need_value "$1" $#; TOKEN="$2"; shift ;;
	--interval) need_value "$1" $#; INTERVAL="$2"; shift ;;
	--agent-id) need_value "$1" $#; AGENT_ID="$2"; shift ;;
	--disk-exclude) need_value "$1" $#; DISK_EXCLUDE+=("$2"); shift ;;
	--kubeconfig) need_value "$1" $#; KUBECONFIG_PATH="$2"; ENABLE_KUBERNETES="true"; shift ;;
	--proxmox-type) need_value "$1" $#; PROXMOX_TYPE="$2"; shift ;;
	--root) need_value "$1" $#; ROOT="${2%/}"; shift ;;
	--insecure) INSECURE="true" ;;
	--enable-commands) COMMANDS="true" ;;
	--enable-host) ENABLE_HOST="true" ;;
	--disable-host) ENABLE_HOST="false" ;;
	--enable-docker) ENABLE_DOCKER="true" ;;
	--disable-docker) ENABLE_DOCKER="false" ;;
	--enable-kubernetes) ENABLE_KUBERNETES="true" ;;
	--disable-kubernetes) ENABLE_KUBERNETES="false" ;;
	--enable-proxmox) ENABLE_PROXMOX="true" ;;
	--disable-proxmox) ENABLE_PROXMOX="false" ;;
	--disable-auto-update) ;;
	--uninstall) UNINSTALL="true" ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; die "unknown flag: $1" ;;
	esac
	shift
done

BIN="$ROOT/usr/local/bin/pulse-agent"
STATE_DIR="$ROOT/var/lib/pulse-agent"
ENV_FILE="$ROOT/etc/default/pulse-agent"
UNIT_FILE="$ROOT/etc/systemd/system/pulse-agent.service"

if [ -z "$ROOT" ] && [ "$(id -u)" != 0 ]; then
	die "run as root (sudo bash -s -- ...), or give --root DIR"
fi
URL="${URL%/}"
if [ -n "$URL" ]; then
	[[ "$URL" =~ ^https?://[^[:space:]\"\'\\]+$ ]] || die "--url must be an http:// or https:// URL"
fi
if [ -n "$TOKEN" ]; then
	[[ "$TOKEN" =~ ^[a-fA-F0-9]+$ ]] || die "--token must be the token's hex digits"
fi
CURL=(curl -fsS --connect-timeout 30 --max-time 300)
[ -n "$INSECURE" ] && CURL+=(-k)

# systemctl for the running system, or for the tree below --root.
units() {
	if [ -n "$ROOT" ]; then
		case "$1" in
		enable | disable) systemctl --root="$ROOT" "$@" ;;
		*) ;;
		esac
	else
		systemctl "$@"
	fi
}

# --- uninstall ------------------------------------------------------------------------

# The server forgets the host at once (POST /api/agents/host/uninstall) when it can be told
# which host this is; otherwise it marks it offline later, as for any silent agent.
tell_server() {
	local id="$AGENT_ID" lookup
	[ -n "$URL" ] && [ -n "$TOKEN" ] || return 0
	if [ -z "$id" ] && [ -r "$STATE_DIR/agent-id" ]; then
		id="$(head -n1 "$STATE_DIR/agent-id")"
	fi
	if [ -z "$id" ]; then
		lookup="$("${CURL[@]}" -H "X-API-Token: $TOKEN" \
		    "$URL/api/agents/host/lookup?hostname=$(hostname)" 2>/dev/null || true)"
		id="$(printf '%s' "$lookup" | sed -n 's/.*"host":{[^}]*"id":"\([^"]*\)".*/\1/p')"
	fi
	if [ -z "$id" ]; then
		echo "install.sh: the server does not know this host; nothing to tell it"
		return 0
	fi
	"${CURL[@]}" -o /dev/null -X POST -H "X-API-Token: $TOKEN" \
	    -H "Content-Type: application/json" --data "{\"hostId\":\"${id//\"/}\"}" \
	    "$URL/api/agents/host/uninstall" || echo "install.sh: the server was not told (ignored)"
}

if [ -n "$UNINSTALL" ]; then
	tell_server
	units stop pulse-agent.service 2>/dev/null || true
	units disable pulse-agent.service 2>/dev/null || true
	rm -f "$UNIT_FILE" "$BIN" "$ENV_FILE"
	rm -rf "$STATE_DIR"
	units daemon-reload || true
	echo "pulse-agent removed"
	exit 0
fi

# --- install --------------------------------------------------------------------------

[ -n "$URL" ] || die "--url is required"
[ -n "$TOKEN" ] || die "--token is required"
# A bare number is seconds: the agent takes Go durations only (the original passed it on).
if [[ "$INTERVAL" =~ ^[0-9]+$ ]]; then
	INTERVAL="${INTERVAL}s"
fi
[[ "$INTERVAL" =~ ^([0-9]+[smh])+$ ]] || die "--interval must be like 30s, 1m or 1h"
case "$PROXMOX_TYPE" in "" | pve | pbs) ;; *) die "--proxmox-type must be pve or pbs" ;; esac

os="$(uname -s | tr '[:upper:]' '[:lower:]')"
case "$(uname -m)" in
x86_64 | amd64) arch=amd64 ;;
aarch64 | arm64) arch=arm64 ;;
armv7l | armhf) arch=armv7 ;;
armv6l) arch=armv6 ;;
i386 | i686) arch=386 ;;
*) die "unsupported machine: $(uname -m)" ;;
esac
[ "$os" = linux ] || die "this installer sets up a systemd service on Linux; $os is not supported"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "Downloading pulse-agent for $os-$arch from $URL"
"${CURL[@]}" -L -D "$tmp/headers" -o "$tmp/pulse-agent" \
    "$URL/download/pulse-agent?arch=$os-$arch" || die "download failed"
[ -s "$tmp/pulse-agent" ] || die "the server sent an empty file"
[ "$(head -c 4 "$tmp/pulse-agent" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ] ||
    die "the server did not send a Linux program"
want="$(tr -d '\r' <"$tmp/headers" | sed -n 's/^[Xx]-[Cc]hecksum-[Ss]ha256: *\([0-9a-fA-F]\{64\}\).*/\1/p' | tail -n1)"
got="$(sha256sum "$tmp/pulse-agent" | cut -d' ' -f1)"
if [ -z "$want" ]; then
	echo "install.sh: warning: no X-Checksum-Sha256 from the server; sha256 $got"
elif [ "${want,,}" != "$got" ]; then
	die "checksum mismatch: the server said $want, the download is $got"
fi

if [ -z "$ROOT" ] && [ -x "$BIN" ]; then
	units stop pulse-agent.service 2>/dev/null || true
fi
install -d -m 0755 "$(dirname "$BIN")" "$(dirname "$ENV_FILE")" "$(dirname "$UNIT_FILE")"
install -m 0755 "$tmp/pulse-agent" "$BIN"
install -d -m 0700 "$STATE_DIR"
(umask 077 && printf '%s' "$TOKEN" >"$STATE_DIR/token")
[ -n "$AGENT_ID" ] && (umask 077 && printf '%s\n' "$AGENT_ID" >"$STATE_DIR/agent-id")

# The settings, one variable a line; only what was chosen, so the agent's defaults stay its own.
{
	echo "# written by install.sh from $URL; the variables are in docs/AGENT.md"
	echo "PULSE_URL=\"$URL\""
	echo "PULSE_INTERVAL=\"$INTERVAL\""
	echo "PULSE_ENABLE_HOST=\"$ENABLE_HOST\""
	[ -n "$INSECURE" ] && echo "PULSE_INSECURE_SKIP_VERIFY=\"true\""
	[ -n "$COMMANDS" ] && echo "PULSE_ENABLE_COMMANDS=\"true\""
	[ -n "$AGENT_ID" ] && echo "PULSE_AGENT_ID=\"${AGENT_ID//\"/}\""
	[ -n "$ENABLE_DOCKER" ] && echo "PULSE_ENABLE_DOCKER=\"$ENABLE_DOCKER\""
	[ -n "$ENABLE_KUBERNETES" ] && echo "PULSE_ENABLE_KUBERNETES=\"$ENABLE_KUBERNETES\""
	[ -n "$KUBECONFIG_PATH" ] && echo "PULSE_KUBECONFIG=\"${KUBECONFIG_PATH//\"/}\""
	[ -n "$ENABLE_PROXMOX" ] && echo "PULSE_ENABLE_PROXMOX=\"$ENABLE_PROXMOX\""
	[ -n "$PROXMOX_TYPE" ] && echo "PULSE_PROXMOX_TYPE=\"$PROXMOX_TYPE\""
	if [ ${#DISK_EXCLUDE[@]} -gt 0 ]; then
		excl="$(IFS=,; echo "${DISK_EXCLUDE[*]}")"
		echo "PULSE_DISK_EXCLUDE=\"${excl//\"/}\""
	fi
	true
} >"$ENV_FILE.new"
chmod 0644 "$ENV_FILE.new"
mv "$ENV_FILE.new" "$ENV_FILE"

cat >"$UNIT_FILE" <<'EOF'
# pulse-agent.service, written by install.sh: reports this machine to a Pulse server.
[Unit]
Description=Pulse agent
After=network-online.target docker.service
Wants=network-online.target
StartLimitIntervalSec=0

[Service]
Type=simple
EnvironmentFile=-/etc/default/pulse-agent
ExecStart=/usr/local/bin/pulse-agent
Restart=always
RestartSec=5s
StateDirectory=pulse-agent
StateDirectoryMode=0700

[Install]
WantedBy=multi-user.target
EOF
chmod 0644 "$UNIT_FILE"

units daemon-reload
units enable pulse-agent.service
units restart pulse-agent.service
if [ -n "$ROOT" ]; then
	echo "pulse-agent installed below $ROOT (enabled, not started)"
else
	echo "pulse-agent installed and started: systemctl status pulse-agent"
fi
