/* test_conf.c: the settings file, validation, environment overrides. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "tap.h"

static char path[] = "/tmp/pulse-test-conf-XXXXXX";

static void
write_conf(const char *text)
{
	FILE *fp = fopen(path, "w");
	fputs(text, fp);
	fclose(fp);
}

int
main(void)
{
	char err[512], name[64];
	int fd = mkstemp(path);

	close(fd);
	unsetenv("PULSE_THREADS");
	unsetenv("PULSE_DATABASE_URL");

	ok(conf_load(NULL, 0, err, sizeof(err)) == 0, "defaults load");
	is_int(conf_int("threads"), 4, "threads default");
	is_int(conf_int("body_limit"), 16 * 1024 * 1024, "body_limit default is 16M");
	is_int(conf_int("socket_mode"), 0660, "socket_mode is octal");
	ok(conf_bool("access_log"), "access_log default true");

	write_conf("# comment\n\nthreads = 8\n database_url = \"host=a,b dbname=p\" \n"
	    "log_level=debug\n");
	ok(conf_load(path, 1, err, sizeof(err)) == 0, "file loads");
	is_int(conf_int("threads"), 8, "threads from file");
	is_str(conf_str("database_url"), "host=a,b dbname=p", "quoted value unquoted");

	setenv("PULSE_THREADS", "12", 1);
	ok(conf_load(path, 1, err, sizeof(err)) == 0, "file plus env loads");
	is_int(conf_int("threads"), 12, "environment overrides file");
	setenv("PULSE_THREADS", "0", 1);
	ok(conf_load(path, 1, err, sizeof(err)) != 0, "env value out of range refused");
	ok(strstr(err, "PULSE_THREADS") != NULL, "error names the variable: %s", err);
	unsetenv("PULSE_THREADS");

	write_conf("thread = 3\n");
	ok(conf_load(path, 1, err, sizeof(err)) != 0, "unknown key refused");
	ok(strstr(err, ":1:") != NULL, "error has the line number: %s", err);
	write_conf("threads 3\n");
	ok(conf_load(path, 1, err, sizeof(err)) != 0, "missing = refused");
	write_conf("threads = many\n");
	ok(conf_load(path, 1, err, sizeof(err)) != 0, "non-number refused");
	write_conf("body_limit = 1T\n");
	ok(conf_load(path, 1, err, sizeof(err)) != 0, "bad size refused");
	write_conf("socket_mode = 0999\n");
	ok(conf_load(path, 1, err, sizeof(err)) != 0, "bad mode refused");
	write_conf("log_level = loud\n");
	ok(conf_load(path, 1, err, sizeof(err)) != 0, "bad level refused");
	write_conf("database_url = password=hunter2 dbname=x\nthreads = -1\n");
	ok(conf_load(path, 1, err, sizeof(err)) != 0 && strstr(err, "hunter2") == NULL,
	    "errors never echo another key's secret");

	unlink(path);
	ok(conf_load(path, 0, err, sizeof(err)) == 0, "missing optional file is fine");
	ok(conf_load(path, 1, err, sizeof(err)) != 0, "missing required file is an error");

	conf_env_name("database_url", name, sizeof(name));
	is_str(name, "PULSE_DATABASE_URL", "environment name");
	return done_testing();
}
