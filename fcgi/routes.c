/* routes.c: the route table. Every route and its protection (credentials, admin, scope,
 * CSRF, rate class, body limit) are declared here and nowhere else;
 * t/api/11-route-table.t walks this table (pulse-fcgi --list-routes) so no route can forget
 * its check. Literal paths win over {param} ones whatever the order. */
#include "config.h"

#include "handlers.h"
#include "router.h"
#include "util.h"

/* A route without a licence feature leaves the last field out (NULL): most routes have none. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define GET REQ_METHOD_GET
#define POST REQ_METHOD_POST
#define PUT REQ_METHOD_PUT
#define PATCH REQ_METHOD_PATCH
#define DELETE REQ_METHOD_DELETE

#define PUBLIC ROUTE_PUBLIC
#define ADMIN ROUTE_ADMIN
#define NO_DB ROUTE_NO_DB
#define NO_CSRF ROUTE_NO_CSRF

/* Body limits: SMALL for credentials and short commands, CONFIG for a node's or a mode's
 * settings; 0 would mean the body_limit setting (for uploads and agents' reports). */
#define SMALL ROUTE_SMALL_BODY
#define CONFIG (64 * 1024)
#define EMAIL_CONFIG (32 * 1024)	/* the original's limit for PUT /api/notifications/email */
#define NOTE_BODY (8 * 1024)	/* the original's limit for an incident note */
#define BULK_BODY (32 * 1024)	/* the original's limit for the bulk alert actions */
#define HOST_REPORT (256 * 1024)	/* the original's limit for a host agent's report */
#define AGENT_SMALL (16 * 1024)	/* the original's limit for uninstall and unlink */
#define KUBE_REPORT (2 * 1024 * 1024)	/* the original's limit for a Kubernetes report */
#define DOCKER_REPORT (512 * 1024)	/* the original's limit for a Docker agent's report */
#define IMPORT_BODY (1024 * 1024)	/* the original's limit for a configuration import */
#define AGENT_EDIT (8 * 1024)	/* the original's limit for ack, display name, update */
/* A download: public, served without the database, counted in the download class. */
#define DOWNLOAD PUBLIC | NO_DB, NULL, RATE_DOWNLOAD, SMALL
/* A retired temperature-proxy route: 410 whatever the body (agents.md §11). */
#define GONE NO_DB | NO_CSRF | ROUTE_ANY_BODY, NULL, RATE_GENERAL, SMALL

/* method, path, handler, flags, scope an API token needs, rate class, body limit, licence
 * feature (402 without it; none when left out) */
const struct route route_table[] = {
	/* api_system.c */
	{GET, "/api/health", api_health, PUBLIC | NO_DB, NULL, RATE_PUBLIC, SMALL},
	{GET, "/api/version", api_version, PUBLIC | NO_DB, NULL, RATE_PUBLIC, SMALL},
	{GET, "/api/agent/version", api_agent_version, PUBLIC | NO_DB, NULL, RATE_PUBLIC, SMALL},
	{GET, "/api/system/mock-mode", api_mock_mode_get, ADMIN, "settings:read", RATE_GENERAL,
	    SMALL},
	{POST | PUT, "/api/system/mock-mode", api_mock_mode_set, ADMIN, "settings:write",
	    RATE_GENERAL, CONFIG},

	/* api_settings.c: admin, as the original (metrics-reporting.md §0); 64 KiB bodies. */
	{GET, "/api/system/settings", api_system_settings_get, ADMIN, "settings:read",
	    RATE_CONFIG_READ, SMALL},
	{POST, "/api/system/settings/update", api_system_settings_update, ADMIN, "settings:write",
	    RATE_CONFIG_WRITE, CONFIG},
	{GET, "/api/config/system", api_config_system, ADMIN, "settings:read", RATE_CONFIG_READ,
	    SMALL},

	/* api_diagnostics.c: server info is public (installers), diagnostics any credential
	 * without a scope, /api/config monitoring:read, as the original (security.md §4.2). */
	{GET, "/api/server/info", api_server_info, PUBLIC | NO_DB, NULL, RATE_PUBLIC, SMALL},
	{GET, "/api/diagnostics", api_diagnostics, 0, NULL, RATE_GENERAL, SMALL},
	{GET, "/api/config", api_config, 0, "monitoring:read", RATE_GENERAL, SMALL},

	/* api_alerts.c */
	{GET, "/api/alerts/config", api_alerts_config_get, 0, "monitoring:read", RATE_GENERAL,
	    SMALL},
	{PUT, "/api/alerts/config", api_alerts_config_put, 0, "monitoring:write", RATE_GENERAL,
	    CONFIG},
	{POST, "/api/alerts/activate", api_alerts_activate, 0, "monitoring:write", RATE_GENERAL,
	    SMALL},
	{GET, "/api/alerts/active", api_alerts_active, 0, "monitoring:read", RATE_GENERAL, SMALL},

	/* api_alert_actions.c */
	{POST, "/api/alerts/acknowledge", api_alert_acknowledge, 0, "monitoring:write",
	    RATE_GENERAL, SMALL},
	{POST, "/api/alerts/unacknowledge", api_alert_unacknowledge, 0, "monitoring:write",
	    RATE_GENERAL, SMALL},
	{POST, "/api/alerts/clear", api_alert_clear, 0, "monitoring:write", RATE_GENERAL, SMALL},
	{POST, "/api/alerts/{id}/acknowledge", api_alert_acknowledge_path, 0, "monitoring:write",
	    RATE_GENERAL, SMALL},
	{POST, "/api/alerts/{id}/unacknowledge", api_alert_unacknowledge_path, 0,
	    "monitoring:write", RATE_GENERAL, SMALL},
	{POST, "/api/alerts/{id}/clear", api_alert_clear_path, 0, "monitoring:write", RATE_GENERAL,
	    SMALL},
	{POST, "/api/alerts/bulk/acknowledge", api_alerts_bulk_acknowledge, 0, "monitoring:write",
	    RATE_GENERAL, BULK_BODY},
	{POST, "/api/alerts/bulk/clear", api_alerts_bulk_clear, 0, "monitoring:write",
	    RATE_GENERAL, BULK_BODY},
	{GET, "/api/alerts/history", api_alerts_history_get, 0, "monitoring:read", RATE_GENERAL,
	    SMALL},
	{DELETE, "/api/alerts/history", api_alerts_history_delete, 0, "monitoring:write",
	    RATE_GENERAL, SMALL},
	{GET, "/api/alerts/incidents", api_alerts_incidents, 0, "monitoring:read", RATE_GENERAL,
	    SMALL},
	{POST, "/api/alerts/incidents/note", api_alerts_incident_note, 0, "monitoring:write",
	    RATE_GENERAL, NOTE_BODY},

	/* api_notifications.c */
	{GET, "/api/notifications/email", api_notify_email_get, ADMIN, "settings:read",
	    RATE_CONFIG_READ, SMALL},
	{PUT, "/api/notifications/email", api_notify_email_put, ADMIN, "settings:write",
	    RATE_CONFIG_WRITE, EMAIL_CONFIG},
	{GET, "/api/notifications/apprise", api_notify_apprise_get, ADMIN, "settings:read",
	    RATE_CONFIG_READ, SMALL},
	{PUT, "/api/notifications/apprise", api_notify_apprise_put, ADMIN, "settings:write",
	    RATE_CONFIG_WRITE, CONFIG},
	{GET, "/api/notifications/webhooks", api_notify_webhooks_list, ADMIN, "settings:read",
	    RATE_CONFIG_READ, SMALL},
	{POST, "/api/notifications/webhooks", api_notify_webhooks_create, ADMIN, "settings:write",
	    RATE_CONFIG_WRITE, CONFIG},
	{PUT, "/api/notifications/webhooks/{id}", api_notify_webhook_update, ADMIN,
	    "settings:write", RATE_CONFIG_WRITE, CONFIG},
	{DELETE, "/api/notifications/webhooks/{id}", api_notify_webhook_delete, ADMIN,
	    "settings:write", RATE_CONFIG_WRITE, SMALL},
	{GET, "/api/notifications/webhook-templates", api_notify_webhook_templates, ADMIN,
	    "settings:read", RATE_CONFIG_READ, SMALL},
	{GET, "/api/notifications/email-providers", api_notify_email_providers, ADMIN,
	    "settings:read", RATE_CONFIG_READ, SMALL},
	{GET, "/api/notifications/webhook-history", api_notify_webhook_history, ADMIN,
	    "settings:read", RATE_CONFIG_READ, SMALL},
	{GET, "/api/notifications/health", api_notify_health, ADMIN, "settings:read",
	    RATE_CONFIG_READ, SMALL},
	/* api_notify_test.c */
	{POST, "/api/notifications/test", api_notifications_test, ADMIN, "settings:write",
	    RATE_GENERAL, CONFIG},
	{POST, "/api/notifications/webhooks/test", api_notify_webhooks_test, ADMIN,
	    "settings:write", RATE_GENERAL, CONFIG},
	{POST, "/api/test-notification", api_test_notification, ADMIN, "settings:write",
	    RATE_GENERAL, SMALL},

	/* api_notify_queue.c */
	{GET, "/api/notifications/queue/stats", api_notify_queue_stats, ADMIN, "monitoring:read",
	    RATE_GENERAL, SMALL},
	{GET, "/api/notifications/dlq", api_notify_queue_dlq, ADMIN, "monitoring:read",
	    RATE_GENERAL, SMALL},
	{POST, "/api/notifications/dlq/retry", api_notify_queue_dlq_retry, ADMIN,
	    "monitoring:write", RATE_GENERAL, SMALL},
	{POST | DELETE, "/api/notifications/dlq/delete", api_notify_queue_dlq_delete, ADMIN,
	    "monitoring:write", RATE_GENERAL, SMALL},

	/* api_login.c */
	{POST, "/api/login", api_login, PUBLIC | NO_CSRF, NULL, RATE_AUTH, SMALL},
	{POST, "/api/logout", api_logout, 0, NULL, RATE_AUTH, SMALL},

	/* api_oidc.c: OIDC sign-in (security.md §7); the seed's docs say POST for the settings */
	{GET, "/api/security/oidc", api_oidc_config_get, ADMIN, "settings:write", RATE_GENERAL,
	    SMALL},
	{POST | PUT, "/api/security/oidc", api_oidc_config_put, ADMIN, "settings:write",
	    RATE_CONFIG_WRITE, CONFIG},
	{GET | POST, "/api/oidc/login", api_oidc_login, PUBLIC | NO_CSRF, NULL, RATE_GENERAL, SMALL},
	{GET, "/api/oidc/callback", api_oidc_callback, PUBLIC, NULL, RATE_GENERAL, SMALL},

	/* api_security.c */
	{GET, "/api/security/status", api_security_status, PUBLIC, NULL, RATE_CONFIG_READ, SMALL},
	{POST, "/api/security/validate-bootstrap-token", api_validate_bootstrap_token,
	    PUBLIC | NO_CSRF, NULL, RATE_PUBLIC, SMALL},
	/* Public for first-run setup (bootstrap token) and recovery (recovery token); a session
	 * that replaces the admin goes through the CSRF check like any other change. */
	{POST, "/api/security/quick-setup", api_quick_setup, PUBLIC, NULL, RATE_GENERAL, SMALL},
	{POST, "/api/security/change-password", api_change_password, 0, NULL, RATE_AUTH, SMALL},
	{POST, "/api/security/reset-lockout", api_reset_lockout, ADMIN, "settings:write",
	    RATE_GENERAL, SMALL},
	{POST, "/api/security/regenerate-token", api_regenerate_token, ADMIN, "settings:write",
	    RATE_GENERAL, SMALL},
	{POST, "/api/security/validate-token", api_validate_token, ADMIN, "settings:write",
	    RATE_GENERAL, SMALL},
	{GET, "/api/security/tokens", api_tokens_list, ADMIN, "settings:read", RATE_GENERAL, SMALL},
	{POST, "/api/security/tokens", api_tokens_create, ADMIN, "settings:write", RATE_GENERAL,
	    SMALL},
	{DELETE, "/api/security/tokens/{id}", api_tokens_delete, ADMIN, "settings:write",
	    RATE_GENERAL, SMALL},
	{GET | POST, "/api/security/recovery", api_recovery, PUBLIC | NO_CSRF, NULL, RATE_RECOVERY,
	    SMALL},
	/* RBAC (security.md §8): 402 without the licence feature rbac, then 501 as the
	 * original's open-source build; admin, with settings:read or settings:write (the original
	 * checks no scope: docs/COMPATIBILITY.md). */
	{GET, "/api/admin/roles", api_rbac_unavailable, ADMIN, "settings:read", RATE_GENERAL, SMALL,
	    "rbac"},
	{POST, "/api/admin/roles", api_rbac_unavailable, ADMIN, "settings:write", RATE_GENERAL, SMALL,
	    "rbac"},
	{GET, "/api/admin/roles/{id}", api_rbac_unavailable, ADMIN, "settings:read", RATE_GENERAL,
	    SMALL, "rbac"},
	{PUT | DELETE, "/api/admin/roles/{id}", api_rbac_unavailable, ADMIN, "settings:write",
	    RATE_GENERAL, SMALL, "rbac"},
	{GET, "/api/admin/users", api_rbac_unavailable, ADMIN, "settings:read", RATE_GENERAL, SMALL,
	    "rbac"},
	{GET, "/api/admin/users/{user}", api_rbac_unavailable, ADMIN, "settings:read", RATE_GENERAL,
	    SMALL, "rbac"},
	{GET, "/api/admin/users/{user}/roles", api_rbac_unavailable, ADMIN, "settings:read",
	    RATE_GENERAL, SMALL, "rbac"},
	{PUT | POST, "/api/admin/users/{user}/roles", api_rbac_unavailable, ADMIN, "settings:write",
	    RATE_GENERAL, SMALL, "rbac"},
	{GET, "/api/admin/users/{user}/permissions", api_rbac_unavailable, ADMIN, "settings:read",
	    RATE_GENERAL, SMALL, "rbac"},

	/* api_state.c */
	{GET, "/api/state", api_state, 0, "monitoring:read", RATE_NONE, SMALL},
	{GET, "/api/backups", api_backups, 0, "monitoring:read", RATE_GENERAL, SMALL},
	{GET, "/api/backups/pve", api_backups_pve, 0, "monitoring:read", RATE_GENERAL, SMALL},
	{GET, "/api/backups/pbs", api_backups_pbs, 0, "monitoring:read", RATE_GENERAL, SMALL},
	{GET, "/api/backups/{view}", api_backups, 0, "monitoring:read", RATE_GENERAL, SMALL},
	{GET, "/api/snapshots", api_snapshots, 0, "monitoring:read", RATE_GENERAL, SMALL},

	/* api_agents.c: reports are not rate-limited per client (many agents may share one
	 * address behind NAT or a proxy); only a token with the scope reaches them. */
	{POST, "/api/agents/host/report", api_agents_host_report, 0, "host-agent:report",
	    RATE_NONE, HOST_REPORT},
	{GET, "/api/agents/host/lookup", api_agents_host_lookup, 0, "host-agent:report",
	    RATE_GENERAL, SMALL},
	{POST, "/api/agents/host/uninstall", api_agents_host_uninstall, 0, "host-agent:report",
	    RATE_GENERAL, AGENT_SMALL},
	{POST, "/api/agents/host/unlink", api_agents_host_unlink, ADMIN, "host-agent:manage",
	    RATE_GENERAL, AGENT_SMALL},
	{DELETE, "/api/agents/host/{id}", api_agents_host_delete, 0, "host-agent:manage",
	    RATE_GENERAL, SMALL},
	/* api_agent_config.c: PATCH is not admin-only, as the original (agents.md §14 item 1);
	 * GET checks the host's token for tokens without a manage scope. */
	{GET, "/api/agents/host/{id}/config", api_agents_host_config_get, 0, "host-agent:report",
	    RATE_GENERAL, SMALL},
	{PATCH, "/api/agents/host/{id}/config", api_agents_host_config_patch, 0,
	    "host-agent:manage", RATE_GENERAL, AGENT_SMALL},
	/* Adds a Proxmox server: public, since the setup script presents a one-time setup code
	 * instead of credentials; without a code the handler asks for the privilege of
	 * POST /api/config/nodes (admin, settings:write; the original also took an agent's
	 * report token: docs/COMPATIBILITY.md). Counted with the configuration writes. */
	{POST, "/api/auto-register", api_auto_register, PUBLIC, NULL, RATE_CONFIG_WRITE, SMALL},

	/* api_setup.c: a setup code is a credential that adds a server, so minting one takes
	 * what adding one takes (admin, settings:write); CSRF exempt as the original. The
	 * script is public (it holds no secret unless the caller put the code in the URL). */
	{POST, "/api/setup-script-url", api_setup_script_url, ADMIN | NO_CSRF, "settings:write",
	    RATE_GENERAL, SMALL},
	{GET, "/api/setup-script", api_setup_script, PUBLIC | NO_DB, NULL, RATE_GENERAL, SMALL},
	/* api_discover.c: the original asks only for credentials; what a network holds is an
	 * admin's business, and a scan makes this server connect where the caller says:
	 * settings:write, as adding a node. Counted as the original counts them. */
	{GET, "/api/discover", api_discover_get, ADMIN, "settings:read", RATE_CONFIG_READ, SMALL},
	{POST, "/api/discover", api_discover_scan, ADMIN, "settings:write", RATE_CONFIG_WRITE,
	    SMALL},

	/* api_profiles.c: admin, as the original; a profile's settings reach every agent it is
	 * assigned to, so changing them takes host-agent:manage (the original checks no scope:
	 * docs/COMPATIBILITY.md). A Pro feature: the licence must grant agent_profiles. */
	{GET, "/api/admin/profiles", api_profiles_list, ADMIN, "settings:read", RATE_GENERAL,
	    SMALL, "agent_profiles"},
	{POST, "/api/admin/profiles", api_profiles_create, ADMIN, "host-agent:manage",
	    RATE_GENERAL, SMALL, "agent_profiles"},
	{PUT, "/api/admin/profiles/{id}", api_profiles_update, ADMIN, "host-agent:manage",
	    RATE_GENERAL, SMALL, "agent_profiles"},
	{DELETE, "/api/admin/profiles/{id}", api_profiles_delete, ADMIN, "host-agent:manage",
	    RATE_GENERAL, SMALL, "agent_profiles"},
	{GET, "/api/admin/profiles/assignments", api_profiles_assignments, ADMIN, "settings:read",
	    RATE_GENERAL, SMALL, "agent_profiles"},
	{POST, "/api/admin/profiles/assignments", api_profiles_assign, ADMIN, "host-agent:manage",
	    RATE_GENERAL, SMALL, "agent_profiles"},
	{DELETE, "/api/admin/profiles/assignments/{agent_id}", api_profiles_unassign, ADMIN,
	    "host-agent:manage", RATE_GENERAL, SMALL, "agent_profiles"},

	/* api_license.c (security.md §11.5): status is admin, features any credential;
	 * activate and clear admin with settings:write. */
	{GET, "/api/license/status", api_license_status, ADMIN, NULL, RATE_GENERAL, SMALL},
	{GET, "/api/license/features", api_license_features, 0, NULL, RATE_GENERAL, SMALL},
	{POST, "/api/license/activate", api_license_activate, ADMIN, "settings:write",
	    RATE_GENERAL, SMALL},
	{POST, "/api/license/clear", api_license_clear, ADMIN, "settings:write", RATE_GENERAL,
	    SMALL},

	/* api_reports.c (metrics-reporting.md §3, security.md §4.1): admin with settings:read
	 * (the original asks for read permission on nodes). A Pro feature: the licence must
	 * grant advanced_reporting. */
	{GET, "/api/admin/reports/generate", api_reports_generate, ADMIN, "settings:read",
	    RATE_GENERAL, SMALL, "advanced_reporting"},

	/* api_audit.c (security.md §4.1, §9): readable by any credential (the original's
	 * permission is everyone's in its OSS build) with settings:read; the whole-chain check
	 * and the webhooks are admin's. All need the licence feature audit_logging. */
	{GET, "/api/audit", api_audit_list, 0, "settings:read", RATE_GENERAL, SMALL,
	    "audit_logging"},
	{GET, "/api/audit/{id}/verify", api_audit_verify_event, 0, "settings:read", RATE_GENERAL,
	    SMALL, "audit_logging"},
	{GET, "/api/audit/verify", api_audit_verify_chain, ADMIN, "settings:read", RATE_GENERAL,
	    SMALL, "audit_logging"},
	{GET, "/api/admin/webhooks/audit", api_audit_webhooks_get, ADMIN, "settings:read",
	    RATE_GENERAL, SMALL, "audit_logging"},
	{POST | PUT, "/api/admin/webhooks/audit", api_audit_webhooks_set, ADMIN, "settings:write",
	    RATE_GENERAL, CONFIG, "audit_logging"},

	/* api_agents_kube.c (agents.md §5): the report as the host's; management is admin. */
	{POST, "/api/agents/kubernetes/report", api_agents_kube_report, 0, "kubernetes:report",
	    RATE_NONE, KUBE_REPORT},
	{DELETE, "/api/agents/kubernetes/clusters/{id}", api_agents_kube_delete, ADMIN,
	    "kubernetes:manage", RATE_GENERAL, SMALL},
	{POST, "/api/agents/kubernetes/clusters/{id}/allow-reenroll",
	    api_agents_kube_allow_reenroll, ADMIN, "kubernetes:manage", RATE_GENERAL, SMALL},
	{PUT, "/api/agents/kubernetes/clusters/{id}/unhide", api_agents_kube_unhide, ADMIN,
	    "kubernetes:manage", RATE_GENERAL, SMALL},
	{PUT, "/api/agents/kubernetes/clusters/{id}/pending-uninstall",
	    api_agents_kube_pending_uninstall, ADMIN, "kubernetes:manage", RATE_GENERAL, SMALL},
	{PUT, "/api/agents/kubernetes/clusters/{id}/display-name", api_agents_kube_display_name,
	    ADMIN, "kubernetes:manage", RATE_GENERAL, AGENT_EDIT},

	/* api_agents_docker.c (agents.md §4) */
	{POST, "/api/agents/docker/report", api_agents_docker_report, 0, "docker:report",
	    RATE_NONE, DOCKER_REPORT},
	{POST, "/api/agents/docker/commands/{commandId}/ack", api_agents_docker_ack, 0,
	    "docker:report", RATE_NONE, AGENT_EDIT},
	{DELETE, "/api/agents/docker/hosts/{id}", api_agents_docker_host_delete, ADMIN,
	    "docker:manage", RATE_GENERAL, SMALL},
	{POST, "/api/agents/docker/hosts/{id}/allow-reenroll", api_agents_docker_allow_reenroll,
	    ADMIN, "docker:manage", RATE_GENERAL, SMALL},
	{PUT, "/api/agents/docker/hosts/{id}/unhide", api_agents_docker_unhide, ADMIN,
	    "docker:manage", RATE_GENERAL, SMALL},
	{PUT, "/api/agents/docker/hosts/{id}/pending-uninstall",
	    api_agents_docker_pending_uninstall, ADMIN, "docker:manage", RATE_GENERAL, SMALL},
	{PUT, "/api/agents/docker/hosts/{id}/display-name", api_agents_docker_display_name, ADMIN,
	    "docker:manage", RATE_GENERAL, AGENT_EDIT},
	{POST, "/api/agents/docker/hosts/{id}/check-updates", api_agents_docker_check_updates,
	    ADMIN, "docker:manage", RATE_GENERAL, SMALL},
	{POST, "/api/agents/docker/containers/update", api_agents_docker_container_update, ADMIN,
	    "docker:manage", RATE_GENERAL, AGENT_EDIT},

	/* api_resources.c */
	{GET, "/api/resources", api_resources_list, 0, "monitoring:read", RATE_GENERAL, SMALL},
	{GET, "/api/resources/stats", api_resources_stats, 0, "monitoring:read", RATE_GENERAL, SMALL},
	{GET, "/api/resources/{id}", api_resources_get, 0, "monitoring:read", RATE_GENERAL, SMALL},
	{GET, "/api/resources/{pbs}/datastore/{name}", api_resources_get, 0, "monitoring:read",
	    RATE_GENERAL, SMALL},

	/* api_monitoring.c */
	{GET, "/api/monitoring/scheduler/health", api_scheduler_health, 0, "monitoring:read",
	    RATE_GENERAL, SMALL},
	{GET, "/api/storage", api_storage_missing_id, 0, "monitoring:read", RATE_GENERAL, SMALL},
	{GET, "/api/storage/{id}", api_storage_get, 0, "monitoring:read", RATE_GENERAL, SMALL},

	/* api_metrics.c */
	{GET, "/api/charts", api_charts, 0, "monitoring:read", RATE_GENERAL, SMALL},
	{GET, "/api/storage-charts", api_storage_charts, 0, "monitoring:read", RATE_GENERAL, SMALL},
	{GET, "/api/metrics-store/stats", api_metrics_stats, 0, "monitoring:read", RATE_GENERAL,
	    SMALL},
	{GET, "/api/metrics-store/history", api_metrics_history, 0, "monitoring:read",
	    RATE_GENERAL, SMALL},

	/* api_updates.c (metrics-reporting.md §6): admin with settings:read, apply settings:write.
	 * The stream holds a thread while it lasts (bounded in the handler). */
	{GET, "/api/updates/check", api_updates_check, ADMIN, "settings:read", RATE_UPDATES, SMALL},
	{GET, "/api/updates/status", api_updates_status, ADMIN, "settings:read", RATE_UPDATES,
	    SMALL},
	{GET, "/api/updates/plan", api_updates_plan, ADMIN, "settings:read", RATE_UPDATES, SMALL},
	{GET, "/api/updates/history", api_updates_history, ADMIN, "settings:read", RATE_UPDATES,
	    SMALL},
	{GET, "/api/updates/history/entry", api_updates_history_entry, ADMIN, "settings:read",
	    RATE_UPDATES, SMALL},
	{GET, "/api/updates/stream", api_updates_stream, ADMIN, "settings:read", RATE_UPDATES,
	    SMALL},
	{POST, "/api/updates/apply", api_updates_apply, ADMIN, "settings:write", RATE_UPDATES,
	    SMALL},

	/* api_nodes.c */
	{GET, "/api/config/nodes", api_nodes_list, ADMIN, "settings:read", RATE_CONFIG_READ, SMALL},
	{POST, "/api/config/nodes", api_nodes_add, ADMIN, "settings:write", RATE_CONFIG_WRITE,
	    CONFIG},
	{POST, "/api/config/nodes/test-connection", api_nodes_test_connection, ADMIN,
	    "settings:write", RATE_CONFIG_WRITE, CONFIG},
	{POST, "/api/config/nodes/test-config", api_nodes_test_config, ADMIN, "settings:write",
	    RATE_GENERAL, CONFIG},
	{PUT, "/api/config/nodes/{id}", api_nodes_update, ADMIN, "settings:write",
	    RATE_GENERAL, CONFIG},
	{DELETE, "/api/config/nodes/{id}", api_nodes_delete, ADMIN, "settings:write",
	    RATE_CONFIG_WRITE, SMALL},
	{POST, "/api/config/nodes/{id}/test", api_nodes_test_saved, ADMIN, "settings:write",
	    RATE_CONFIG_WRITE, SMALL},
	{POST, "/api/config/nodes/{id}/refresh-cluster", api_nodes_refresh_cluster, ADMIN,
	    "settings:write", RATE_CONFIG_WRITE, SMALL},

	/* api_config.c (security.md §10): a session, X-API-Token or a proxy admin, checked by the
	 * handler in the original's words. The bundle holds every credential in clear, so a
	 * token needs settings:write (the original checks no scope). */
	{POST, "/api/config/export", api_config_export, 0, "settings:write", RATE_EXPORT, SMALL},
	{POST, "/api/config/import", api_config_import, 0, "settings:write", RATE_EXPORT,
	    IMPORT_BODY},

	/* api_prometheus.c (metrics-reporting.md §7): no credentials, as the original's :9091
	 * listener; nginx serves it in a location of its own that admits loopback only unless
	 * the operator adds addresses (docs/API.md). */
	{GET, "/metrics", api_prometheus_metrics, PUBLIC, NULL, RATE_PUBLIC, SMALL},

	/* api_downloads.c (agents.md §2, §8, §11) */
	/* The OpenAPI document (openapi/): public as /api/version, it holds no secret. */
	{GET, "/api/openapi.json", api_openapi, PUBLIC | NO_DB, NULL, RATE_PUBLIC, SMALL},
	{GET, "/download/pulse-agent", api_download_agent, DOWNLOAD},
	{GET, "/download/pulse-host-agent", api_download_host_agent, DOWNLOAD},
	{GET, "/download/pulse-host-agent.sha256", api_download_host_agent_sha256, DOWNLOAD},
	{GET, "/download/pulse-docker-agent", api_download_docker_agent, DOWNLOAD},
	{GET, "/install.sh", api_install_script, DOWNLOAD},
	{GET, "/install.ps1", api_install_script, DOWNLOAD},
	{GET, "/install-host-agent.sh", api_install_script, DOWNLOAD},
	{GET, "/install-host-agent.ps1", api_install_script, DOWNLOAD},
	{GET, "/uninstall-host-agent.sh", api_install_script, DOWNLOAD},
	{GET, "/uninstall-host-agent.ps1", api_install_script, DOWNLOAD},
	{GET, "/install-docker-agent.sh", api_install_script, DOWNLOAD},
	{GET, "/install-container-agent.sh", api_install_script, DOWNLOAD},
	/* Any credential, no scope, not rate limited, as the original. */
	{GET, "/api/install/install.sh", api_install_script, NO_DB, NULL, RATE_NONE, SMALL},
	{GET, "/api/install/install.ps1", api_install_script, NO_DB, NULL, RATE_NONE, SMALL},
	/* The original's gate comes before its admin and scope checks: a credential (where the
	 * original asks for one) is enough to learn the route is gone. */
	{POST, "/api/temperature-proxy/register", api_sensor_proxy_gone, PUBLIC | GONE},
	{GET, "/api/temperature-proxy/authorized-nodes", api_sensor_proxy_gone, PUBLIC | GONE},
	{DELETE, "/api/temperature-proxy/unregister", api_sensor_proxy_gone, GONE},
	{GET, "/api/temperature-proxy/install-command", api_sensor_proxy_gone, GONE},
	{GET, "/api/temperature-proxy/host-status", api_sensor_proxy_gone, GONE},
	{POST, "/api/diagnostics/temperature-proxy/register-nodes", api_sensor_proxy_gone, GONE},
	{GET, "/api/install/pulse-sensor-proxy", api_sensor_proxy_gone, PUBLIC | GONE},
	{GET, "/api/install/install-sensor-proxy.sh", api_sensor_proxy_gone, PUBLIC | GONE},
	{GET, "/api/install/migrate-sensor-proxy-control-plane.sh", api_sensor_proxy_gone,
	    PUBLIC | GONE},
	{GET, "/api/install/migrate-temperature-proxy.sh", api_sensor_proxy_gone, PUBLIC | GONE},
};

const size_t route_count = ARRAY_LEN(route_table);
