#!/usr/bin/perl
# 25-backups.t: backup tasks, backup volumes and snapshots polled every few cycles: in
# /api/state (pveBackups and backups.pve), /api/backups (and /unified), /api/backups/pve,
# /api/snapshots; guests' lastBackup; kept when a storage stops answering.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::JSON qw(true false);
use Test::More;
use PulseStack;
use PulseTest;

my $stack = PulseStack->new(settings => { pve_polling_interval => 1, backup_polling_cycles => 3 })->start;
my $admin = $stack->setup_admin;
my $ua = $stack->ua;
my $auth = $stack->token_headers;
my $sim = $stack->start_sim(nodes => 2, guests => 20, token => 'root@pam!t=x');
$ua->post($stack->url('/api/config/nodes') => $auth => json => { type => 'pve', name => 'bk', host => $sim->{url},
    tokenName => 'root@pam!t', tokenValue => 'x', fingerprint => $sim->{fingerprint} });
my $st = $stack->wait_state(sub { @{ $_[0]{pveBackups}{storageBackups} } > 0 && @{ $_[0]{vms} } + @{ $_[0]{containers} } == 20 }, 20, 'backups');

my $pb = $st->{pveBackups};
is_deeply($st->{backups}{pve}, $pb, 'backups.pve is the same object as pveBackups');
# vmids 100..119; vzdump tasks and backups for every fifth (100, 105, 110, 115).
is(scalar @{ $pb->{backupTasks} }, 4, 'vzdump tasks only (other task types skipped)');
is(scalar @{ $pb->{storageBackups} }, 4, 'backup volumes only (templates skipped)');
my @times = map { $_->{ctime} } @{ $pb->{storageBackups} };
is_deeply(\@times, [sort { $b <=> $a } @times], 'newest first');
my ($b110) = grep { $_->{vmid} == 110 } @{ $pb->{storageBackups} };
is($b110->{id}, "bk-$b110->{volid}", 'id instance-volid');
like($b110->{type}, qr/^(qemu|lxc)$/, 'type from the volid');
is($b110->{storage}, 'local', 'storage');
is($b110->{protected}, true, 'protected');
is($b110->{verified}, true, 'verified from verification.state ok');
is($b110->{notes}, 'nightly ' . ($b110->{type} eq 'qemu' ? 'vm' : 'ct') . '110', 'notes');
like($b110->{time}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'time in RFC 3339');
like($b110->{ctime}, qr/^\d{10}$/, 'ctime in unix seconds');
my ($t) = @{ $pb->{backupTasks} };
like($t->{id}, qr/^bk-UPID:/, 'task id instance-UPID');
is($t->{type}, 'vzdump', 'task type');
like($t->{startTime}, qr/Z$/, 'task start time RFC 3339');
my @snaps = @{ $pb->{guestSnapshots} };
is(scalar @snaps, 3, 'snapshots (vmids 105, 112, 119), "current" excluded');
my ($s105) = grep { $_->{vmid} == 105 } @snaps;
is($s105->{id}, "bk-$s105->{node}-105-before-upgrade", 'snapshot id');
my ($g105) = grep { $_->{vmid} == 105 } @{ $st->{vms} }, @{ $st->{containers} };
is($s105->{vmstate}, $g105->{type} eq 'qemu' ? true : false, 'vmstate true for VMs only');
like($g105->{lastBackup}, qr/^\d{10}000$/, 'a guest with a backup has lastBackup in milliseconds');
my ($g101) = grep { $_->{vmid} == 101 } @{ $st->{vms} }, @{ $st->{containers} };
ok(!exists $g101->{lastBackup}, 'a guest without one has none');

my $res = $ua->get($stack->url('/api/backups') => $auth)->result;
is($res->code, 200, '/api/backups');
my $all = $res->json;
is_deeply($all->{pveBackups}, $pb, '/api/backups: pveBackups');
is_deeply($all->{storageBackups}, $pb->{storageBackups}, '/api/backups: storageBackups');
is_deeply($all->{pbsBackups}, [], '/api/backups: pbsBackups');
is_deeply($ua->get($stack->url('/api/backups/unified') => $auth)->result->json, $all, '/api/backups/unified is the same');
is_deeply($ua->get($stack->url('/api/backups/pve') => $auth)->result->json, { backups => $pb->{storageBackups} }, '/api/backups/pve');
is_deeply($ua->get($stack->url('/api/snapshots') => $auth)->result->json, { snapshots => \@snaps }, '/api/snapshots');
json_error_ok($ua->post($stack->url('/api/backups') => $auth)->result, 405, 'method_not_allowed', 'POST /api/backups');

# A storage that stops answering keeps its backups (§2.11).
$stack->sim_mode($sim, mode => 'error');
sleep 4;
$stack->sim_mode($sim, mode => 'normal');
$st = $stack->wait_state(sub { $_[0]{connectionHealth}{bk} }, 20, 'healthy again');
is(scalar @{ $st->{pveBackups}{storageBackups} }, 4, 'backups survive failed polls');

# Every query in docs/SQL.md runs against this live database.
open(my $fh, '<', PulseStack::srcdir() . '/docs/SQL.md') or die $!;
my $md = do { local $/; <$fh> };
my @blocks = $md =~ /^```sql\n(.*?)^```/msg;
ok(@blocks > 0, 'docs/SQL.md has SQL examples');
for my $sql (@blocks) {
    for my $q (grep { /\S/ } split /;\s*\n/, $sql) {
        my ($first) = $q =~ /^--\s*(.*)$/m;
        my $out = eval { $stack->psql($q) };
        ok(defined $out, "docs/SQL.md: " . ($first // 'query') . ' runs') or diag $@;
    }
}
my $stale = $stack->psql(q{SELECT count(*) FROM pulse.v_guests g WHERE g.instance_id <> 'mock' AND NOT EXISTS
    (SELECT 1 FROM pulse.storage_backups b WHERE b.instance_id = g.instance_id AND b.vmid = g.vmid)});
is($stale, 16, 'pulse.storage_backups joins to pulse.v_guests by instance and vmid');
done_testing;
