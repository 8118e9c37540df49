/* test_agent_parse.c: the agent's Linux parsers (agent/proc.c, disks.c, mdstat.c, sensors.c,
 * identity.c) fed recorded texts. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../agent/agent.h"
#include "util.h"
#include "tap.h"

static const char stat_a[] =
    "cpu  1000 50 300 8000 100 10 20 5 7 0\n"
    "cpu0 500 25 150 4000 50 5 10 2 3 0\n"
    "cpu1 500 25 150 4000 50 5 10 3 4 0\n"
    "intr 12345\nctxt 999\n";
static const char stat_b[] =
    "cpu  1100 50 350 8300 150 10 20 5 7 0\n";

static void
test_cpu(void)
{
	struct agent_cpu_times a, b;
	static const char cpuinfo[] =
	    "processor\t: 0\nvendor_id\t: GenuineIntel\n\nprocessor\t: 1\nmodel name\t: X\n\n"
	    "processor\t: 2\n\nprocessor\t: 3\n";

	is_int(agent_parse_stat_cpu(stat_a, &a), 0, "stat: cpu line read");
	is_int(a.user, 1000, "stat: user");
	is_int(a.steal, 5, "stat: steal");
	is_int(agent_parse_stat_cpu(stat_b, &b), 0, "stat: second sample");
	/* total grew 150+400 (100 user, 50 system, 300 idle, 50 iowait) = 500; busy 150 */
	ok(fabs(agent_cpu_percent(&a, &b) - 30.0) < 1e-9, "cpu percent = busy delta / total delta");
	is_int((int)agent_cpu_percent(&b, &b), 0, "no busy growth: 0");
	is_int(agent_parse_stat_cpu("intr 1\n", &a), -1, "stat without a cpu line: -1");
	is_int(agent_parse_stat_cpu("cpu 1 2\n", &a), -1, "short cpu line: -1");
	is_int(agent_parse_cpu_count(cpuinfo, stat_a), 4, "cpu count from cpuinfo");
	is_int(agent_parse_cpu_count("", stat_a), 2, "cpu count from /proc/stat when cpuinfo has none");
}

static void
test_memory(void)
{
	struct agent_memory m;
	double load[3];
	int64_t up = 0;
	static const char meminfo[] =
	    "MemTotal:       16000000 kB\nMemFree:         2000000 kB\n"
	    "MemAvailable:    6000000 kB\nBuffers:          100000 kB\nCached:          3000000 kB\n"
	    "SwapCached:            0 kB\nSwapTotal:       2000000 kB\nSwapFree:        1500000 kB\n"
	    "SReclaimable:     400000 kB\n";
	static const char old_kernel[] =
	    "MemTotal: 1000 kB\nMemFree: 100 kB\nCached: 200 kB\nSReclaimable: 50 kB\n";

	is_int(agent_parse_meminfo(meminfo, &m), 0, "meminfo read");
	is_int(m.total, 16000000LL * 1024, "total in bytes");
	is_int(m.used, 10000000LL * 1024, "used = total - available");
	is_int(m.free, 2000000LL * 1024, "free = MemFree");
	ok(fabs(m.usage - 62.5) < 1e-9, "usage percent");
	is_int(m.swap_total, 2000000LL * 1024, "swap total");
	is_int(m.swap_used, 500000LL * 1024, "swap used = total - free");
	is_int(agent_parse_meminfo(old_kernel, &m), 0, "meminfo without MemAvailable");
	is_int(m.used, (1000 - 350) * 1024, "available estimated from Cached+SReclaimable+Free");
	is_int(m.swap_used, 0, "no swap: 0");
	is_int(agent_parse_meminfo("Foo: 1 kB\n", &m), -1, "no MemTotal: -1");
	is_int(agent_parse_loadavg("0.52 0.58 0.59 1/467 12345\n", load), 0, "loadavg read");
	ok(load[0] == 0.52 && load[2] == 0.59, "load 1 and 15");
	is_int(agent_parse_loadavg("garbage", load), -1, "bad loadavg: -1");
	is_int(agent_parse_uptime("350735.47 234388.90\n", &up), 0, "uptime read");
	is_int(up, 350735, "uptime whole seconds");
}

static void
test_diskstats(void)
{
	static const char text[] =
	    "   7       0 loop0 100 0 200 10 0 0 0 0 0 10 10 0 0 0 0\n"
	    " 259       0 nvme0n1 5000 10 400000 3000 8000 20 900000 7000 0 9000 10000 0 0 0 0\n"
	    " 259       1 nvme0n1p1 100 0 2000 10 0 0 0 0 0 10 10 0 0 0 0\n"
	    "   8       0 sda 1000 0 20000 500 2000 0 40000 900 0 1200 1400\n"
	    "   8       1 sda1 10 0 200 5 20 0 400 9 0 12 14\n"
	    "   8      16 sdb 0 0 0 0 0 0 0 0 0 0 0\n"
	    " 253       0 dm-0 10 0 200 5 20 0 400 9 0 12 14\n"
	    " 230       0 zd0 10 0 200 5 20 0 400 9 0 12 14\n"
	    " 230       1 zd0p1 10 0 200 5 20 0 400 9 0 12 14\n";
	struct agent_diskio *io;
	int n = agent_parse_diskstats(text, &io);

	is_int(n, 3, "whole disks only: nvme0n1, sda, zd0");
	if (n == 3) {
		is_str(io[0].device, "nvme0n1", "sorted by name");
		is_int(io[0].read_bytes, 400000LL * 512, "sectors read x 512");
		is_int(io[0].write_ops, 8000, "writes");
		is_int(io[0].io_ms, 9000, "ms doing I/O");
		is_str(io[1].device, "sda", "sda");
		is_int(io[1].write_bytes, 40000LL * 512, "sectors written x 512");
		is_int(io[1].read_ms, 500, "ms reading");
		is_str(io[2].device, "zd0", "zd0 kept, zd0p1 skipped");
	}
	free(io);
	ok(agent_diskio_skip("sda1") && agent_diskio_skip("nvme0n1p2") && agent_diskio_skip("xvda1") &&
	    agent_diskio_skip("vdb3") && agent_diskio_skip("ram0") && agent_diskio_skip("dm-3"),
	    "partitions and virtual devices skipped");
	ok(!agent_diskio_skip("sda") && !agent_diskio_skip("nvme1n1") && !agent_diskio_skip("vda"),
	    "whole disks kept");
}

static void
test_net_dev(void)
{
	static const char text[] =
	    "Inter-|   Receive                                                |  Transmit\n"
	    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"
	    "    lo: 1000 10 0 0 0 0 0 0 1000 10 0 0 0 0 0 0\n"
	    "  eth0: 123456789 1000 0 0 0 0 0 5 987654321 2000 0 0 0 0 0 0\n";
	struct agent_netdev *nd;
	int n = agent_parse_net_dev(text, &nd);

	is_int(n, 2, "two interfaces, headers skipped");
	if (n == 2) {
		is_str(nd[1].name, "eth0", "name");
		is_int(nd[1].rx_bytes, 123456789, "rx bytes");
		is_int(nd[1].tx_bytes, 987654321, "tx bytes");
	}
	free(nd);
}

static void
test_mounts(void)
{
	static const char text[] =
	    "22 1 8:2 / / rw,relatime shared:1 - ext4 /dev/sda2 rw\n"
	    "23 22 0:21 / /proc rw,nosuid - proc proc rw\n"
	    "24 22 0:5 / /dev rw shared:2 - devtmpfs udev rw\n"
	    "30 22 8:3 / /mnt/my\\040disk rw - xfs /dev/sda3 rw\n"
	    "31 22 0:40 / /tank rw - zfs tank rw\n"
	    "broken line\n";
	struct agent_mount *m;
	int n = agent_parse_mountinfo(text, &m);
	char *pats[] = { "*backup*", "/srv*", "/exact" };

	is_int(n, 5, "five mounts, the broken line skipped");
	if (n == 5) {
		is_str(m[0].mountpoint, "/", "mountpoint");
		is_str(m[0].fstype, "ext4", "fs type after the separator");
		is_str(m[0].device, "/dev/sda2", "source");
		is_str(m[3].mountpoint, "/mnt/my disk", "octal escape decoded");
	}
	agent_mounts_free(m, n);

	ok(agent_fs_skip("tmpfs", "/tmp", 10, 1), "tmpfs skipped");
	ok(agent_fs_skip("squashfs", "/snap/core/1", 10, 10), "read-only type skipped");
	ok(agent_fs_skip("nfs4", "/mnt/nfs", 10, 1), "network fs skipped");
	ok(agent_fs_skip("fuse.sshfs", "/mnt/x", 10, 1), "fuse skipped");
	ok(agent_fs_skip("ext4", "/run/foo", 10, 1), "/run skipped");
	ok(agent_fs_skip("vfat", "/boot/efi", 10, 1), "/boot/efi skipped");
	ok(agent_fs_skip("ext4", "/var/lib/docker/overlay2/x", 10, 1), "docker dir skipped");
	ok(agent_fs_skip("ext4", "/data/containers/abc/overlay2/merged", 10, 1),
	    "container overlay path skipped");
	ok(agent_fs_skip("ext4", "/mnt/.ix-apps/docker/x", 10, 1), "TrueNAS apps skipped");
	ok(!agent_fs_skip("ext4", "/", 10, 1), "root kept");
	ok(!agent_fs_skip("xfs", "/srv/data", 10, 1), "xfs data kept");
	ok(!agent_fs_skip("vfat", "/boot", 10, 1), "/boot kept");

	ok(agent_disk_excluded(pats, 3, "/mnt/backup2"), "*sub* contains");
	ok(agent_disk_excluded(pats, 3, "/srv/x"), "prefix*");
	ok(agent_disk_excluded(pats, 3, "/exact"), "exact");
	ok(!agent_disk_excluded(pats, 3, "/exact/sub"), "exact is exact");
	ok(!agent_disk_excluded(pats, 3, "/"), "root not excluded");
}

static void
test_dedup(void)
{
	struct agent_fs d[4] = {
		{ .device = "/dev/sdb1", .mountpoint = "/volume1/docker", .total = 100 },
		{ .device = "/dev/sda2", .mountpoint = "/", .total = 50 },
		{ .device = "/dev/sdb1", .mountpoint = "/volume1", .total = 100 },
		{ .device = "/dev/sdb1", .mountpoint = "/other", .total = 200 },
	};
	size_t n = agent_disks_dedup(d, 4);

	is_int(n, 3, "one duplicate (device and total) dropped");
	is_str(d[0].mountpoint, "/", "sorted by mountpoint");
	is_str(d[1].mountpoint, "/other", "same device, other size: kept");
	is_str(d[2].mountpoint, "/volume1", "the shorter mountpoint wins");
}

static void
test_zpool(void)
{
	struct agent_zpool *z;
	int n = agent_parse_zpool_list("tank\t3985729650688\t1617010032640\t2368719618048\n"
	    "rpool\t255013683200\t50000000000\t205013683200\nbad line\n", &z);
	struct agent_fs raidz = { .device = "tank", .total = 2800000000000, .free = 1200000000000 };
	struct agent_fs plain = { .device = "rpool", .total = 300000000000, .free = 1 };

	is_int(n, 2, "two pools, the bad line skipped");
	if (n == 2) {
		is_str(z[0].name, "tank", "pool name");
		is_int(z[0].allocated, 1617010032640LL, "allocated");
		agent_zfs_apply_pool(&raidz, &z[0]);
		is_int(raidz.used, 1617010032640LL, "used = allocated");
		is_int(raidz.total, 2800000000000LL, "a smaller dataset total wins (RAIDZ)");
		is_int(raidz.free, 1200000000000LL, "with the dataset's free");
		agent_zfs_apply_pool(&plain, &z[1]);
		is_int(plain.total, 255013683200LL, "otherwise the pool's size");
		is_int(plain.free, 205013683200LL, "and the pool's free");
		ok(plain.usage > 19.6 && plain.usage < 19.7, "usage = used / total");
	}
	free(z);
	is_int(agent_parse_zpool_list(NULL, &z), -1, "no output: -1");
	free(z);
}

static void
test_mdstat(void)
{
	static const char text[] =
	    "Personalities : [raid1] [raid6] [raid5] [raid4]\n"
	    "md0 : active raid1 sdb1[1] sda1[0]\n"
	    "      1953382464 blocks super 1.2 [2/2] [UU]\n"
	    "      bitmap: 0/15 pages [0KB], 65536KB chunk\n"
	    "\n"
	    "md1 : active raid5 sde1[4] sdd1[2] sdc1[1](F) sdb2[0] sdf1[3](S)\n"
	    "      5860270080 blocks super 1.2 level 5, 512k chunk, algorithm 2 [4/3] [U_UU]\n"
	    "      [===>.................]  recovery = 17.3% (338100736/1953423360) finish=140.4min speed=191734K/sec\n"
	    "\n"
	    "md127 : inactive sdg[0](S)\n"
	    "      976631512 blocks super 1.2\n"
	    "\n"
	    "unused devices: <none>\n";
	struct agent_md_array *r;
	int n = agent_parse_mdstat(text, &r);

	is_int(n, 3, "three arrays");
	if (n != 3) {
		free(r);
		return;
	}
	is_str(r[0].device, "/dev/md0", "device");
	is_str(r[0].level, "raid1", "level");
	is_str(r[0].state, "clean", "healthy array: clean");
	is_int(r[0].total, 2, "total");
	is_int(r[0].active, 2, "active");
	is_int(r[0].ndevices, 2, "two members");
	is_str(r[0].devices[0].device, "/dev/sdb1", "member device");
	is_int(r[0].devices[0].slot, 1, "member slot");
	is_str(r[0].devices[0].state, "active", "member state");
	is_str(r[1].level, "raid5", "raid5");
	is_str(r[1].state, "clean, degraded, recovering", "degraded and recovering");
	is_int(r[1].total, 4, "raid devices");
	is_int(r[1].active, 3, "active devices");
	is_int(r[1].failed, 1, "failed");
	is_int(r[1].spare, 1, "spare");
	is_int(r[1].working, 4, "working = members - failed");
	is_str(r[1].devices[2].state, "faulty", "(F) is faulty");
	is_int(r[1].devices[2].slot, -1, "faulty has no slot");
	is_str(r[1].devices[4].state, "spare", "(S) is spare");
	ok(fabs(r[1].rebuild_percent - 17.3) < 1e-9, "rebuild percent");
	is_str(r[1].rebuild_speed, "191734K/sec", "rebuild speed");
	is_str(r[2].state, "inactive", "inactive array");
	is_str(r[2].level, "", "inactive has no level");
	free(r);
	is_int(agent_parse_mdstat("Personalities : \nunused devices: <none>\n", &r), 0, "no arrays");
	free(r);
}

static double
find(const struct agent_kv *kv, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(kv[i].key, key) == 0)
			return kv[i].value;
	return -1;
}

static void
test_sensors(void)
{
	struct agent_sensor_reading r[] = {
		{ "coretemp-hwmon2", "Package id 0", 48, 0 },
		{ "coretemp-hwmon2", "Core 0", 46, 0 },
		{ "coretemp-hwmon2", "Core 1", 47, 0 },
		{ "nvme-hwmon4", "Composite", 38.85, 0 },
		{ "nvme-hwmon4", "Sensor 1", 40, 0 },
		{ "nvme-hwmon3", "Composite", 35, 0 },
		{ "amdgpu-hwmon5", "edge", 55, 0 },
		{ "nct6798-hwmon6", "fan2", 1200, 1 },
		{ "nct6798-hwmon6", "fan3", 0, 1 },
		{ "nct6798-hwmon6", "SYSTIN", 31, 0 },
		{ "acpi_fan-hwmon7", "temp1", 27.8, 0 },
		{ "iwlwifi_1-hwmon8", "temp1", 200, 0 },
	};
	struct agent_sensors s = {0};
	struct agent_sensor_reading k10[] = {
		{ "k10temp-pci-00c3", "Tctl", 60, 0 },
		{ "k10temp-pci-00c3", "Tccd1", 55, 0 },
	};
	struct agent_sensor_reading pi[] = { { "cpu_thermal-virtual-0", "temp1", 45.2, 0 } };

	agent_sensors_classify(r, ARRAY_LEN(r), &s);
	ok(find(s.temps, s.ntemps, "cpu_package") == 48, "package temperature");
	ok(find(s.temps, s.ntemps, "cpu_core_1") == 47, "core key cpu_core_<n>");
	ok(find(s.temps, s.ntemps, "nvme0") == 35, "nvme numbered by sorted chip name");
	ok(fabs(find(s.temps, s.ntemps, "nvme1") - 38.85) < 1e-9, "second nvme");
	ok(find(s.temps, s.ntemps, "amdgpu-hwmon5_edge") == 55, "gpu key <chip>_<sensor>");
	ok(find(s.fans, s.nfans, "nct6798_fan2") == 1200, "fan key <chipPrefix>_<sensor>");
	ok(find(s.fans, s.nfans, "nct6798_fan3") == -1, "a stopped fan is left out");
	ok(find(s.additional, s.nadditional, "acpi_fan_temp1") == 27.8, "other temperatures");
	ok(find(s.additional, s.nadditional, "nct6798_systin") == 31,
	    "a Super I/O board sensor is another temperature");
	ok(find(s.additional, s.nadditional, "nvme_sensor_1") == 40, "nvme extra sensor as other");
	ok(find(s.additional, s.nadditional, "iwlwifi_1_temp1") == -1, "150 degrees and more dropped");
	agent_sensors_free(&s);
	agent_sensors_classify(k10, ARRAY_LEN(k10), &s);
	ok(find(s.temps, s.ntemps, "cpu_package") == 60, "Tctl is the package");
	agent_sensors_free(&s);
	agent_sensors_classify(pi, 1, &s);
	ok(fabs(find(s.temps, s.ntemps, "cpu_package") - 45.2) < 1e-9, "bare temp1 as the package");
	agent_sensors_free(&s);
	agent_sensors_classify(NULL, 0, &s);
	is_int(s.ntemps, 0, "no readings, no temperatures");
	agent_sensors_free(&s);
}

static void
test_smart(void)
{
	static const char sata[] =
	    "{\"device\":{\"name\":\"/dev/sda\",\"type\":\"sat\",\"protocol\":\"ATA\"},"
	    "\"model_name\":\"Samsung SSD 860 EVO 500GB\",\"serial_number\":\"S3Z1NB0K\","
	    "\"wwn\":{\"naa\":5,\"oui\":9528,\"id\":61213457649},"
	    "\"smart_status\":{\"passed\":true},\"temperature\":{\"current\":33}}";
	static const char nvme[] =
	    "{\"device\":{\"name\":\"/dev/nvme0\",\"type\":\"nvme\",\"protocol\":\"NVMe\"},"
	    "\"model_name\":\"WD Blue\",\"smart_status\":{\"passed\":false},"
	    "\"nvme_smart_health_information_log\":{\"temperature\":41}}";
	struct agent_smart_disk s;

	is_int(agent_parse_smartctl(sata, 0, "sda", &s), 0, "sata read");
	is_str(s.model, "Samsung SSD 860 EVO 500GB", "model");
	is_str(s.serial, "S3Z1NB0K", "serial");
	is_str(s.wwn, "5-2538-e409b3cf1", "wwn as hex parts");
	is_str(s.type, "sata", "ATA protocol: sata");
	is_int(s.temperature, 33, "temperature.current");
	is_int(s.passed, 1, "passed");
	is_int(agent_parse_smartctl(nvme, 4, "nvme0n1", &s), 0, "nvme read despite exit bit 4");
	is_str(s.type, "nvme", "nvme");
	is_int(s.temperature, 41, "nvme log temperature");
	is_int(s.passed, 0, "failed");
	is_int(agent_parse_smartctl(NULL, 2, "sdb", &s), 0, "standby exit status");
	is_int(s.standby, 1, "standby");
	is_str(s.device, "sdb", "device kept for a sleeping disk");
	is_int(agent_parse_smartctl("not json", 0, "sdc", &s), -1, "garbage: -1");
	is_int(agent_parse_smartctl("[1]", 0, "sdc", &s), -1, "not an object: -1");
}

static void
test_identity(void)
{
	char id[128];

	is_int(agent_machine_id_from_text("0123456789abcdef0123456789ABCDEF\n", id, sizeof(id)), 0,
	    "machine-id read");
	is_str(id, "01234567-89ab-cdef-0123-456789ABCDEF", "32 hex as a UUID, case kept");
	is_int(agent_machine_id_from_text("  host-1234  ", id, sizeof(id)), 0, "other text kept");
	is_str(id, "host-1234", "trimmed");
	is_int(agent_machine_id_from_text("short", id, sizeof(id)), -1, "under 8 characters: -1");
	ok(agent_iface_virtual("docker0") && agent_iface_virtual("veth12") &&
	    agent_iface_virtual("br-abc") && agent_iface_virtual("lo"), "virtual names");
	ok(!agent_iface_virtual("eth0") && !agent_iface_virtual("enp3s0"), "physical names");
}

int
main(void)
{
	test_cpu();
	test_memory();
	test_diskstats();
	test_net_dev();
	test_mounts();
	test_dedup();
	test_zpool();
	test_mdstat();
	test_sensors();
	test_smart();
	test_identity();
	return done_testing();
}
