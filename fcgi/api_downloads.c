/* api_downloads.c: the agent's binary and installer scripts for download, their legacy paths
 * (agents.md §8), and the retired temperature-proxy routes, which answer 410 (§11). */
#include "config.h"

#include "handlers.h"
#include "conf.h"
#include "crypto.h"
#include "log.h"
#include "router.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The architecture the build's own pulse-agent runs on, in the original's names: the file
 * named plainly pulse-agent in agent_binary_dir is served for it. */
#if defined(__x86_64__)
#define OWN_ARCH "linux-amd64"
#elif defined(__aarch64__)
#define OWN_ARCH "linux-arm64"
#elif defined(__arm__) && defined(__ARM_ARCH) && __ARM_ARCH >= 7
#define OWN_ARCH "linux-armv7"
#elif defined(__arm__)
#define OWN_ARCH "linux-armv6"
#elif defined(__i386__)
#define OWN_ARCH "linux-386"
#else
#define OWN_ARCH ""
#endif

#define AGENT_NOT_FOUND "Agent binary not found. Specify ?arch=linux-amd64 (or your architecture)"
#define STREAM_CHUNK (64 * 1024)
#define CHECKSUM_SLOTS 8

/* The names the original accepts for each architecture (§8.1); the legacy Docker download
 * also takes one more spelling of two of them (§8.2). */
struct arch_names {
	const char *canonical;
	const char *aliases[4];
	const char *docker_alias;
};

static const struct arch_names arch_table[] = {
	{"linux-amd64", {"amd64", "x86_64"}, "x86-64"},
	{"linux-arm64", {"arm64", "aarch64"}, NULL},
	{"linux-armv7", {"armv7", "armv7l", "armhf"}, NULL},
	{"linux-armv6", {"armv6"}, "armv6l"},
	{"linux-386", {"386", "i386", "i686"}, NULL},
	{"darwin-amd64", {"macos-amd64"}, NULL},
	{"darwin-arm64", {"macos-arm64"}, NULL},
	{"windows-amd64", {NULL}, NULL},
	{"windows-arm64", {NULL}, NULL},
	{"windows-386", {NULL}, NULL},
};

/* The canonical name of an arch parameter, or NULL when it names none (the original then
 * serves as if no arch was given). */
static const char *
arch_canonical(const char *arch, int docker)
{
	if (arch == NULL || *arch == '\0')
		return NULL;
	for (size_t i = 0; i < ARRAY_LEN(arch_table); i++) {
		const struct arch_names *a = &arch_table[i];
		if (strcasecmp(arch, a->canonical) == 0 ||
		    (docker && a->docker_alias && strcasecmp(arch, a->docker_alias) == 0))
			return a->canonical;
		for (int j = 0; j < 4 && a->aliases[j]; j++)
			if (strcasecmp(arch, a->aliases[j]) == 0)
				return a->canonical;
	}
	return NULL;
}

/* --- checksums ---------------------------------------------------------------------- */

/* The sha256 of a served file, remembered for as long as the file is the same (device,
 * inode, size and modification time), so a download costs no hashing after the first. */
struct checksum_slot {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	char hex[65];
};

static struct {
	pthread_mutex_t lock;
	struct checksum_slot slots[CHECKSUM_SLOTS];
	int next;
} checksums = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int
checksum_same_file(const struct checksum_slot *s, const struct stat *st)
{
	return s->hex[0] && s->dev == st->st_dev && s->ino == st->st_ino &&
	    s->size == st->st_size && s->mtime.tv_sec == st->st_mtim.tv_sec &&
	    s->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

/* Writes the lowercase hex sha256 of the open regular file fd (described by st) into hex.
 * Returns 0, or -1 when the file cannot be mapped. */
static int
file_checksum(int fd, const struct stat *st, char hex[65])
{
	struct checksum_slot *slot;
	void *map;
	int found = 0;

	pthread_mutex_lock(&checksums.lock);
	for (int i = 0; i < CHECKSUM_SLOTS && !found; i++) {
		if (checksum_same_file(&checksums.slots[i], st)) {
			memcpy(hex, checksums.slots[i].hex, 65);
			found = 1;
		}
	}
	pthread_mutex_unlock(&checksums.lock);
	if (found)
		return 0;
	if (st->st_size == 0) {
		crypto_sha256_hex("", 0, hex);
	} else {
		/* Mapped, not read: the hash needs no copy of the binary in the heap. */
		map = mmap(NULL, (size_t)st->st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED)
			return -1;
		crypto_sha256_hex(map, (size_t)st->st_size, hex);
		munmap(map, (size_t)st->st_size);
	}
	pthread_mutex_lock(&checksums.lock);
	slot = &checksums.slots[checksums.next];
	checksums.next = (checksums.next + 1) % CHECKSUM_SLOTS;
	slot->dev = st->st_dev;
	slot->ino = st->st_ino;
	slot->size = st->st_size;
	slot->mtime = st->st_mtim;
	memcpy(slot->hex, hex, 65);
	pthread_mutex_unlock(&checksums.lock);
	return 0;
}

/* --- serving a file ----------------------------------------------------------------- */

enum serve_what {
	SERVE_BODY,		/* the file as it is */
	SERVE_BODY_CHECKSUM,	/* the file with X-Checksum-Sha256 */
	SERVE_CHECKSUM_TEXT,	/* "<hex>\n" instead of the file */
};

/* Opens dir/name as a regular file. Returns the descriptor, or -1 when there is none
 * (anything but a missing file is logged). */
static int
open_served(const char *dir, const char *name, struct stat *st)
{
	char path[PATH_MAX];
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			log_warn("msg=\"download not readable\" path=%s error=\"%s\"", path,
			    strerror(errno));
		return -1;
	}
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends the open file fd as the answer: Content-Length, Last-Modified, the no-cache headers,
 * then the body streamed in pieces (none for HEAD). Closes fd. */
static void
send_file(struct request *r, int fd, const struct stat *st, const char *content_type,
    enum serve_what what)
{
	char hex[65], date[64], len[32];
	struct tm tm;
	char *buf;
	off_t sent = 0;

	if (what != SERVE_BODY && file_checksum(fd, st, hex) != 0) {
		close(fd);
		resp_error(r, 500, "checksum_failed", "Could not read the file");
		return;
	}
	resp_header(r, "Pragma", "no-cache");
	resp_header(r, "Expires", "0");
	if (what == SERVE_CHECKSUM_TEXT) {
		close(fd);
		hex[64] = '\n';
		resp_raw(r, 200, "text/plain; charset=utf-8", hex, 65);
		return;
	}
	if (what == SERVE_BODY_CHECKSUM)
		resp_header(r, "X-Checksum-Sha256", hex);
	gmtime_r(&st->st_mtim.tv_sec, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	resp_header(r, "Last-Modified", date);
	snprintf(len, sizeof(len), "%lld", (long long)st->st_size);
	resp_header(r, "Content-Length", len);
	resp_stream_begin(r, 200, content_type);
	buf = r->method == REQ_METHOD_HEAD ? NULL : arena_alloc(r->arena, STREAM_CHUNK);
	while (buf && sent < st->st_size) {
		ssize_t n = read(fd, buf, STREAM_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_warn("msg=\"download cut short\" path=%s sent=%lld size=%lld",
			    r->raw_path, (long long)sent, (long long)st->st_size);
			break;
		}
		if (resp_stream_write(r, buf, (size_t)n) != 0)
			break;	/* the client went away */
		sent += n;
	}
	close(fd);
}

/* Serves the first of the names (NULL-terminated) present in dir. Returns 0 once answered,
 * -1 when none is there. */
static int
serve_first(struct request *r, const char *dir, const char *const *names,
    const char *content_type, enum serve_what what)
{
	struct stat st;

	for (int i = 0; names[i]; i++) {
		int fd = open_served(dir, names[i], &st);
		if (fd >= 0) {
			send_file(r, fd, &st, content_type, what);
			return 0;
		}
	}
	return -1;
}

/* GET|HEAD /api/openapi.json: the OpenAPI document made at build time (openapi_file), as it
 * is on disk. */
void
api_openapi(struct request *r)
{
	struct stat st;
	int fd = open(conf_str("openapi_file"), O_RDONLY | O_CLOEXEC);

	if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		log_warn("msg=\"OpenAPI document not readable\" path=%s", conf_str("openapi_file"));
		resp_error(r, 404, "not_found", "The OpenAPI document is not installed");
		return;
	}
	send_file(r, fd, &st, "application/json", SERVE_BODY);
}

/* A plain-text answer, as the original gives for these routes. */
static void
text_answer(struct request *r, int status, const char *code, const char *text)
{
	r->error_code = code;
	resp_raw(r, status, "text/plain; charset=utf-8", text, strlen(text));
}

static void
not_found_text(struct request *r, const char *text)
{
	text_answer(r, 404, "not_found", text);
}

/* --- the agent ---------------------------------------------------------------------- */

/* GET|HEAD /download/pulse-agent[?arch=]: pulse-agent-<arch> when that file is there; the
 * plain pulse-agent for this machine's own architecture or when no arch is named. */
void
api_download_agent(struct request *r)
{
	const char *arch = arch_canonical(req_query(r, "arch"), 0);
	const char *names[3] = {NULL, NULL, NULL};
	int n = 0;

	if (arch)
		names[n++] = arena_printf(r->arena, "pulse-agent-%s", arch);
	if (arch == NULL || strcmp(arch, OWN_ARCH) == 0)
		names[n++] = "pulse-agent";
	if (serve_first(r, conf_str("agent_binary_dir"), names, "application/octet-stream",
	    SERVE_BODY_CHECKSUM) != 0)
		not_found_text(r, AGENT_NOT_FOUND);
}

/* A legacy parameter: absent, or letters, digits and '-' (else the original answers 400). */
static int
legacy_param_ok(const char *v)
{
	return v == NULL || (*v && strspn(v, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") == strlen(v));
}

/* GET|HEAD /download/pulse-host-agent[.sha256]?platform=&arch= (§8.2): the original's
 * pulse-host-agent-<platform>[-<arch>] files when present, else our pulse-agent (which
 * takes the host agent's flags) for linux on this machine's architecture. */
static void
download_host_agent(struct request *r, enum serve_what what)
{
	const char *platform = req_query(r, "platform"), *arch = req_query(r, "arch");
	const char *names[4] = {NULL, NULL, NULL, NULL};
	const char *canonical;
	int n = 0, ours;

	if (platform && *platform == '\0')
		platform = NULL;
	if (arch && *arch == '\0')
		arch = NULL;
	if (!legacy_param_ok(platform) || !legacy_param_ok(arch)) {
		text_answer(r, 400, "invalid_parameter", "Invalid platform or arch\n");
		return;
	}
	if (platform && arch) {
		names[n++] = arena_printf(r->arena, "pulse-host-agent-%s-%s", platform, arch);
		if (strstr(platform, "windows"))
			names[n++] = arena_printf(r->arena, "pulse-host-agent-%s-%s.exe", platform,
			    arch);
	} else if (platform) {
		names[n++] = arena_printf(r->arena, "pulse-host-agent-%s", platform);
	} else {
		names[n++] = "pulse-host-agent";
	}
	canonical = arch ? arch_canonical(arch, 0) : NULL;
	ours = (platform == NULL || strcasecmp(platform, "linux") == 0) &&
	    (arch == NULL || (canonical && strcmp(canonical, OWN_ARCH) == 0));
	if (ours)
		names[n++] = "pulse-agent";
	if (serve_first(r, conf_str("agent_binary_dir"), names, "application/octet-stream",
	    what) != 0)
		not_found_text(r, "Host agent binary not found for this platform and "
		    "architecture.\n");
}

void
api_download_host_agent(struct request *r)
{
	download_host_agent(r, SERVE_BODY);
}

void
api_download_host_agent_sha256(struct request *r)
{
	download_host_agent(r, SERVE_CHECKSUM_TEXT);
}

/* GET|HEAD /download/pulse-docker-agent[?arch=] (§8.2): the original's Docker agent files
 * when present, else our pulse-agent for this machine's architecture. */
void
api_download_docker_agent(struct request *r)
{
	const char *arch = arch_canonical(req_query(r, "arch"), 1);
	const char *names[4] = {NULL, NULL, NULL, NULL};
	int n = 0;

	if (arch)
		names[n++] = arena_printf(r->arena, "pulse-docker-agent-%s", arch);
	names[n++] = "pulse-docker-agent";
	if (arch == NULL || strcmp(arch, OWN_ARCH) == 0)
		names[n++] = "pulse-agent";
	if (serve_first(r, conf_str("agent_binary_dir"), names, "application/octet-stream",
	    SERVE_BODY_CHECKSUM) != 0)
		not_found_text(r, "Agent binary not found");
}

/* --- installer scripts -------------------------------------------------------------- */

/* Which file of agent_script_dir each script route serves (§8.2, §8.3). */
static const struct {
	const char *route;
	const char *file;
} script_routes[] = {
	{"/install.sh", "install.sh"},
	{"/api/install/install.sh", "install.sh"},
	{"/install-host-agent.sh", "install.sh"},
	{"/install-container-agent.sh", "install.sh"},
	{"/install-docker-agent.sh", "install-docker-agent.sh"},
	{"/uninstall-host-agent.sh", "uninstall-host-agent.sh"},
	{"/install.ps1", "install.ps1"},
	{"/api/install/install.ps1", "install.ps1"},
	{"/install-host-agent.ps1", "install.ps1"},
	{"/uninstall-host-agent.ps1", "install.ps1"},
};

/* The scripts are served verbatim (no templating, as the original): the URL and token are
 * the script's arguments. */
void
api_install_script(struct request *r)
{
	const char *file = NULL, *names[2] = {NULL, NULL};
	size_t len;

	for (size_t i = 0; i < ARRAY_LEN(script_routes) && file == NULL; i++)
		if (strcmp(r->route->pattern, script_routes[i].route) == 0)
			file = script_routes[i].file;
	if (file == NULL) {
		not_found_text(r, "Script not found\n");
		return;
	}
	len = strlen(file);
	names[0] = file;
	resp_header(r, "Content-Disposition",
	    arena_printf(r->arena, "inline; filename=\"%s\"", file));
	if (serve_first(r, conf_str("agent_script_dir"), names,
	    len > 4 && strcmp(file + len - 4, ".ps1") == 0 ? "text/plain; charset=utf-8" :
	    "text/x-shellscript", SERVE_BODY) != 0)
		not_found_text(r, "Script not found\n");
}

/* --- the temperature proxy ---------------------------------------------------------- */

/* Every pulse-sensor-proxy route (§11): 410 with the original's body. Its enabled behaviour
 * needs pulse-sensor-proxy on the Proxmox hosts, which we do not ship; host agents linked to
 * the nodes give the temperatures instead. */
void
api_sensor_proxy_gone(struct request *r)
{
	static const char message[] = "pulse-sensor-proxy is deprecated and disabled by default in v5";
	struct json_object *extra = req_json(r, json_object_new_object());
	struct json_object *details = json_object_new_object();

	json_object_object_add(details, "migration",
	    json_object_new_string("Use pulse-agent --enable-proxmox for temperature monitoring."));
	json_object_object_add(details, "enable_env", json_object_new_string(
	    "Set PULSE_ENABLE_SENSOR_PROXY=true (unsupported legacy) and restart Pulse to "
	    "re-enable these endpoints."));
	json_object_object_add(extra, "details", details);
	resp_header(r, "Warning", "299 - \"pulse-sensor-proxy is deprecated and disabled by "
	    "default in v5\"");
	resp_error_with(r, 410, "sensor_proxy_disabled", message, extra);
}
