/* test_instances.c: the monitor flag table (every flag once, its field, its default, the PMG
 * mail statistics rule whatever the table's order) and INSTANCE_COLUMNS derived from it. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "instances.h"
#include "tap.h"
#include "util.h"

static int
flag_index(const char *json)
{
	for (int i = 0; i < INSTANCE_NFLAGS; i++)
		if (strcmp(instance_flags[i].json, json) == 0)
			return i;
	return -1;
}

int
main(void)
{
	struct instance_cfg c;
	int given[INSTANCE_NFLAGS] = {0}, value[INSTANCE_NFLAGS] = {0};
	int mail = flag_index("monitorMailStats"), queues = flag_index("monitorQueues");
	int vms = flag_index("monitorVMs"), datastores = flag_index("monitorDatastores");
	int commas = 0;

	is_int(INSTANCE_NFLAGS, 13, "thirteen monitor flags");
	ok(mail >= 0 && queues >= 0 && vms >= 0 && datastores >= 0, "the flags are found by JSON name");
	for (int i = 0; i < INSTANCE_NFLAGS; i++) {
		ok(strstr(INSTANCE_COLUMNS, instance_flags[i].column) != NULL, "%s is selected",
		    instance_flags[i].column);
		ok(instance_flags[i].types != 0, "%s belongs to a type", instance_flags[i].json);
	}
	for (const char *p = INSTANCE_COLUMNS; *p; p++)
		commas += *p == ',';
	is_int(commas + 1, 11 + INSTANCE_NFLAGS + 7, "INSTANCE_COLUMNS: fixed columns and one per flag");

	/* Each flag reads and writes its own field. */
	memset(&c, 0, sizeof(c));
	instance_flag_set(&c, vms, 1);
	is_int(c.monitor_vms, 1, "monitorVMs is monitor_vms");
	instance_flag_set(&c, flag_index("monitorDomainStats"), 1);
	is_int(c.monitor_domain_stats, 1, "monitorDomainStats is monitor_domain_stats");
	is_int(instance_flag_get(&c, flag_index("monitorGarbageJobs")), 0, "other fields untouched");

	is_int(instance_type_bit("pve"), INSTANCE_TYPE_PVE, "pve");
	is_int(instance_type_bit("pmg"), INSTANCE_TYPE_PMG, "pmg");
	is_int(instance_type_bit("xyz"), 0, "an unknown type");
	ok(instance_flags[flag_index("monitorBackups")].types & INSTANCE_TYPE_PBS, "backups: PBS too");

	/* Defaults on add. */
	is_int(instance_flag_on_add(vms, given, value), 1, "monitorVMs on by default");
	is_int(instance_flag_on_add(datastores, given, value), 0, "monitorDatastores off by default");
	is_int(instance_flag_on_add(mail, given, value), 1, "mail statistics on when nothing is chosen");
	given[queues] = 1;
	is_int(instance_flag_on_add(mail, given, value), 1, "... and when another PMG flag is given off");
	value[queues] = 1;
	is_int(instance_flag_on_add(mail, given, value), 0, "off when another PMG flag is given on");
	given[mail] = 1;
	value[mail] = 1;
	is_int(instance_flag_on_add(mail, given, value), 1, "given explicitly: as given");
	memset(given, 0, sizeof(given));
	memset(value, 0, sizeof(value));
	given[vms] = value[vms] = 1;
	is_int(instance_flag_on_add(mail, given, value), 1, "a flag of another type does not count");

	/* As the node API shows them. */
	memset(&c, 0, sizeof(c));
	is_int(instance_flag_shown(&c, mail), 1, "mail statistics shown on when no PMG flag is on");
	c.monitor_quarantine = 1;
	is_int(instance_flag_shown(&c, mail), 0, "not when another PMG flag is on");
	c.monitor_mail_stats = 1;
	is_int(instance_flag_shown(&c, mail), 1, "on when on");
	is_int(instance_flag_shown(&c, vms), 0, "an ordinary flag as stored");

	/* INSERT and UPDATE from a cfg and a mask of the fields present. */
	{
		struct instance_sql sql = {0};
		uint64_t all = 0;

		memset(&c, 0, sizeof(c));
		snprintf(c.id, sizeof(c.id), "pve-7");
		c.number = 7;
		c.monitor_physical_disks = -1;
		c.monitor_vms = 1;
		instances_insert_sql(&c, INSTANCE_BIT(INSTANCE_F_ID) | INSTANCE_BIT(INSTANCE_F_NUMBER) |
		    INSTANCE_BIT(INSTANCE_F_FLAG + vms) | INSTANCE_BIT(INSTANCE_F_CLUSTER_ENDPOINTS), &sql);
		is_str(sql.text, "INSERT INTO pulse.instances (id, number, monitor_vms, cluster_endpoints) "
		    "VALUES ($1, $2, $3, $4)", "insert: the columns present, in order");
		is_int(sql.nparams, 4, "insert: four parameters");
		is_str(sql.params[1], "7", "insert: the number as text");
		is_str(sql.params[2], "true", "insert: a flag as a boolean");
		is_str(sql.params[3], "[]", "insert: no endpoints: an empty list");
		instance_sql_clear(&sql);

		sql.value[INSTANCE_F_NAME] = "a name longer than the cfg holds";
		instances_update_sql(&c, INSTANCE_BIT(INSTANCE_F_NAME) | INSTANCE_BIT(INSTANCE_F_PHYSICAL_DISKS) |
		    INSTANCE_BIT(INSTANCE_F_PASSWORD_ENC), &sql);
		is_str(sql.text, "UPDATE pulse.instances SET name = $2, password_enc = $3, "
		    "monitor_physical_disks = $4, updated_at = now() WHERE id = $1", "update: SET list");
		is_str(sql.params[0], "pve-7", "update: the id is $1");
		is_str(sql.params[1], "a name longer than the cfg holds", "update: a value given as text");
		ok(sql.params[2] == NULL, "update: no secret is NULL");
		ok(sql.params[3] == NULL, "update: an unset boolean is NULL");
		instance_sql_clear(&sql);

		for (int f = 0; f < INSTANCE_F_COUNT; f++)
			all |= INSTANCE_BIT(f);
		instances_insert_sql(&c, all, &sql);
		is_int(sql.nparams, INSTANCE_F_COUNT, "every field fits: no fixed parameter array to overflow");
		instance_sql_clear(&sql);
	}
	return done_testing();
}
