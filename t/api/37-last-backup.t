#!/usr/bin/perl
# 37-last-backup.t: a guest's lastBackup is the newest of the backups that exist now (issue
# 9, item 11), not the highest time ever seen: a backup volume deleted on the PVE side, or a
# snapshot forgotten on a Backup Server, stops counting once the backup lists are read again,
# and a guest whose backups are all gone has no lastBackup.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::JSON qw(true false);
use Mojo::URL;
use Mojo::UserAgent;
use Mojo::Util qw(url_escape);
use Test::More;
use PulseStack;

my $stack = PulseStack->new(settings => { pve_polling_interval => 1, pbs_polling_interval => 1,
    backup_polling_cycles => 2 })->start;
$stack->setup_admin;
my $ua = $stack->ua;
my $auth = $stack->token_headers;

# PVE: vmids 100..105 on one node, one backup volume each for 100 and 105. PBS: one
# datastore with the groups vm/100, ct/101 and vm/102, 2..6 snapshots each.
my $pve = $stack->start_sim(nodes => 1, guests => 6, token => 'root@pam!t=x');
my $pbs = $stack->start_pbs_sim(name => 'pbs1', token => 'pulse@pbs!mon:s3cret-pbs', datastores => 1, groups => 3);
for my $node ({ type => 'pve', name => 'pve1', host => $pve->{url}, tokenName => 'root@pam!t', tokenValue => 'x',
        fingerprint => $pve->{fingerprint} },
    { type => 'pbs', name => 'backup1', host => $pbs->{url}, tokenName => 'pulse@pbs!mon', tokenValue => 's3cret-pbs',
        fingerprint => $pbs->{fingerprint}, monitorDatastores => true }) {
    my $res = $ua->post($stack->url('/api/config/nodes') => $auth => json => $node)->result;
    is($res->code, 201, "add $node->{type} $node->{name}") or diag $res->body;
}

# The simulators, asked directly with their own API.
my $direct = Mojo::UserAgent->new(insecure => 1);
my %pve_auth = (Authorization => 'PVEAPIToken=root@pam!t=x');
my %pbs_auth = (Authorization => 'PBSAPIToken=pulse@pbs!mon:s3cret-pbs');
sub pve_backups {
    my ($vmid) = @_;
    my $res = $direct->get("$pve->{url}/api2/json/nodes/node1/storage/local/content" => \%pve_auth)->result;
    die 'pve content: ' . $res->code unless $res->is_success;
    return sort { $b->{ctime} <=> $a->{ctime} } grep { ($_->{vmid} // 0) == $vmid } @{ $res->json->{data} };
}
sub pve_delete {
    my ($volid) = @_;
    my $res = $direct->delete("$pve->{url}/api2/json/nodes/node1/storage/local/content/" . url_escape($volid)
        => \%pve_auth)->result;
    ok($res->is_success, "PVE: $volid deleted") or diag $res->body;
}
sub pbs_snapshots {
    my ($vmid) = @_;
    my $res = $direct->get("$pbs->{url}/api2/json/admin/datastore/store1/snapshots" => \%pbs_auth)->result;
    die 'pbs snapshots: ' . $res->code unless $res->is_success;
    return sort { $b->{'backup-time'} <=> $a->{'backup-time'} } grep { $_->{'backup-id'} eq $vmid } @{ $res->json->{data} };
}
sub pbs_forget {
    my ($s) = @_;
    my $url = Mojo::URL->new("$pbs->{url}/api2/json/admin/datastore/store1/snapshots")
        ->query('backup-type' => $s->{'backup-type'}, 'backup-id' => $s->{'backup-id'}, 'backup-time' => $s->{'backup-time'});
    my $res = $direct->delete($url => \%pbs_auth)->result;
    ok($res->is_success, "PBS: snapshot $s->{'backup-type'}/$s->{'backup-id'}/$s->{'backup-time'} forgotten")
        or diag $res->body;
}

sub guest {
    my ($st, $vmid) = @_;
    return (grep { $_->{vmid} == $vmid } @{ $st->{vms} }, @{ $st->{containers} })[0];
}
# The state once cond holds; when it never does within the time, the last state read (the
# assertions that follow then say what was wrong).
sub state_when {
    my ($cond, $what) = @_;
    my $st;
    eval { $st = $stack->wait_state(sub { $st = $_[0]; $cond->($st) }, 30, $what) };
    diag "timed out waiting for $what" if $@;
    return $st;
}
sub last_backup_is {
    my ($vmid, $want, $name) = @_;
    my $st = state_when(sub { my $g = guest($_[0], $vmid); $g && ($g->{lastBackup} // 0) == ($want // 0) },
        "lastBackup of $vmid");
    my $g = guest($st, $vmid);
    if (defined $want) {
        is($g->{lastBackup}, $want, $name);
    } else {
        ok($g && !exists $g->{lastBackup}, $name) or diag "lastBackup still $g->{lastBackup}";
    }
    return $st;
}

# --- the starting point -------------------------------------------------------------------
my ($base) = pve_backups(105);
my @snaps = pbs_snapshots(101);
ok(@snaps >= 2, 'PBS holds two snapshots of VMID 101 or more');
my $st = state_when(sub { @{ $_[0]{pbsBackups} } && (guest($_[0], 105) // {})->{lastBackup} }, 'polled');
last_backup_is(105, $base->{ctime} * 1000, 'lastBackup: a volume on PVE storage, in ms');
$st = last_backup_is(101, $snaps[0]{'backup-time'} * 1000, 'lastBackup: the newest PBS snapshot of the VMID');
my $g100 = guest($st, 100)->{lastBackup};

# --- PVE: a newer backup appears, is deleted, then the older one too ---------------------
my $newer = $ua->post("$pve->{url}/__sim/backup" => json => { vmid => 105, ctime => $base->{ctime} + 3600 })
    ->result->json;
like($newer->{volid}, qr/^local:backup\/vzdump-/, 'the simulator holds a newer backup of 105');
last_backup_is(105, ($base->{ctime} + 3600) * 1000, 'lastBackup follows a newer backup volume');
pve_delete($newer->{volid});
last_backup_is(105, $base->{ctime} * 1000,
    'lastBackup goes back to the older backup when the newer volume is deleted on PVE');
# (the guests and the backup lists are separate rows: wait for the list too)
sub volids_105 { [map { $_->{volid} } grep { $_->{vmid} == 105 } @{ $_[0]{pveBackups}{storageBackups} }] }
$st = state_when(sub { "@{ volids_105($_[0]) }" eq $base->{volid} }, 'the storage backups of 105');
is_deeply([map { $_->{volid} } grep { $_->{vmid} == 105 } @{ $st->{pveBackups}{storageBackups} }], [$base->{volid}],
    'lastBackup: the storage backups list only the remaining volume');
pve_delete($base->{volid});
last_backup_is(105, undef, 'lastBackup disappears when the last backup volume of the guest is deleted');

# --- PBS: the newest snapshot forgotten, then the group emptied ---------------------------
# While the Backup Server does not answer, its newest snapshot of 101 is forgotten and a
# slightly older one made: the group's count stays, its last-backup goes down.
$stack->sim_mode($pbs, mode => 'error');
sleep 2;    # what was in flight has failed
my $between = $snaps[0]{'backup-time'} - 60;
is($ua->post("$pbs->{url}/__sim/snapshot" => json => { store => 'store1', ns => '', type => $snaps[0]{'backup-type'},
    id => '101', time => $between })->result->code, 200, 'the simulator holds one more snapshot of 101');
pbs_forget($snaps[0]);
$stack->sim_mode($pbs, mode => 'normal');
$st = last_backup_is(101, $between * 1000,
    'lastBackup goes down with the group\'s last-backup when the newest PBS snapshot was replaced by an older one');
ok(!(grep { $_->{id} =~ /-101-$snaps[0]{'backup-time'}$/ } @{ $st->{pbsBackups} }),
    'lastBackup: the forgotten snapshot is gone from pbsBackups');
pbs_forget({ %{ $snaps[0] }, 'backup-time' => $between });
last_backup_is(101, $snaps[1]{'backup-time'} * 1000,
    'lastBackup goes back to the older PBS snapshot when the newest is forgotten');
pbs_forget($_) for @snaps[1 .. $#snaps];
$st = last_backup_is(101, undef, 'lastBackup disappears when the PBS group of the VMID is gone');
ok(!(grep { $_->{vmid} eq '101' } @{ $st->{pbsBackups} }), 'lastBackup: no PBS backup of 101 is left in the state');

# The other guests keep theirs.
is(guest($st, 100)->{lastBackup}, $g100, 'lastBackup of a guest whose backups stay is unchanged');
ok(guest($st, 102)->{lastBackup}, 'lastBackup of another VMID on the Backup Server stays');
done_testing;
