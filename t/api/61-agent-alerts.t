#!/usr/bin/perl
# 61-agent-alerts.t: the agents' alert checks (alerts-notifications.md §3.4, §3.5, §3.7; the
# Kubernetes ones are our addition) through the real stack. Nothing receives agent reports
# yet (issue 14), so t/tools/agent-alerts stands in for the ingestion: it parses a report as
# the ingestion will and runs the worker's evaluation (store, dispatch) against the stack's
# database; the stack's worker delivers the notifications to a webhook receiver. A host
# with a degraded array, a full disk and a hot SMART disk; a Docker host with an exited
# container (2 evaluations), an unhealthy one, a restart loop, an OOM kill, one over its
# memory limit and one with an image update pending past the delay; a Swarm service missing
# tasks; a Kubernetes cluster offline 3 times. Then healthy reports resolve them; a Docker
# host offline 3 times resolves its containers' alerts; disableAllHostsOffline and an
# override's disableConnectivity keep host-offline away. Needs `make t/tools/agent-alerts`.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/../lib";
use File::Temp qw(tempdir);
use Mojo::JSON qw(true false encode_json decode_json);
use Test::More;
use PulseStack;
use PulseTest;
use WireContract;

my $tool = PulseStack::builddir() . '/t/tools/agent-alerts';
plan skip_all => "$tool not built (make t/tools/agent-alerts)" unless -x $tool;

my $stack = PulseStack->new(settings => { notify_rate_limit => 0 })->start;
$stack->setup_admin;
my $ua = $stack->ua;
my $auth = $stack->token_headers;
my $sink = $stack->start_webhook_sink;
my $tmp = tempdir(CLEANUP => 1);

my $res = $ua->post($stack->url('/api/system/settings/update') => $auth => json => { webhookAllowedPrivateCIDRs => '127.0.0.1' })->result;
ok($res->is_success, 'loopback allowlisted') or diag $res->body;
$res = $ua->post($stack->url('/api/notifications/webhooks') => $auth => json => { name => 'gen',
    url => "$sink->{url}/gen", service => 'generic', enabled => true })->result;
ok($res->is_success, 'generic webhook') or diag $res->body;

sub put_config {
    my (%change) = @_;
    my $cfg = $ua->get($stack->url('/api/alerts/config') => $auth)->result->json;
    for my $k (keys %change) {
        if ($k eq 'schedule' || $k eq 'dockerDefaults') { $cfg->{$k}{$_} = $change{$k}{$_} for keys %{ $change{$k} } }
        else { $cfg->{$k} = $change{$k} }
    }
    my $r = $ua->put($stack->url('/api/alerts/config') => $auth => json => $cfg)->result;
    is($r->code, 200, 'config saved: ' . join(',', sort keys %change)) or diag $r->body;
}
put_config(flappingEnabled => false, dockerDefaults => { restartWindow => 60 },
    schedule => { cooldown => 5, maxAlertsHour => 0, notifyOnResolve => true,
        grouping => { enabled => false, window => 0, byNode => false, byGuest => false } });
is($ua->post($stack->url('/api/alerts/activate') => $auth)->result->code, 200, 'alerts activated');

# Runs the tool on a report; returns its exit status.
my $n = 0;
sub feed {
    my ($kind, $report, %o) = @_;
    my $file = "$tmp/report-" . $n++ . '.json';
    open(my $fh, '>', $file) or die "$file: $!";
    print $fh (ref $report ? encode_json($report) : $report);
    close $fh;
    local $ENV{PULSE_CONFIG} = $stack->conf_path;
    my @cmd = ($tool, '-k', $kind, '-o', $o{online} // 1, '-t', $o{time} // time, $file);
    my $out = qx{@cmd 2>&1};
    return $? >> 8;
}
sub alerts {
    my $r = $ua->get($stack->url('/api/alerts/active') => $auth)->result;
    die 'GET /api/alerts/active answered ' . $r->code . "\n" unless $r->code == 200;
    return { map { ($_->{id} => $_) } @{ $r->json // [] } };
}
sub received {
    my $reqs = $ua->get("$sink->{url}/__sink/requests")->result->json;
    return [map { eval { decode_json($_->{body}) } // {} } grep { $_->{path} eq '/gen' } @$reqs];
}
sub sent_for {
    my ($aid, $resolved) = @_;
    [grep { (($_->{event} // '') eq 'resolved') == !!$resolved && grep { $_->{id} eq $aid } @{ $_->{alerts} // [] } }
        @{ received() }]
}
sub wait_sent {
    my ($aid, $resolved) = @_;
    $stack->wait_for(sub { @{ sent_for($aid, $resolved) } }, 30, ($resolved ? 'recovery of ' : '') . $aid, 'worker-1');
    ok(scalar @{ sent_for($aid, $resolved) }, ($resolved ? 'recovery sent: ' : 'notification sent: ') . $aid);
}

# --- a host agent ----------------------------------------------------------------------------
sub host_report {
    my (%o) = @_;
    return { agent => { id => $o{id} // 'h1', version => '5.0.4', type => 'unified', intervalSeconds => 30 },
        host => { id => $o{id} // 'h1', hostname => 'nas01', displayName => 'nas01', platform => 'debian' },
        metrics => { cpuUsagePercent => 5, memory => { usage => 20 } },
        disks => [{ device => '/dev/sda2', mountpoint => '/', type => 'ext4', totalBytes => 1000, usedBytes => 400, usage => 40 },
            { device => '/dev/sdb1', mountpoint => '/srv', type => 'xfs', totalBytes => 1000,
                usedBytes => $o{healthy} ? 500 : 970, usage => $o{healthy} ? 50 : 97 }],
        sensors => { smart => [{ device => 'sda', model => 'WD', type => 'sata', temperature => $o{healthy} ? 35 : 70, health => 'PASSED' }] },
        raid => [{ device => '/dev/md2', level => 'raid1', state => $o{healthy} ? 'clean' : 'clean, degraded',
            failedDevices => $o{healthy} ? 0 : 1, rebuildPercent => 0 }] };
}
my $t0 = time;
is(feed(host => host_report(), time => $t0), 0, 'host report evaluated');
is(feed(host => host_report(), time => $t0 + 10), 0, 'again after the time threshold');
my $al = alerts();
my $a = $al->{'host-h1-raid-md2'};
ok($a, 'degraded array: host-h1-raid-md2') or diag explain [sort keys %$al];
is($a->{type}, 'raid', 'type raid');
is($a->{level}, 'critical', 'critical');
like($a->{message}, qr{^RAID array /dev/md2 \(raid1\) on nas01 is degraded}, 'raid message');
$a = $al->{'host:h1/disk:srv-disk'};
ok($a, 'full disk: host:h1/disk:srv-disk');
is($a->{type}, 'disk', 'type disk');
is($a->{level}, 'warning', '97 %: warning');
is($a->{message}, 'Host Disk disk at 97.0%', 'disk message');
is($a->{resourceId}, 'host:h1/disk:srv', 'disk resourceId');
$a = $al->{'host:h1/disk_temp:sda-diskTemperature'};
ok($a, 'hot SMART disk');
is($a->{level}, 'critical', '70 °C: critical');
is($a->{message}, 'Host Disk diskTemperature at 70.0°C', 'temperature message');
ok(!$al->{'host:h1/disk:root-disk'}, 'the root filesystem at 40 %: nothing');
wait_sent($_) for 'host-h1-raid-md2', 'host:h1/disk:srv-disk', 'host:h1/disk_temp:sda-diskTemperature';
is($stack->psql(q{SELECT count(*) FROM pulse.alerts WHERE source = 'host:h1' AND resolved_at IS NULL}), 3,
    'stored under the source host:h1');

# --- a Docker host -------------------------------------------------------------------------------
my $GiB = 1024 * 1048576;
sub docker_report {
    my (%o) = @_;
    my $h = $o{healthy};
    my @c = (
        { id => 'c-exit', name => 'batch', state => $h ? 'running' : 'exited', status => $h ? 'Up 1 minute' : 'Exited (1) 2 minutes ago',
            exitCode => $h ? 0 : 1 },
        { id => 'c-sick', name => 'api', state => 'running', status => 'Up 1 hour', health => $h ? 'healthy' : 'unhealthy' },
        { id => 'c-loop', name => 'worker', state => 'running', status => 'Up 3 seconds', restartCount => $o{restarts} // 0 },
        { id => 'c-oom', name => 'hog', state => $h ? 'running' : 'exited', status => $h ? 'Up' : 'Exited (137)', exitCode => $h ? 0 : 137 },
        { id => 'c-mem', name => 'cache', state => 'running', status => 'Up', memoryLimitBytes => $GiB,
            memoryUsageBytes => $h ? $GiB / 2 : int($GiB * 0.96) },
        { id => 'c-upd', name => 'web', state => 'running', status => 'Up', image => 'nginx:1',
            updateStatus => { updateAvailable => ($h && !$o{update}) ? false : true, lastChecked => '2026-01-12T10:00:00Z' } },
    );
    $_->{cpuPercent} = 1, $_->{memoryPercent} = 1 for @c;
    return { agent => { id => 'dk1', version => '5.0.4', intervalSeconds => 30 },
        host => { hostname => 'dock1', name => 'dock1' }, containers => \@c,
        services => [{ id => 'svc1', name => 'frontend', desiredTasks => 4, runningTasks => $h ? 4 : 1 }] };
}
is(feed(docker => docker_report(healthy => 1, update => 1), time => $t0 - 25 * 3600), 0,
    'a healthy docker report a day ago, an image update already pending (baselines)');
is(feed(docker => docker_report(restarts => 5), time => $t0), 0, 'docker report: 5 restarts since');
is(feed(docker => docker_report(restarts => 5), time => $t0 + 10), 0, 'docker report again');
$al = alerts();
my %want = (
    'docker-container-state-docker:dk1/c-exit' => ['docker-container-state', 'warning', "Docker container 'batch' is Exited (1) 2 minutes ago"],
    'docker-container-health-docker:dk1/c-sick' => ['docker-container-health', 'critical', "Docker container 'api' health is unhealthy"],
    'docker-container-restart-loop-docker:dk1/c-loop' => ['docker-container-restart-loop', 'critical',
        "Docker container 'worker' has restarted 5 times in the last 1 minutes (restart loop detected)"],
    'docker-container-oom-docker:dk1/c-oom' => ['docker-container-oom-kill', 'critical', "Docker container 'hog' was killed due to out of memory (OOM)"],
    'docker-container-memory-limit-docker:dk1/c-mem' => ['docker-container-memory-limit', 'critical',
        "Docker container 'cache' is using 96.0% of its memory limit (983 MB / 1024 MB)"],
    'docker-container-update-docker:dk1/c-upd' => ['docker-container-update', 'warning',
        "Docker container 'web' has an image update available for 25 hours"],
    'docker-service-health-docker:dk1/service/svc1' => ['docker-service-health', 'critical',
        "Docker service 'frontend' is running 1 of 4 desired tasks"],
);
for my $id (sort keys %want) {
    my $x = $al->{$id};
    ok($x, $id) or next;
    is($x->{type}, $want{$id}[0], "$id: type");
    is($x->{level}, $want{$id}[1], "$id: level");
    is($x->{message}, $want{$id}[2], "$id: message");
    is($x->{instance}, 'Docker:dock1', "$id: instance");
}
is($al->{'docker-container-state-docker:dk1/c-exit'}{resourceId}, 'docker:dk1/c-exit', 'container resourceId');
is($al->{'docker-container-update-docker:dk1/c-upd'}{metadata}{containerName}, 'web', 'metadata containerName');
wait_sent($_) for sort keys %want;
is($stack->psql(q{SELECT count(*) FROM pulse.alert_pending WHERE source = 'docker:dk1' AND id LIKE 'docker-restart-base-%'}), 6,
    'restart baselines kept as pending rows of the source');

# The agents' alerts keep the original's wire format (t/lib/WireContract.pm).
my $wc = WireContract->new;
$wc->check_list('AlertsAPIAlert', $ua->get($stack->url('/api/alerts/active') => $auth)->result->json, '/api/alerts/active');
$wc->check('State', $ua->get($stack->url('/api/state') => $auth)->result->json, '/api/state');
ok($wc->seen('AlertsAPIAlert') >= 10, 'agent alerts checked against the contract');
is_deeply([$wc->problems], [], 'as the contract says') or diag explain [$wc->problems];

# --- a Kubernetes cluster offline 3 times (our addition) ----------------------------------------
my $k8s = { agent => { id => 'ka', version => 'v5.0.4', intervalSeconds => 30 }, cluster => { id => 'k1', name => 'prod' },
    deployments => [{ name => 'api', namespace => 'default', desiredReplicas => 3, availableReplicas => 3 }] };
is(feed(kubernetes => $k8s, time => $t0 + 20 + $_, online => 0), 0, "cluster silent ($_)") for 1 .. 2;
ok(!alerts()->{'kubernetes-cluster-offline-k1'}, 'twice: not yet');
is(feed(kubernetes => $k8s, time => $t0 + 23, online => 0), 0, 'cluster silent (3)');
$a = alerts()->{'kubernetes-cluster-offline-k1'};
ok($a, 'kubernetes-cluster-offline-k1');
is($a->{type}, 'kubernetes-cluster-offline', 'type');
is($a->{level}, 'critical', 'critical');
is($a->{message}, "Kubernetes cluster 'prod' is offline", 'message');
wait_sent('kubernetes-cluster-offline-k1');

# --- recovery: healthy reports resolve them -------------------------------------------------
is(feed(host => host_report(healthy => 1), time => $t0 + 30), 0, 'healthy host');
is(feed(docker => docker_report(healthy => 1, restarts => 5), time => $t0 + 75), 0,
    'healthy docker host, the restarts older than the 60 s window');
is(feed(kubernetes => $k8s, time => $t0 + 30), 0, 'cluster back');
$al = alerts();
is_deeply([grep { /h1|dk1|k1/ } sort keys %$al], [], 'all resolved') or diag explain [sort keys %$al];
wait_sent($_, 1) for 'host-h1-raid-md2', 'docker-container-oom-docker:dk1/c-oom', 'kubernetes-cluster-offline-k1';

# --- a Docker host offline 3 times: docker-host-offline, its containers' alerts resolve -------
is(feed(docker => docker_report(restarts => 5), time => $t0 + 80), 0, 'the unhealthy container again');
ok(alerts()->{'docker-container-health-docker:dk1/c-sick'}, 'health alert back');
feed(docker => docker_report(restarts => 5), time => $t0 + 80 + $_, online => 0) for 1 .. 2;
ok(alerts()->{'docker-container-health-docker:dk1/c-sick'}, 'offline twice: container alerts stay');
feed(docker => docker_report(restarts => 5), time => $t0 + 83, online => 0);
$al = alerts();
ok($al->{'docker-host-offline-dk1'}, 'docker-host-offline-dk1');
is($al->{'docker-host-offline-dk1'}{message}, "Docker host 'dock1' is offline", 'message');
is_deeply([grep { /^docker-container|^docker-service/ } sort keys %$al], [], 'its container alerts resolved');
wait_sent('docker-host-offline-dk1');

# --- host offline: 3 evaluations; the switches keep it away ------------------------------------
feed(host => host_report(), time => $t0 + 50 + $_, online => 0) for 1 .. 3;
ok(alerts()->{'host-offline-h1'}, 'host-offline-h1 after 3 offline evaluations');
is(alerts()->{'host-offline-h1'}{message}, "Host 'nas01' is offline", 'host-offline message');
put_config(disableAllHostsOffline => true);
feed(host => host_report(id => 'h2'), time => $t0 + 60 + $_, online => 0) for 1 .. 3;
ok(!alerts()->{'host-offline-h2'}, 'disableAllHostsOffline: no host-offline');
feed(host => host_report(), time => $t0 + 64, online => 0);
ok(!alerts()->{'host-offline-h1'}, 'and the one there resolves on its next evaluation');
put_config(disableAllHostsOffline => false, overrides => { h3 => { disableConnectivity => true } });
feed(host => host_report(id => 'h3'), time => $t0 + 70 + $_, online => 0) for 1 .. 3;
ok(!alerts()->{'host-offline-h3'}, 'override disableConnectivity (bare host id): no host-offline');
feed(host => host_report(id => 'h2'), time => $t0 + 80 + $_, online => 0) for 1 .. 3;
ok(alerts()->{'host-offline-h2'}, 'without the switch: host-offline-h2');

# --- the tool refuses what it cannot read --------------------------------------------------------
is(feed(host => 'not json'), 1, 'not JSON: refused');
is(feed(host => { host => { hostname => '' } }), 1, 'no identity: refused');
is(feed(docker => { agent => {}, host => {} }), 1, 'docker without identity: refused');

$stack->stop;
done_testing;
