#!/usr/bin/perl
# 71-ui-alerts.t: the Alerts pages of the web UI in a real browser (t/ui/alerts.mjs, through
# t/lib/PulseUI.pm): a PVE simulator whose ZFS pool and replication job raise alerts of their
# own and whose node1 is set to 95 % CPU (a critical cpu alert, no delays); the script
# acknowledges, unacknowledges and clears alerts one at a time and in bulk, checking each
# through the API, shows the API's message of an action that fails, adds a note to a
# timeline, filters the history with the filters in the URL, edits thresholds, switches and an
# override, provokes the API's validation message, edits the schedule, and compares the tab's
# pills with the API. Afterwards the configuration the UI saved is checked here.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use File::Temp qw(tempfile);
use Mojo::JSON qw(encode_json);
use Test::More;
use PulseStack;
use PulseUI;

PulseUI::require_browser();

my $stack = PulseStack->new(settings => { pve_polling_interval => 1 })->start;
$stack->setup_admin;
my $ua = $stack->ua;
my $auth = $stack->token_headers;
my $shots = PulseUI::shots_dir('alerts');

my $sim = $stack->start_sim(nodes => 2, guests => 6, token => 'root@pam!a=ui-alerts-token-1');
my $res = $ua->post($stack->url('/api/config/nodes') => $auth => json => { type => 'pve', name => 'al',
    host => $sim->{url}, tokenName => 'root@pam!a', tokenValue => 'ui-alerts-token-1', fingerprint => $sim->{fingerprint} })->result;
is($res->code, 201, 'instance added') or diag $res->body;

# No delays, so that an alert comes with the first poll that sees its condition.
my $cfg = $ua->get($stack->url('/api/alerts/config') => $auth)->result->json;
$cfg->{timeThresholds} = { guest => 0, node => 0, storage => 0, pbs => 0 };
$res = $ua->put($stack->url('/api/alerts/config') => $auth => json => $cfg)->result;
is($res->code, 200, 'no alert delays') or diag $res->body;

my $st = $stack->wait_state(sub { @{ $_[0]{nodes} } == 2 && @{ $_[0]{vms} } }, 40, 'the instance polled');
my ($n1) = grep { $_->{node} eq 'node1' } @{ $st->{nodes} };
my $cpu_id = "$n1->{id}-cpu";
ok($stack->sim_metrics($sim, node => 'node1', cpu => 0.95)->is_success, 'node1 at 95 % CPU');

my $active;
$stack->wait_for(sub {
    $active = $ua->get($stack->url('/api/alerts/active') => $auth)->result->json // [];
    my %ids = map { $_->{id} => $_ } @$active;
    return $ids{$cpu_id} && (grep { $_->{type} =~ /^zfs-/ } @$active) >= 3;
}, 40, 'the cpu alert and the ZFS alerts', 'worker-1');
my ($cpu) = grep { $_->{id} eq $cpu_id } @$active;
is($cpu->{level}, 'critical', 'the cpu alert is critical');
ok($stack->wait_state(sub { grep { $_->{id} eq $cpu_id } @{ $_[0]{activeAlerts} } }, 20, 'the alert in the state'), 'in /api/state');

my ($fh, $expect) = tempfile(DIR => $stack->dir, SUFFIX => '.json');
my ($guest) = @{ $st->{vms} };
print {$fh} encode_json({ cpuId => $cpu_id, node1 => $n1->{id}, guest => $guest->{id}, guestName => $guest->{name} });
close $fh;
PulseUI::run($stack, 'alerts.mjs', UI_OUT => $shots, UI_EXPECT => $expect, UI_TOKEN => $stack->{admin}{token},
    UI_SIM => $sim->{url});

# What the UI saved, as the API has it now.
$cfg = $ua->get($stack->url('/api/alerts/config') => $auth)->result->json;
is_deeply($cfg->{nodeDefaults}{cpu}, { trigger => 97, clear => 92 }, 'thresholds: node CPU as typed');
ok($cfg->{disableAllPBS}, 'thresholds: PBS alerts switched off');
is($cfg->{activationState}, 'active', 'activated in the UI, and the saves after it kept that');
ok(!$cfg->{disableAllNodes}, 'thresholds: node alerts still on');
is_deeply([sort keys %{ $cfg->{overrides} }], [], 'the override the UI added and deleted is gone');
my $q = $cfg->{schedule}{quietHours};
ok($q->{enabled} && $q->{start} eq '23:00' && $q->{end} eq '06:30' && $q->{timezone} eq 'Europe/Berlin',
    'schedule: quiet hours') or diag explain $q;
ok($q->{days}{saturday} && !$q->{days}{monday}, 'schedule: the days');
is($cfg->{schedule}{cooldown}, 20, 'schedule: cooldown');
is(scalar @{ $cfg->{schedule}{escalation}{levels} }, 4, 'schedule: a fourth escalation level');
is($cfg->{schedule}{escalation}{levels}[3]{after}, 120, 'schedule: its minutes');

my @png = glob("$shots/*.png");
ok(@png >= 8, scalar(@png) . " screenshots in $shots");
diag("screenshots: $shots");

done_testing;
