package AgentHarness;
# AgentHarness.pm: processes and files for the agent tests (t/api/63-agent-program.t,
# t/api/65-agent-docker.t), which run pulse-agent against stand-ins without the stack:
# spawn with the output to a log, stop with SIGTERM (then SIGKILL), wait for a condition,
# read a file or its JSON lines. Whatever is still running at exit is killed. For the report
# tests through the stack: an API token with scopes, and the headers an agent sends with it.
use strict;
use warnings;
use Exporter 'import';
use JSON::PP;
use POSIX qw(WNOHANG);
use Test::More;
use Time::HiRes qw(sleep time);

our @EXPORT_OK = qw(spawn stop wait_for slurp json_lines agent_token agent_headers);

my @pids;

# Starts @cmd with stdout and stderr appended to $log; returns its pid.
sub spawn {
    my ($log, @cmd) = @_;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open STDOUT, '>>', $log or die;
        open STDERR, '>>', $log or die;
        exec @cmd or die "exec $cmd[0]: $!";
    }
    push @pids, $pid;
    return $pid;
}

# Sends $sig (TERM) and waits up to 15 s, then kills; returns the wait status.
sub stop {
    my ($pid, $sig) = @_;
    kill $sig // 'TERM', $pid;
    my $deadline = time + 15;
    while (time < $deadline) {
        my $r = waitpid $pid, WNOHANG;
        if ($r == $pid) { @pids = grep { $_ != $pid } @pids; return $? }
        sleep 0.05;
    }
    kill 'KILL', $pid;
    waitpid $pid, 0;
    @pids = grep { $_ != $pid } @pids;
    return $?;
}

END { kill 'KILL', $_ for @pids; waitpid $_, 0 for @pids }

# Polls $cond every 0.2 s for up to $timeout (30) seconds; says what timed out.
sub wait_for {
    my ($what, $cond, $timeout) = @_;
    my $deadline = time + ($timeout // 30);
    while (time < $deadline) {
        return 1 if $cond->();
        sleep 0.2;
    }
    diag "timed out waiting for $what";
    return 0;
}

sub slurp { open my $fh, '<', $_[0] or return ''; local $/; <$fh> }

# The JSON value of each non-empty line of $file (none when it is missing).
sub json_lines {
    my ($file) = @_;
    open my $fh, '<', $file or return ();
    return map { decode_json($_) } grep { /\S/ } <$fh>;
}

# A new API token named $name with @scopes, made through $stack's admin token: {raw, id}.
sub agent_token {
    my ($stack, $name, @scopes) = @_;
    my $res = $stack->ua->post($stack->url('/api/security/tokens') => $stack->token_headers
        => json => { name => $name, scopes => \@scopes })->result;
    is($res->code, 200, "token $name created") or diag $res->body;
    my $j = $res->json;
    return { raw => $j->{token}, id => $j->{record}{id} };
}

# The headers the original's agents send with a token: both X-API-Token and Bearer.
sub agent_headers { my $t = shift; { 'X-API-Token' => $t->{raw}, Authorization => "Bearer $t->{raw}" } }

1;
