#!/usr/bin/perl
# 22-poll-faults.t: polling a generated cluster: password login, rates from counter deltas,
# a node that drops out is shown offline only after the grace period, a server that goes
# away and comes back, garbage, truncated, huge and slow answers, a wrong fingerprint, and
# configuration changes picked up within one interval.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::JSON qw(true false);
use Test::More;
use Time::HiRes qw(sleep time);
use PulseStack;
use PulseTest;

my $stack = PulseStack->new(settings => { pve_polling_interval => 1, node_offline_grace => 4,
    pve_timeout => 3, poll_backoff_max => 3 })->start;
my $admin = $stack->setup_admin;
my $ua = $stack->ua;
my $auth = $stack->token_headers;
my $sim = $stack->start_sim(name => 'gen', nodes => 3, guests => 12, password => 'root@pam:sim-password-1');
my $res = $ua->post($stack->url('/api/config/nodes') => $auth => json => { type => 'pve', name => 'gen',
    host => $sim->{url}, user => 'root', password => 'sim-password-1', fingerprint => $sim->{fingerprint} })->result;
is($res->code, 201, 'password node added');
my $id = $res->json->{id};
my $mine = sub { my $st = shift; [grep { $_->{instance} eq 'gen' } @{ $st->{nodes} }] };

my $st = $stack->wait_state(sub { @{ $mine->($_[0]) } == 3 }, 20, 'the generated cluster');
pass('password authentication with a ticket works');
is(scalar @{ $st->{vms} } + scalar @{ $st->{containers} }, 12, 'all twelve guests');
is(scalar(grep { $_->{type} =~ /^(lxc|oci)$/ } @{ $st->{containers} }), 4, 'containers as lxc (or oci)');
my ($n3) = grep { $_->{node} eq 'node3' } @{ $mine->($st) };
is($n3->{disk}{total}, 100 * 2**30, 'a node without rootfs or disk figures: its local storage stands in');
is($n3->{disk}{used}, 40 * 2**30, 'and its use');

# Rates: the simulator's counters grow by 2000 x vmid bytes a second on netin.
$st = $stack->wait_state(sub { my ($v) = grep { $_->{vmid} == 100 } @{ $_[0]{vms} }; $v && $v->{networkIn} > 0 }, 15, 'a rate');
my ($vm) = grep { $_->{vmid} == 100 } @{ $st->{vms} };
ok(abs($vm->{networkIn} - 200_000) < 20_000, "networkIn from counter deltas: $vm->{networkIn} B/s (expected ~200000)");
ok(abs($vm->{diskWrite} - 50_000) < 5_000, "diskWrite: $vm->{diskWrite} B/s (expected ~50000)");
my ($stopped) = grep { $_->{status} eq 'stopped' } @{ $st->{vms} }, @{ $st->{containers} };
is($stopped->{networkIn} + $stopped->{cpu} + $stopped->{mem}, 0, 'a stopped guest shows zero activity');
is($vm->{memory}{used}, 3 * 2**30, 'VM memory: total minus the guest\'s free memory');
is($vm->{memory}{balloon}, 4 * 2**30, 'VM memory: balloon reported');
is($vm->{disk}{used}, 5 * 2**30, 'VM disk from the guest agent, tmpfs skipped');
is(scalar @{ $vm->{disks} }, 1, 'one real filesystem');
my ($ct) = grep { $_->{status} eq 'running' } @{ $st->{containers} };
is($ct->{memory}{used}, int(2**30 - int(2**30 * 0.7)), 'container memory from RRD memavailable');

# A node that drops out stays online for the grace period, then shows offline.
$stack->sim_mode($sim, mode => 'offline-node', node => 'node2');
my $t0 = time;
$st = $stack->wait_state(sub { my ($n) = grep { $_->{node} eq 'node2' } @{ $mine->($_[0]) }; $n->{status} eq 'offline' }, 20, 'node2 offline');
my $took = time - $t0;
ok($took >= 3, sprintf('node2 went offline only after the grace period (%.1f s)', $took));
$stack->sim_mode($sim, mode => 'normal');
$stack->wait_state(sub { my ($n) = grep { $_->{node} eq 'node2' } @{ $mine->($_[0]) }; $n->{status} eq 'online' }, 10, 'node2 back');
pass('node2 online again');

# Bad answers: logged, survived, and the state keeps its last picture meanwhile.
for my $mode (qw(garbage truncated huge error)) {
    $stack->sim_mode($sim, mode => $mode);
    $stack->wait_for(sub { $stack->psql("SELECT consecutive_failures > 0 FROM pulse.poll_status WHERE instance_id = '$id'") eq 't' },
        20, "$mode to be noticed", 'worker-1');
    $st = $ua->get($stack->url('/api/state') => $auth)->result->json;
    is(scalar @{ $mine->($st) }, 3, "$mode: the nodes are still shown");
    ok($stack->alive('worker-1'), "$mode: the worker survived");
    like($stack->psql("SELECT last_error FROM pulse.poll_status WHERE instance_id = '$id'"), qr/\S/, "$mode: the error is recorded");
    $stack->sim_mode($sim, mode => 'normal');
    $stack->wait_for(sub { $stack->psql("SELECT consecutive_failures FROM pulse.poll_status WHERE instance_id = '$id'") == 0 },
        20, "recovery from $mode", 'worker-1');
    pass("$mode: recovered");
}
like($stack->log_tail('worker-1', 400), qr/poll failed.*invalid JSON|poll failed.*HTML/, 'garbage is logged as such');
like($stack->log_tail('worker-1', 400), qr/poll failed.*larger than/, 'a huge answer is cut off and logged');
$stack->sim_mode($sim, mode => 'slow', delay => 1);
sleep 3;
is($stack->psql("SELECT connected FROM pulse.poll_status WHERE instance_id = '$id'"), 't', 'a slow answer within the timeout is fine');
$stack->sim_mode($sim, mode => 'slow', delay => 5);
$stack->wait_for(sub { $stack->psql("SELECT last_error FROM pulse.poll_status WHERE instance_id = '$id'") =~ /time/i }, 20, 'a timeout');
pass('an answer slower than pve_timeout is a timeout');
$stack->sim_mode($sim, mode => 'normal');

# The server goes away: connectionHealth false at once, nodes offline after the grace period,
# the guests kept as last seen (as the original), everything back when it returns.
my $guests_of = sub { [ grep { ($_->{instance} // '') eq 'gen' } @{ $_[0]{vms} // [] }, @{ $_[0]{containers} // [] } ] };
my $guests_before = scalar @{ $guests_of->($stack->wait_state(sub { 1 })) };
ok($guests_before > 0, "guests before the server goes away ($guests_before)");
$stack->stop_program('sim-gen', 'TERM');
$st = $stack->wait_state(sub { $_[0]{connectionHealth}{gen} eq '0' || $_[0]{connectionHealth}{gen} eq false }, 15, 'connectionHealth false');
pass('connectionHealth false while the server is away');
$st = $stack->wait_state(sub { my $n = $mine->($_[0]); @$n && !grep { $_->{status} ne 'offline' } @$n }, 20, 'nodes offline');
is($mine->($st)->[0]{connectionHealth}, 'error', 'offline nodes show connectionHealth error');
is(scalar @{ $guests_of->($st) }, $guests_before, 'the guests stay as last seen while the server is away');
sleep 3;
is(scalar @{ $guests_of->($stack->wait_state(sub { 1 })) }, $guests_before, "and a few polls later");
$stack->start_sim(name => 'gen', port => $sim->{port}, nodes => 3, guests => 12, password => 'root@pam:sim-password-1');
$st = $stack->wait_state(sub { my $n = $mine->($_[0]); @$n == 3 && !grep { $_->{status} ne 'online' } @$n }, 20, 'back online');
is($st->{connectionHealth}{gen}, true, 'connectionHealth true again');

# A wrong fingerprint is refused and reported.
# (M3: a new fingerprint needs the credentials again.)
$res = $ua->put($stack->url("/api/config/nodes/$id") => $auth => json => { fingerprint => 'ab' x 32,
    password => 'sim-password-1' })->result;
is($res->code, 200, 'fingerprint changed to a wrong one');
$stack->wait_for(sub { $stack->psql("SELECT last_error FROM pulse.poll_status WHERE instance_id = '$id'") =~ /fingerprint/ }, 15, 'the pin refusal');
pass('the wrong fingerprint is refused and reported in the poll status');
$st = $stack->wait_state(sub { $_[0]{connectionHealth}{gen} eq '0' || !$_[0]{connectionHealth}{gen} }, 10, 'connectionHealth false');
pass('and in connectionHealth');
is($ua->put($stack->url("/api/config/nodes/$id") => $auth => json => { fingerprint => $sim->{fingerprint},
    password => 'sim-password-1' })->result->code, 200, 'the right fingerprint again (with the password: M3)');

# A configuration change is picked up within one interval.
$stack->wait_state(sub { $_[0]{connectionHealth}{gen} eq '1' || $_[0]{connectionHealth}{gen} eq true }, 15, 'healthy again');
$ua->put($stack->url("/api/config/nodes/$id") => $auth => json => { monitorVMs => false, fingerprint => $sim->{fingerprint} });
$t0 = time;
$st = $stack->wait_state(sub { !grep { $_->{instance} eq 'gen' } @{ $_[0]{vms} } }, 10, 'VMs to disappear');
ok(time - $t0 < 4, sprintf('monitorVMs off took effect in %.1f s', time - $t0));
is(scalar(grep { $_->{instance} eq 'gen' } @{ $st->{containers} }), 4, 'containers still monitored');

# A wrong password: refused, recorded.
$ua->put($stack->url("/api/config/nodes/$id") => $auth => json => { user => 'root', password => 'wrong password', fingerprint => $sim->{fingerprint} });
$stack->wait_for(sub { $stack->psql("SELECT last_error FROM pulse.poll_status WHERE instance_id = '$id'") =~ /login failed|401/ }, 15, 'the login failure');
pass('a wrong password is reported');

# Scheduler health shows the failures, the breaker and the worker.
$stack->wait_for(sub { $stack->psql("SELECT consecutive_failures >= 3 FROM pulse.poll_status WHERE instance_id = '$id'") eq 't' },
    30, 'three failures in a row');
my $sh = $ua->get($stack->url('/api/monitoring/scheduler/health') => $auth)->result;
is($sh->code, 200, 'scheduler health: 200');
my $h = json_body($sh, 'scheduler health');
my ($in) = grep { $_->{key} eq 'pve::gen' } @{ $h->{instances} };
ok($in, 'scheduler health: the instance, keyed type::name');
is($in->{connection}, $sim->{url}, 'scheduler health: connection');
ok($in->{pollStatus}{consecutiveFailures} >= 3, 'scheduler health: consecutive failures');
like($in->{pollStatus}{lastError}{message}, qr/login failed|401/, 'scheduler health: last error');
is($in->{breaker}{state}, 'open', 'scheduler health: the breaker is open');
like($in->{breaker}{retryAt}, qr/^\d{4}-\d\d-\d\dT/, 'scheduler health: retryAt');
is($in->{worker}, 'worker-1', 'scheduler health: the worker polling it');
ok((grep { $_->{instance} eq 'gen' } @{ $h->{breakers} }), 'scheduler health: listed in breakers');
is($h->{queue}{perType}{pve}, 1, 'scheduler health: queue per type');
is($h->{deadLetter}{count}, 0, 'scheduler health: no dead-letter queue');
# Every time as Go writes a time.Time: RFC 3339 in UTC, a fraction only when there is one and
# without trailing zeros.
my @times;
my $walk;
$walk = sub {
    my ($v, $k) = @_;
    if (ref $v eq 'HASH') { $walk->($v->{$_}, $_) for keys %$v }
    elsif (ref $v eq 'ARRAY') { $walk->($_, $k) for @$v }
    elsif (defined $v && $k =~ /^(updatedAt|lastSuccess|at|since|retryAt|firstFailureAt|lastError)$/
        && $v =~ /^\d{4}-/) { push @times, $v }
};
$walk->($h, '');
ok(@times >= 3, 'scheduler health: times found (' . scalar(@times) . ')');
is_deeply([grep { !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d*[1-9])?Z$/ } @times], [],
    'scheduler health: every time in Go\'s form (no trailing fraction zeros)');
json_error_ok($ua->get($stack->url('/api/monitoring/scheduler/health') => { 'X-API-Token' =>
    $ua->post($stack->url('/api/security/tokens') => $auth => json => { scopes => ['settings:read'] })->result->json->{token} })->result,
    403, 'missing_scope', 'scheduler health needs monitoring:read');

# Storage by id.
$ua->put($stack->url("/api/config/nodes/$id") => $auth => json => { user => 'root', password => 'sim-password-1', fingerprint => $sim->{fingerprint}, monitorVMs => true });
$st = $stack->wait_state(sub { grep { $_->{instance} eq 'gen' || ($_->{nodes} // [])->[0] } @{ $_[0]{storage} } }, 30, 'storage');
my ($one) = @{ $st->{storage} };
$res = $ua->get($stack->url("/api/storage/$one->{id}") => $auth)->result;
is($res->code, 200, 'storage by id: 200');
is($res->json->{data}{id}, $one->{id}, 'storage by id: the object');
ok(!exists $res->json->{data}{avail} && !exists $res->json->{data}{storage}, 'storage by id: no aliases');
like($res->json->{timestamp}, qr/^\d{10}$/, 'storage by id: timestamp in seconds');
json_error_ok($ua->get($stack->url('/api/storage/nope') => $auth)->result, 404, 'storage_not_found', 'unknown storage');
json_error_ok($ua->get($stack->url('/api/storage/') => $auth)->result, 400, 'missing_storage_id', 'storage without an id');

no_secret_in_logs($stack, 'sim-password-1', 'wrong password');
done_testing;
