#!/bin/sh
# uninstall-host-agent.sh: removes pulse-agent as install.sh set it up (served at
# /uninstall-host-agent.sh). The server is not told; `install.sh --uninstall --url ... --token ...`
# tells it too.
set -eu
if [ "$(id -u)" != 0 ]; then
	echo "uninstall-host-agent.sh: run as root" >&2
	exit 1
fi
systemctl stop pulse-agent.service pulse-host-agent.service 2>/dev/null || true
systemctl disable pulse-agent.service pulse-host-agent.service 2>/dev/null || true
for f in /etc/systemd/system/pulse-agent.service /etc/systemd/system/pulse-host-agent.service \
    /usr/local/bin/pulse-agent /usr/local/bin/pulse-host-agent /etc/default/pulse-agent; do
	rm -f "$f"
done
rm -rf /var/lib/pulse-agent
systemctl daemon-reload 2>/dev/null || true
echo "pulse-agent removed"
