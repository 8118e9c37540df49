/* agent_profile.h: agent profiles and their assignments (agents.md §7) in PostgreSQL
 * (sql/0017_agent_profiles.sql), in the original's JSON (AgentProfile, AgentProfileAssignment). */
#ifndef PULSE_AGENT_PROFILE_H
#define PULSE_AGENT_PROFILE_H

#include <json-c/json.h>

#include "db.h"

/* Bounds of what a request may name (the body limit bounds a profile's config). */
#define AGENT_PROFILE_NAME_MAX 256
#define AGENT_PROFILE_ID_MAX 200

/* A profile in the original's JSON: {"id","name","config","created_at","updated_at"} with
 * RFC 3339 times (unix seconds in). config_text is the stored JSON object ("{}" when it is
 * not one). A new object, the caller's. */
struct json_object *agent_profile_json(const char *id, const char *name, const char *config_text,
    double created_at, double updated_at);

/* An assignment: {"agent_id","profile_id","updated_at"}. A new object, the caller's. */
struct json_object *agent_profile_assignment_json(const char *agent_id, const char *profile_id,
    double updated_at);

/* The profiles, oldest first, as a JSON array (the caller's); NULL on a database error. */
struct json_object *agent_profile_list(struct db *db);

/* Creates a profile with a new UUIDv4 and the server's times; config is an object or NULL
 * ({}). Returns it (the caller's), or NULL on a database error. */
struct json_object *agent_profile_create(struct db *db, const char *name,
    struct json_object *config);

/* Replaces a profile's name and config and moves updated_at. 1 with *out (the caller's), 0
 * when the id is unknown, -1 on a database error. */
int agent_profile_update(struct db *db, const char *id, const char *name,
    struct json_object *config, struct json_object **out);

/* Deletes a profile and every assignment to it, in one transaction. 1 done, 0 unknown id,
 * -1 on a database error. */
int agent_profile_delete(struct db *db, const char *id);

/* The assignments by agent id as a JSON array (the caller's); NULL on a database error. */
struct json_object *agent_profile_assignments(struct db *db);

/* Assigns profile_id (not checked, as the original) to agent_id, replacing its previous
 * one. Returns the assignment (the caller's), or NULL on a database error. */
struct json_object *agent_profile_assign(struct db *db, const char *agent_id,
    const char *profile_id);

/* Removes agent_id's assignment if it has one. 0, or -1 on a database error. */
int agent_profile_unassign(struct db *db, const char *agent_id);

#endif
