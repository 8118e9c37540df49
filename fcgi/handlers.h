/* handlers.h: every handler the route table names, grouped by the file that holds them. */
#ifndef PULSE_HANDLERS_H
#define PULSE_HANDLERS_H

#include "request.h"

/* api_system.c */
void api_health(struct request *r);
void api_version(struct request *r);
/* api_updates.c */
void api_updates_check(struct request *r);
void api_updates_status(struct request *r);
void api_updates_plan(struct request *r);
void api_updates_history(struct request *r);
void api_updates_history_entry(struct request *r);
void api_updates_apply(struct request *r);
void api_updates_stream(struct request *r);
void api_agent_version(struct request *r);
void api_mock_mode_get(struct request *r);
void api_mock_mode_set(struct request *r);

/* api_settings.c */
void api_system_settings_get(struct request *r);
void api_system_settings_update(struct request *r);
void api_config_system(struct request *r);

/* api_diagnostics.c */
void api_server_info(struct request *r);
void api_diagnostics(struct request *r);
void api_config(struct request *r);

/* api_login.c */
void api_login(struct request *r);
void api_logout(struct request *r);

/* api_oidc.c */
void api_oidc_config_get(struct request *r);
void api_oidc_config_put(struct request *r);
void api_oidc_login(struct request *r);
void api_oidc_callback(struct request *r);

/* api_security.c */
void api_security_status(struct request *r);
void api_rbac_unavailable(struct request *r);
void api_tokens_list(struct request *r);
void api_tokens_create(struct request *r);
void api_tokens_delete(struct request *r);
void api_regenerate_token(struct request *r);
void api_validate_token(struct request *r);
void api_validate_bootstrap_token(struct request *r);
void api_quick_setup(struct request *r);
void api_change_password(struct request *r);
void api_reset_lockout(struct request *r);
void api_recovery(struct request *r);

/* api_config.c */
void api_config_export(struct request *r);
void api_config_import(struct request *r);

/* api_state.c */
void api_state(struct request *r);
void api_backups(struct request *r);
void api_backups_pve(struct request *r);
void api_backups_pbs(struct request *r);
void api_snapshots(struct request *r);

/* api_resources.c */
void api_resources_list(struct request *r);
void api_resources_stats(struct request *r);
void api_resources_get(struct request *r);

/* api_monitoring.c */
void api_scheduler_health(struct request *r);
void api_storage_get(struct request *r);
void api_storage_missing_id(struct request *r);

/* api_metrics.c */
void api_metrics_stats(struct request *r);
void api_metrics_history(struct request *r);
void api_charts(struct request *r);
void api_storage_charts(struct request *r);

/* api_nodes.c */
void api_nodes_list(struct request *r);
void api_nodes_add(struct request *r);
void api_nodes_update(struct request *r);
void api_nodes_delete(struct request *r);
void api_nodes_test_connection(struct request *r);
void api_nodes_test_config(struct request *r);
void api_nodes_test_saved(struct request *r);
void api_nodes_refresh_cluster(struct request *r);

/* api_alerts.c */
void api_alerts_config_get(struct request *r);
void api_alerts_config_put(struct request *r);
void api_alerts_activate(struct request *r);
void api_alerts_active(struct request *r);

/* api_alert_actions.c */
void api_alert_acknowledge(struct request *r);
void api_alert_unacknowledge(struct request *r);
void api_alert_clear(struct request *r);
void api_alert_acknowledge_path(struct request *r);
void api_alert_unacknowledge_path(struct request *r);
void api_alert_clear_path(struct request *r);
void api_alerts_bulk_acknowledge(struct request *r);
void api_alerts_bulk_clear(struct request *r);
void api_alerts_history_get(struct request *r);
void api_alerts_history_delete(struct request *r);
void api_alerts_incidents(struct request *r);
void api_alerts_incident_note(struct request *r);

/* api_notifications.c */
void api_notify_email_get(struct request *r);
void api_notify_email_put(struct request *r);
void api_notify_apprise_get(struct request *r);
void api_notify_apprise_put(struct request *r);
void api_notify_webhooks_list(struct request *r);
void api_notify_webhooks_create(struct request *r);
void api_notify_webhook_update(struct request *r);
void api_notify_webhook_delete(struct request *r);
void api_notify_webhook_templates(struct request *r);
void api_notify_email_providers(struct request *r);
void api_notify_webhook_history(struct request *r);
void api_notify_health(struct request *r);
/* api_notify_test.c */
void api_notifications_test(struct request *r);
void api_test_notification(struct request *r);
void api_notify_webhooks_test(struct request *r);

/* api_agents.c */
/* Shared by the agents' endpoints: the API token a request came with, or NULL (sessions,
 * proxy, Basic); the original's decode failure, 400 invalid_json with the decoder's message
 * in details; the 200 answer {"success":true, id_key: id, "message": message (NULL: none)}. */
const char *api_agents_request_token(struct request *r);
void api_agents_decode_error(struct request *r, const char *message);
void api_agents_answer(struct request *r, const char *id_key, const char *id,
    const char *message);
/* The answer's head {"success":true, id_key: id} (the request's, not sent). */
struct json_object *api_agents_answer_head(struct request *r, const char *id_key,
    const char *id);
/* The same with any member: {"success":true, id_key: id, member: value}; value (NULL: none)
 * is given to the answer. */
void api_agents_answer_with(struct request *r, const char *id_key, const char *id,
    const char *member, struct json_object *value);
/* A report's body, its types checked by check (the decode failure answered): NULL after an
 * answer. */
struct json_object *api_agents_report_body(struct request *r,
    int (*check)(struct json_object *, char *, size_t));
/* A report's answer (the request's, not sent): {"success":true, id_key: id, "lastSeen":
 * RFC 3339}. */
struct json_object *api_agents_report_answer(struct request *r, const char *id_key,
    const char *id, double last_seen);
void api_agents_host_report(struct request *r);
void api_agents_host_lookup(struct request *r);
void api_agents_host_uninstall(struct request *r);
void api_agents_host_unlink(struct request *r);
void api_agents_host_delete(struct request *r);

/* api_agent_config.c */
void api_agents_host_config_get(struct request *r);
void api_agents_host_config_patch(struct request *r);
void api_auto_register(struct request *r);

/* api_setup.c */
void api_setup_script_url(struct request *r);
void api_setup_script(struct request *r);

/* api_discover.c */
void api_discover_get(struct request *r);
void api_discover_scan(struct request *r);

/* api_profiles.c */
void api_profiles_list(struct request *r);
void api_profiles_create(struct request *r);
void api_profiles_update(struct request *r);
void api_profiles_delete(struct request *r);
void api_profiles_assignments(struct request *r);
void api_profiles_assign(struct request *r);
void api_profiles_unassign(struct request *r);

/* api_license.c */
void api_license_status(struct request *r);
void api_license_features(struct request *r);
void api_license_activate(struct request *r);
void api_license_clear(struct request *r);

/* api_reports.c */
void api_reports_generate(struct request *r);

/* api_audit.c */
void api_audit_list(struct request *r);
void api_audit_verify_event(struct request *r);
void api_audit_verify_chain(struct request *r);
void api_audit_webhooks_get(struct request *r);
void api_audit_webhooks_set(struct request *r);

/* api_agents_kube.c */
void api_agents_kube_report(struct request *r);
void api_agents_kube_delete(struct request *r);
void api_agents_kube_allow_reenroll(struct request *r);
void api_agents_kube_unhide(struct request *r);
void api_agents_kube_pending_uninstall(struct request *r);
void api_agents_kube_display_name(struct request *r);

/* api_agents_docker.c */
void api_agents_docker_report(struct request *r);
void api_agents_docker_ack(struct request *r);
void api_agents_docker_host_delete(struct request *r);
void api_agents_docker_allow_reenroll(struct request *r);
void api_agents_docker_unhide(struct request *r);
void api_agents_docker_pending_uninstall(struct request *r);
void api_agents_docker_display_name(struct request *r);
void api_agents_docker_check_updates(struct request *r);
void api_agents_docker_container_update(struct request *r);

/* api_notify_queue.c */
void api_notify_queue_stats(struct request *r);
void api_notify_queue_dlq(struct request *r);
void api_notify_queue_dlq_retry(struct request *r);
void api_notify_queue_dlq_delete(struct request *r);

/* api_prometheus.c */
void api_prometheus_metrics(struct request *r);

/* api_downloads.c */
void api_download_agent(struct request *r);
void api_openapi(struct request *r);
void api_download_host_agent(struct request *r);
void api_download_host_agent_sha256(struct request *r);
void api_download_docker_agent(struct request *r);
void api_install_script(struct request *r);
void api_sensor_proxy_gone(struct request *r);

#endif
