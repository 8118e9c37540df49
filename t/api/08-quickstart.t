#!/usr/bin/perl
# 08-quickstart.t: t/lib/pulse-stack, which ./quickstart run|status|stop drives, brings back
# whatever part of a persistent stack is not running, and only that part: PostgreSQL killed
# with SIGKILL (its postmaster.pid and socket lock left behind, naming a pid that now runs
# something else), a responder and nginx (whose workers outlive their master), the worker.
# status shows each part and fails while one is down; stop stops everything.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use File::Path qw(remove_tree);
use File::Temp qw(tempdir);
use Test::More;
use PulseStack;

my $dir = tempdir('pulse-quickstart-XXXXXX', TMPDIR => 1);
chmod 0755, $dir;
my $port = PulseStack::free_port();
my $script = PulseStack::srcdir() . '/t/lib/pulse-stack';
my @parts = qw(postgresql fcgi-1 fcgi-2 worker-1 nginx);

sub pulse_stack {
    my @args = @_;
    my $cmd = join ' ', map { PulseStack::_shq($_) } $^X, $script, @args, '--dir', $dir;
    my $out = qx{$cmd 2>&1};
    return ($? >> 8, $out);
}

# status as a hash: part => pid (0 when not running), and its exit status.
sub status {
    my ($rc, $out) = pulse_stack('status');
    my %pid;
    for (split /\n/, $out) {
        $pid{$1} = $2 // 0 if /^(\S+)\s+(?:running \(pid (\d+)\)|not running)$/;
    }
    return ($rc, \%pid, $out);
}

sub parent {
    my $pid = shift;
    open my $fh, '<', "/proc/$pid/stat" or return 0;
    my $stat = <$fh> // '';
    return $stat =~ /\) \S+ (\d+)/ ? $1 : 0;
}

END {
    my $keep = $?;
    pulse_stack('stop') if -f "$dir/stack.json";
    remove_tree($dir);
    $? = $keep;
}

my $probe = PulseStack->new(dir => $dir, port => $port, keep => 1, nginx => 0);
$probe->{stopped} = 1;
my $ua = $probe->ua;

my ($rc, $out) = pulse_stack('start', '--port', $port, '--bind', '127.0.0.1', '--responders', 2);
is($rc, 0, 'first start succeeds') or diag $out;
like($out, qr/^started: postgresql fcgi-1 fcgi-2 worker-1 nginx$/m, 'first start starts every part');
my ($src, $pids, $sout) = status();
is($src, 0, 'status exits 0 while every part runs') or diag $sout;
is_deeply([sort keys %$pids], [sort @parts], 'status has one line per part') or diag $sout;
ok((!grep { !$pids->{$_} } @parts), 'status shows every part running') or diag $sout;

my $res = $ua->get($probe->url('/api/health'))->result;
is($res->code, 200, 'health 200 after start');
my $token = 'quickstart' . join('', map { sprintf '%02x', int rand 256 } 1 .. 16);
$res = $ua->post($probe->url('/api/security/quick-setup') => { 'X-Setup-Token' => $probe->bootstrap_token }
    => json => { username => 'admin', password => 'correct horse battery', apiToken => $token })->result;
is($res->code, 200, 'first-run setup') or diag $res->body;
my $state = sub { $ua->get($probe->url('/api/state') => { 'X-API-Token' => $token })->result };
is($state->()->code, 200, 'GET /api/state answers');

# PostgreSQL killed with SIGKILL. Its lock files stay; make the pid they name one that runs
# (as when the pid was reused), which PostgreSQL itself takes for a live server.
kill 'KILL', $pids->{postgresql};
$probe->wait_for(sub { !(status())[1]{postgresql} }, 20, 'status to show PostgreSQL down');
my $other = fork // die "fork: $!";
if (!$other) { exec 'sleep', '300' }
for my $lock ("$dir/pg/data/postmaster.pid", glob("$dir/pg/socket/.s.PGSQL.*.lock")) {
    open my $in, '<', $lock or die "$lock: $!";
    my (undef, @rest) = <$in>;
    close $in;
    open my $fh, '>', $lock or die "$lock: $!";
    print {$fh} "$other\n", @rest;
    close $fh;
}
my ($src2, $after_kill, $sout2) = status();
isnt($src2, 0, 'status fails while PostgreSQL is down');
like($sout2, qr/^postgresql\s+not running$/m, 'status: postgresql not running') or diag $sout2;
is($after_kill->{$_}, $pids->{$_}, "status: $_ still running") for grep { $_ ne 'postgresql' } @parts;
$probe->wait_for(sub { $state->()->code == 503 }, 20, 'the API to answer 503');
is(($state->()->json // {})->{code}, 'database_unavailable', 'the API answers 503 database_unavailable');

($rc, $out) = pulse_stack('start');
kill 'KILL', $other;
waitpid $other, 0;
is($rc, 0, 'start after PostgreSQL was killed succeeds') or diag $out;
like($out, qr/^started: postgresql$/m, 'start brings back PostgreSQL alone') or diag $out;
$res = $ua->get($probe->url('/api/health'))->result;
is($res->code, 200, 'health 200 once start returned');
is(($res->json // {})->{database}{status}, 'ok', 'health: database ok');
# Each responder thread reconnects at its next attempt (a few seconds at most).
$probe->wait_for(sub { $state->()->code == 200 }, 20, 'GET /api/state to answer 200');
pass('the API answers again');
my ($src3, $now) = status();
is($src3, 0, 'status exits 0 again');
is($now->{$_}, $pids->{$_}, "$_ kept its pid") for grep { $_ ne 'postgresql' } @parts;
isnt($now->{postgresql}, $pids->{postgresql}, 'PostgreSQL runs with a new pid');
$pids = $now;

# A responder and nginx killed; nginx's workers go on holding the port without their master.
kill 'KILL', $pids->{'fcgi-1'}, $pids->{nginx};
$probe->wait_for(sub { my $p = (status())[1]; !$p->{'fcgi-1'} && !$p->{nginx} }, 20,
    'status to show fcgi-1 and nginx down');
($rc, $out) = pulse_stack('start');
is($rc, 0, 'start after a responder and nginx were killed succeeds') or diag $out;
like($out, qr/^started: fcgi-1 nginx$/m, 'start brings back just fcgi-1 and nginx') or diag $out;
(undef, $now) = status();
isnt($now->{$_}, $pids->{$_}, "$_ runs with a new pid") for qw(fcgi-1 nginx);
is($now->{$_}, $pids->{$_}, "$_ kept its pid") for qw(postgresql fcgi-2 worker-1);
my @strays = grep { $_ != $now->{nginx} && parent($_) != $now->{nginx} }
    PulseStack::processes_holding('nginx', "$dir/log/nginx-error.log");
is_deeply(\@strays, [], 'no nginx worker of the killed master is left');
is($state->()->code, 200, 'the API answers through the new nginx');
$pids = $now;

# The worker killed.
kill 'KILL', $pids->{'worker-1'};
$probe->wait_for(sub { !(status())[1]{'worker-1'} }, 20, 'status to show worker-1 down');
($rc, $out) = pulse_stack('start');
is($rc, 0, 'start after the worker was killed succeeds') or diag $out;
like($out, qr/^started: worker-1$/m, 'start brings back just the worker') or diag $out;
(undef, $now) = status();
isnt($now->{'worker-1'}, $pids->{'worker-1'}, 'worker-1 runs with a new pid');
is($now->{$_}, $pids->{$_}, "$_ kept its pid") for qw(postgresql fcgi-1 fcgi-2 nginx);
$pids = $now;

# Nothing down: nothing started, no second copy of anything.
($rc, $out) = pulse_stack('start');
is($rc, 0, 'start with everything running succeeds');
like($out, qr/^already running$/m, 'start says it is already running') or diag $out;
(undef, $now) = status();
is_deeply($now, $pids, 'every part kept its pid');
my $ours = sub {
    my $re = shift;
    grep { PulseStack::process_runs($_, $re) && index(PulseStack::_proc_text($_), "$dir/") >= 0 }
        PulseStack::_all_pids();
};
is(scalar(() = $ours->(qr{/pulse-fcgi$})), 2, 'two responders run for the stack');
is(scalar(() = $ours->(qr{/pulse-worker$})), 1, 'one worker runs for the stack');

# stop stops everything.
($rc, $out) = pulse_stack('stop');
is($rc, 0, 'stop succeeds');
like($out, qr/^stopped: nginx fcgi-1 fcgi-2 worker-1 postgresql$/m, 'stop names every part') or diag $out;
my ($src4, $gone, $sout4) = status();
is($src4, 3, 'status exits 3 once stopped');
ok((!grep { $gone->{$_} } @parts), 'status shows every part not running') or diag $sout4;
$probe->wait_for(sub { !$ours->(qr{/(pulse-fcgi|pulse-worker|nginx)$}) }, 10, 'our processes to exit');
pass('no responder, worker or nginx of the stack is left');
my $data = "$dir/pg/data";
ok(!(grep { PulseStack::process_runs($_, qr{/postgres$}) && (readlink("/proc/$_/cwd") // '') eq $data }
    PulseStack::_all_pids()), 'no PostgreSQL process of the stack is left');

done_testing;
