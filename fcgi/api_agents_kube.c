/* api_agents_kube.c: the Kubernetes agents' endpoints (agents.md §5): the report and the
 * cluster management of §5.4. The report is stored here; the worker evaluates it. */
#include "config.h"

#include "agent_kube.h"
#include "handlers.h"
#include "jsonread.h"
#include "jsonwrite.h"
#include "log.h"
#include "timefmt.h"
#include "util.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

/* A refused report: 400 invalid_report with the original's words (the agent looks for
 * "was removed" to stop). */
static void
refuse(struct request *r, const struct agent_kube_stored *s, enum agent_kube_result why)
{
	char message[800], when[48], hint[140] = "";

	switch (why) {
	case AGENT_KUBE_NO_ID:
		snprintf(message, sizeof(message), "kubernetes report missing cluster identifier");
		break;
	case AGENT_KUBE_REMOVED:
		snprintf(message, sizeof(message), "kubernetes cluster \"%s\" was removed at %s and "
		    "cannot report again. Use Allow re-enroll in Settings or rerun the installer with a "
		    "kubernetes:manage token to clear this block", s->id,
		    timefmt_rfc3339(s->removed_at, when, sizeof(when)));
		break;
	default:
		if (s->token_hint[0])
			snprintf(hint, sizeof(hint), " (%s)", s->token_hint);
		snprintf(message, sizeof(message), "API token%s is already in use by agent \"%s\". "
		    "Each Kubernetes agent must use a unique API token. Generate a new token for "
		    "this agent", hint, s->bound_agent);
		break;
	}
	resp_error(r, 400, "invalid_report", "%s", message);
}

void
api_agents_kube_report(struct request *r)
{
	struct json_object *report = api_agents_report_body(r, agent_kube_check_types), *out;
	struct agent_kube_stored stored;
	enum agent_kube_result rc;
	char err[256];

	if (report == NULL)
		return;
	rc = agent_kube_store(r->db, report, api_agents_request_token(r), clock_wall(), &stored,
	    err, sizeof(err));
	if (rc == AGENT_KUBE_ERROR) {
		log_error("msg=\"kubernetes report not stored\" error=\"%s\"", err);
		resp_db_unavailable_msg(r, "Failed to store the kubernetes report");
		return;
	}
	if (rc != AGENT_KUBE_OK) {
		if (rc == AGENT_KUBE_REMOVED)
			log_info("msg=\"report of a removed kubernetes cluster refused\" cluster=\"%s\"",
			    stored.id);
		refuse(r, &stored, rc);
		return;
	}
	out = api_agents_report_answer(r, "clusterId", stored.id, stored.last_seen);
	jsonwrite_int(out, "nodes", stored.nodes);
	jsonwrite_int(out, "pods", stored.pods);
	jsonwrite_int(out, "deployments", stored.deployments);
	resp_json(r, 200, out);
}

/* The trimmed {id} of the path into id, or 0 after answering 400. */
static int
cluster_id(struct request *r, char *id, size_t len)
{
	jsonread_copy_trimmed(id, len, req_path_param(r, "id"));
	if (id[0])
		return 1;
	resp_error(r, 400, "missing_cluster_id", "Kubernetes cluster ID is required");
	return 0;
}

/* Answers an action's result rc (1 done, 0 unknown cluster, -1 database) with message. */
static void
answer(struct request *r, const char *id, int rc, const char *message)
{
	if (rc < 0)
		resp_db_unavailable(r);
	else if (rc == 0)
		resp_error(r, 404, "kubernetes_cluster_not_found",
		    "kubernetes cluster \"%s\" not found", id);
	else
		api_agents_answer(r, "clusterId", id, message);
}

void
api_agents_kube_delete(struct request *r)
{
	char id[AGENT_KUBE_ID_MAX], err[256];
	int revoked;

	if (!cluster_id(r, id, sizeof(id)))
		return;
	if (agent_kube_remove(r->db, id, &revoked, err, sizeof(err)) != 0) {
		log_error("msg=\"kubernetes cluster removal failed\" cluster=\"%s\" error=\"%s\"", id,
		    err);
		resp_db_unavailable_msg(r, "Failed to remove the kubernetes cluster");
		return;
	}
	log_info("msg=\"kubernetes cluster removed\" cluster=\"%s\" token_revoked=%d", id, revoked);
	answer(r, id, 1, "Kubernetes cluster removed");
}

void
api_agents_kube_allow_reenroll(struct request *r)
{
	char id[AGENT_KUBE_ID_MAX];

	if (cluster_id(r, id, sizeof(id)))
		answer(r, id, agent_kube_allow_reenroll(r->db, id), NULL);
}

void
api_agents_kube_unhide(struct request *r)
{
	char id[AGENT_KUBE_ID_MAX];

	if (cluster_id(r, id, sizeof(id)))
		answer(r, id, agent_kube_unhide(r->db, id), "Kubernetes cluster unhidden");
}

void
api_agents_kube_pending_uninstall(struct request *r)
{
	char id[AGENT_KUBE_ID_MAX];

	if (cluster_id(r, id, sizeof(id)))
		answer(r, id, agent_kube_mark_pending_uninstall(r->db, id),
		    "Kubernetes cluster marked as pending uninstall");
}

void
api_agents_kube_display_name(struct request *r)
{
	struct json_object *body;
	const char *name = NULL;
	char id[AGENT_KUBE_ID_MAX], trimmed[256];

	if (!cluster_id(r, id, sizeof(id)) || (body = req_body_object(r, 0)) == NULL ||
	    req_body_string(r, body, "displayName", 0, sizeof(trimmed) - 1, &name) < 0)
		return;
	jsonread_copy_trimmed(trimmed, sizeof(trimmed), name ? name : "");
	answer(r, id, agent_kube_set_display_name(r->db, id, trimmed),
	    "Kubernetes cluster custom display name updated");
}
