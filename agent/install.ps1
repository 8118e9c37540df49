# install.ps1: what this Pulse server answers at /install.ps1 (and the legacy
# /install-host-agent.ps1 and /uninstall-host-agent.ps1): it has no Windows agent.
#
# The original Pulse installs a Windows service (PulseAgent) from here. This server builds
# pulse-agent for Linux only (docs/AGENT.md), so the script says so and fails, leaving the
# machine untouched. A Windows machine can keep the original's agent: it reports to this
# server unchanged.
$message = "Pulse: a Windows agent is not available from this server. " +
    "pulse-agent runs on Linux (install it with install.sh); " +
    "the original Pulse agent for Windows can report to this server instead."
Write-Error $message -ErrorAction Continue
exit 1
