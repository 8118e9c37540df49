#!/usr/bin/perl
# 54-alert-suppression.t: the minimum-delta suppression (alerts-notifications.md §3.2b)
# through the real stack: a node CPU alert raised with pve-sim and resolved; raised again at
# once with a value past minimumDelta it comes back; with a value within minimumDelta inside
# suppressionWindow it does not, the suppression is a pulse.alert_pending row (count -1) that
# keeps the id out of evaluation, and once the window is over the alert is raised.
# Then the backup-age sources (§3.6): a guest's old backup on PVE storage and another's on a
# Backup Server name where they are; a PBS host backup no guest claims and a Mail Gateway's
# backups alert under their own keys.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use PulseStack;
use PulseTest;

my $stack = PulseStack->new(settings => { pve_polling_interval => 1, pbs_polling_interval => 1,
    pmg_polling_interval => 1, backup_polling_cycles => 2 })->start;
$stack->setup_admin;
my $ua = $stack->ua;
my $auth = $stack->token_headers;
my $sim = $stack->start_sim(nodes => 1, guests => 4, token => 'root@pam!a=supp-token-1');
my $res = $ua->post($stack->url('/api/config/nodes') => $auth => json => { type => 'pve', name => 'sp',
    host => $sim->{url}, tokenName => 'root@pam!a', tokenValue => 'supp-token-1', fingerprint => $sim->{fingerprint} })->result;
is($res->code, 201, 'instance added');
my $id = $res->json->{id} // $stack->psql(q{SELECT id FROM pulse.instances WHERE name = 'sp'});

sub put_config {
    my (%change) = @_;
    my $r = $stack->alert_config_change(%change);
    is($r->code, 200, 'config saved: ' . join(',', sort keys %change)) or diag $r->body;
}
sub sim_set {
    my (%m) = @_;
    ok($stack->sim_metrics($sim, %m)->is_success, 'sim: ' . join(',', map { "$_=$m{$_}" } sort keys %m));
}
sub polls { $stack->wait_polls($id, @_) }
sub active { $stack->alerts_active }
sub find_alert { my ($list, $aid) = @_; (grep { $_->{id} eq $aid } @$list)[0] }

# No delays; a delta of 5 % within 5 minutes counts as the same alert.
put_config(timeThresholds => { guest => 0, node => 0, storage => 0, pbs => 0 }, minimumDelta => 5,
    suppressionWindow => 5);
my $st = $stack->wait_state(sub { @{ $_[0]{nodes} } == 1 }, 40, 'the instance polled');
my $cpu = "$st->{nodes}[0]{id}-cpu";
sub suppression_rows { $stack->psql("SELECT count(*) FROM pulse.alert_pending WHERE id = '$cpu' AND count = -1") }

sim_set(node => 'node1', cpu => 0.85);
$stack->wait_for(sub { find_alert(active(), $cpu) }, 30, 'the CPU alert', 'worker-1');
is(sprintf('%.0f', find_alert(active(), $cpu)->{value}), 85, 'raised at 85');
sim_set(node => 'node1', cpu => 0.10);
$stack->wait_for(sub { !find_alert(active(), $cpu) }, 30, 'resolved', 'worker-1');
pass('resolved');

# --- past minimumDelta: raised again at once ---
sim_set(node => 'node1', cpu => 0.95);
$stack->wait_for(sub { find_alert(active(), $cpu) }, 30, 'raised again at 95', 'worker-1');
is(sprintf('%.0f', find_alert(active(), $cpu)->{value}), 95, '95 against 85 (delta 10 >= 5): raised');
is(suppression_rows(), 0, 'no suppression');
sim_set(node => 'node1', cpu => 0.10);
$stack->wait_for(sub { !find_alert(active(), $cpu) }, 30, 'resolved again', 'worker-1');
pass('resolved again');

# --- within minimumDelta inside the window: held back ---
sim_set(node => 'node1', cpu => 0.97);
polls(3);
ok(!find_alert(active(), $cpu), '97 against 95 (delta 2 < 5) within 5 minutes: no alert');
is(suppression_rows(), 1, 'the suppression is a pending row of the alert id with count -1');
is($stack->psql("SELECT source FROM pulse.alert_pending WHERE id = '$cpu'"), $id, 'of the instance');
is($stack->psql("SELECT count(*) FROM pulse.alert_history WHERE alert_id = '$cpu'"), 2, 'no history row for it');
sim_set(node => 'node1', cpu => 0.50);
polls(2);
ok(!find_alert(active(), $cpu), 'below the threshold while suppressed: nothing');
is(suppression_rows(), 1, 'the suppression stays');

# --- the window is over (moved back in the database, as five minutes would): raised ---
sim_set(node => 'node1', cpu => 0.97);
$stack->psql("UPDATE pulse.alert_pending SET first_seen = first_seen - interval '6 minutes' WHERE id = '$cpu'");
$stack->psql("UPDATE pulse.alerts SET start_time = start_time - interval '6 minutes' WHERE id = '$cpu'");
$stack->wait_for(sub { find_alert(active(), $cpu) }, 30, 'raised after the window', 'worker-1');
is(sprintf('%.0f', find_alert(active(), $cpu)->{value}), 97, 'window over: raised at 97');
is(suppression_rows(), 0, 'the suppression row is gone');

# --- backup age and where the backup is (§3.6) ---
# Servers whose history ends ten days ago: every PBS group (vm/100, ct/101, vm/102,
# host/backup-client3) and every PMG backup is older than a week.
my $ten_days = time - 10 * 86400;
my $pbs = $stack->start_pbs_sim(name => 'pbs1', token => 'pulse@pbs!mon:s3cret-supp', datastores => 1, groups => 4,
    now => $ten_days);
my $pmg = $stack->start_pmg_sim(name => 'pmg1', token => 'pulse@pmg!mon:s3cret-supp', nodes => 1, now => $ten_days);
for my $b ({ type => 'pbs', name => 'backup1', host => $pbs->{url}, tokenName => 'pulse@pbs!mon',
        tokenValue => 's3cret-supp', fingerprint => $pbs->{fingerprint}, monitorDatastores => \1 },
    { type => 'pmg', name => 'mail1', host => $pmg->{url}, tokenName => 'pulse@pmg!mon',
        tokenValue => 's3cret-supp', fingerprint => $pmg->{fingerprint} }) {
    is($ua->post($stack->url('/api/config/nodes') => $auth => json => $b)->result->code, 201, "add $b->{type}");
}
# Guest 101: a nine-day-old volume on storage, newer than its ten-day-old PBS backup.
$res = $ua->post("$sim->{url}/__sim/backup" => json => { vmid => 101, ctime => time - 9 * 86400 })->result;
ok($res->is_success, 'sim: an old backup of 101 on local') or diag $res->body;
put_config(backupDefaults => { enabled => \1, warningDays => 7, criticalDays => 30 });
# An alert key as alert_key writes it: lower case, other characters as one '-'.
sub akey { my $k = lc shift; $k =~ s/[^a-z0-9.]+/-/g; $k =~ s/^-+//; $k =~ s/[-.]+$//; $k }
$st = $stack->wait_state(sub { @{ $_[0]{vms} } + @{ $_[0]{containers} // [] } == 4 }, 30, 'four guests');
my %vm = map { $_->{vmid} => $_ } @{ $st->{vms} }, @{ $st->{containers} // [] };
my ($k100, $k101, $k102) = map { akey($vm{$_}{id}) } 100, 101, 102;
my ($n101, $n102) = map { $vm{$_}{name} } 101, 102;
# 101's alert names the storage volume once the poller has listed it: under load the PBS
# backup (older) may be known first, and the alert is updated when the volume is.
$stack->wait_for(sub { my $l = active(); my $a101 = find_alert($l, "backup-age-$k101");
    $a101 && ($a101->{metadata}{storage} // '') eq 'local' && find_alert($l, "backup-age-$k102")
    && find_alert($l, 'backup-age-pbs-backup1-host-backup-client3') && grep { $_->{id} =~ /^backup-age-pmg-mail1-/ } @$l },
    120, 'the backup-age alerts', 'worker-1');
my $b101 = find_alert(active(), "backup-age-$k101");
like($b101->{message}, qr/^\Q$n101\E backup via storage local on node1 is 9\.\d days old \(threshold: 7 days\)$/,
    'storage backup: named by storage and node') or diag $b101->{message};
is($b101->{metadata}{source}, 'PVE', 'metadata.source PVE');
is($b101->{metadata}{storage}, 'local', 'metadata.storage');
is($b101->{resourceId}, $vm{101}{id}, 'resourceId: the guest');
my $b102 = find_alert(active(), "backup-age-$k102");
like($b102->{message}, qr/^\Q$n102\E backup via PBS datastore store1 on backup1 is 1\d\.\d days old \(threshold: 7 days\)$/,
    'PBS backup matched by VMID: named by datastore and server') or diag $b102->{message};
is($b102->{metadata}{datastore}, 'store1', 'metadata.datastore');
is($b102->{metadata}{backupType}, 'vm', 'metadata.backupType');
ok($b102->{metadata}{lastBackupTime} =~ /^\d{4}-\d\d-\d\dT/, 'metadata.lastBackupTime RFC 3339');
ok(!find_alert(active(), "backup-age-$k100") && !find_alert(active(), 'backup-age-pbs-backup1-vm-100'),
    '100: its fresh storage backup counts, its PBS one is its own');
my $host = find_alert(active(), 'backup-age-pbs-backup1-host-backup-client3');
like($host->{message}, qr/^host\/backup-client3 backup via PBS datastore store1 on backup1 is/, 'PBS host backup: its own key');
my ($pm) = grep { $_->{id} =~ /^backup-age-pmg-mail1-/ } @{ active() };
like($pm->{message}, qr/ backup via PMG node \S+ is \d+\.\d days old \(threshold: 7 days\)$/, 'PMG backup: named by node');
ok($pm->{metadata}{filename}, 'metadata.filename');
put_config(backupDefaults => { enabled => \0, warningDays => 7, criticalDays => 30 });
$stack->wait_for(sub { !grep { $_->{type} eq 'backup-age' } @{ active() } }, 60, 'backup alerts resolved', 'worker-1');
pass('backup alerts off: every backup-age alert resolved');

done_testing;
