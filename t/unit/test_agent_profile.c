/* test_agent_profile.c: the parts of src/agent_profile.c, src/agent_config.c and
 * src/agent_config_register.c that need no database: the profile and assignment JSON
 * (agents.md §7), the remote configuration's "config" member (§6.5) and the check of an
 * auto-registration (§9.10). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "agent_config.h"
#include "agent_config_register.h"
#include "agent_profile.h"
#include "jsonread.h"
#include "tap.h"

static const char *
text(struct json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
}

static void
test_profile_json(void)
{
	struct json_object *o = agent_profile_json("0b6c", "Docker hosts",
	    "{\"enable_docker\":true,\"interval\":\"15s\"}", 1768212930.5, 1768212931);

	is_str(text(o), "{\"id\":\"0b6c\",\"name\":\"Docker hosts\",\"config\":{\"enable_docker\":"
	    "true,\"interval\":\"15s\"},\"created_at\":\"2026-01-12T10:15:30.5Z\",\"updated_at\":"
	    "\"2026-01-12T10:15:31Z\"}", "a profile in the original's names and RFC 3339 times");
	json_object_put(o);
	o = agent_profile_json("x", "n", "[1,2]", 0, 0);
	ok(jsonread_is_object(jsonread_member(o, "config")) &&
	    json_object_object_length(jsonread_member(o, "config")) == 0,
	    "a stored config that is not an object is shown as {}");
	json_object_put(o);
	o = agent_profile_assignment_json("host-1", "p-1", 1768212930);
	is_str(text(o), "{\"agent_id\":\"host-1\",\"profile_id\":\"p-1\",\"updated_at\":"
	    "\"2026-01-12T10:15:30Z\"}", "an assignment");
	json_object_put(o);
}

static void
test_config_json(void)
{
	struct agent_config_view v = {0};
	struct json_object *o;

	v.commands_enabled = -1;
	o = agent_config_json(&v);
	is_str(text(o), "{}", "no override and no profile: an empty config");
	json_object_put(o);
	v.commands_enabled = 0;
	v.settings = json_tokener_parse("{\"interval\":\"1m\"}");
	o = agent_config_json(&v);
	is_str(text(o), "{\"commandsEnabled\":false,\"settings\":{\"interval\":\"1m\"}}",
	    "the override (false is shown) and the profile's settings");
	json_object_put(o);
	agent_config_view_clear(&v);
	ok(v.settings == NULL, "clearing releases the settings");
}

static int
check(const char *type, const char *host, const char *token_id, const char *value,
    const char *source, char *norm, char *err)
{
	struct agent_register reg = {type, host, "pve1", token_id, value, source};

	return agent_register_check(&reg, norm, 300, err, 256);
}

static void
test_register_check(void)
{
	char norm[300], err[256];

	is_int(check("pve", "192.168.1.10", "pulse-monitor@pam!pulse-1", "s", "agent", norm, err),
	    0, "a PVE registration as the agent sends it");
	is_str(norm, "https://192.168.1.10:8006", "its host normalised with the PVE port");
	is_int(check("pbs", "https://pbs.lan:8007/", "pulse-monitor@pbs!p", "s", "", norm, err), 0,
	    "a PBS registration without a source");
	is_str(norm, "https://pbs.lan:8007", "its host without the path");
	is_int(check("pmg", "h", "a@b!c", "s", "agent", norm, err), -1, "a PMG is not registered");
	is_str(err, "type must be 'pve' or 'pbs'", "with the original's words");
	is_int(check("pve", "", "a@b!c", "s", "agent", norm, err), -1, "no host");
	is_str(err, "Missing required fields", "the original's words for a missing field");
	is_int(check("pve", "h", "a@b!c", "", "agent", norm, err), -1, "no token value");
	is_int(check("pve", "h", "pulse-1", "s", "agent", norm, err), -1,
	    "a token id without user@realm!");
	is_int(check("pve", "h", "a@b!", "s", "agent", norm, err), -1, "a token id without a name");
	is_int(check("pve", "h", "a@b!c", "s", "ui", norm, err), -1, "an unknown source");
	is_int(check("pve", "https://[::1", "a@b!c", "s", "agent", norm, err), -1,
	    "a host that is not one");
}

int
main(void)
{
	test_profile_json();
	test_config_json();
	test_register_check();
	return done_testing();
}
