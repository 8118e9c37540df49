#!/usr/bin/perl
# 56-ha-standby.t: the standby promotion drill (issue 13, items 1 and 3). A stack whose
# PostgreSQL has a streaming standby (synchronous; also asynchronous under PULSE_DRILL=1)
# polls a simulated cluster, sends alerts to a webhook sink, and takes API writes from this
# test (token create and delete, node config updates, alert acknowledgements), each write
# that got a 2xx recorded. The primary's processes are SIGKILLed, the standby promoted. Printed:
# seconds from promote to the first 2xx on a write, seconds until polling resumes, acknowledged
# writes lost, notifications lost or sent twice. A request waiting in the database when the
# primary dies answers 503. Asserted: no acknowledged write lost with
# synchronous replication, no delivery twice, writes succeed again within 60 s, the responders
# answer no 5xx but 503 (JSON database_unavailable) and never restart.
# Short in make check (a few seconds of load); PULSE_DRILL=1 (make drill) runs longer, sync
# and async.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::IOLoop;
use Mojo::JSON qw(true false);
use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);
use PulseStack;
use PulseTest;

my $long = $ENV{PULSE_DRILL};
my $load_s = $long ? 20 : 3;
# Seconds between the primary's death and the promote: a supervisor's detection time.
my $gap_s = $long ? 10 : 1;

sub drill {
    my ($sync) = @_;
    my $mode = $sync ? 'sync' : 'async';
    my $stack = PulseStack->new(standby => 1, sync => $sync, settings => { pve_polling_interval => 1,
        notify_rate_limit => 0, db_connect_timeout => 2 })->start;
    $stack->setup_admin;
    my $ua = Mojo::UserAgent->new(insecure => 1, connect_timeout => 5, request_timeout => 15,
        inactivity_timeout => 15, max_redirects => 0);
    my $auth = $stack->token_headers;
    my $url = sub { $stack->url(shift) };
    my %pids = map { $_ => $stack->pid_of($_) } qw(fcgi-1 worker-1);

    # The polled cluster, a webhook for its alerts, alerts that fire at once.
    my $sim = $stack->start_sim(nodes => 2, guests => 4, token => 'root@pam!a=ha-token-1');
    my $sink = $stack->start_webhook_sink;
    my $res = $ua->post($url->('/api/config/nodes') => $auth => json => { type => 'pve', name => 'ha',
        host => $sim->{url}, tokenName => 'root@pam!a', tokenValue => 'ha-token-1',
        fingerprint => $sim->{fingerprint} })->result;
    is($res->code, 201, "$mode: instance added") or diag $res->body;
    my $inst = $stack->psql(q{SELECT id FROM pulse.instances WHERE name = 'ha'});
    $res = $ua->post($url->('/api/system/settings/update') => $auth => json => { webhookAllowedPrivateCIDRs => '127.0.0.1' })->result;
    ok($res->is_success, "$mode: loopback allowlisted") or diag $res->body;
    $res = $ua->post($url->('/api/notifications/webhooks') => $auth => json => { name => 'ha',
        url => "$sink->{url}/ha", service => 'generic', enabled => true })->result;
    ok($res->is_success, "$mode: webhook configured") or diag $res->body;
    my $cfg = $ua->get($url->('/api/alerts/config') => $auth)->result->json;
    $cfg->{timeThresholds} = { guest => 0, node => 0, storage => 0, pbs => 0 };
    $cfg->{flappingEnabled} = false;
    $cfg->{minimumDelta} = 0.001;
    $cfg->{schedule}{$_} = { cooldown => 5, maxAlertsHour => 0, notifyOnResolve => true }->{$_}
        for qw(cooldown maxAlertsHour notifyOnResolve);
    $cfg->{schedule}{grouping} = { enabled => false, window => 0, byNode => false, byGuest => false };
    is($ua->put($url->('/api/alerts/config') => $auth => json => $cfg)->result->code, 200, "$mode: alert config");
    is($ua->post($url->('/api/alerts/activate') => $auth)->result->code, 200, "$mode: alerts activated");
    $stack->wait_polls($inst, 2);

    # Alerts to acknowledge, as the engine writes them, from a source with a ':' in it (like a
    # Backup Server's), which the engine's minutely run does not resolve as its instance gone.
    my $nalerts = 400;
    $stack->psql("INSERT INTO pulse.alerts (id, type, level, resource_id, resource_name, node, instance, "
        . "message, value, threshold, start_time, last_seen, metadata, source) SELECT 'drill:' || i || '-cpu', "
        . "'cpu', 'warning', 'drill:' || i, 'vm' || i, 'node1', 'drill', 'CPU at 95%', 95, 80, now(), now(), "
        . "'{\"resourceType\":\"guest\",\"clearThreshold\":75,\"monitorOnly\":false}', 'drill:ha' "
        . "FROM generate_series(1, $nalerts) i");

    # --- the write load ------------------------------------------------------------------
    my (@gone, @gone_alerts);
    my (@acked, @tokens, %delete_tried, %codes, @bad, $bad503, $seq, $next_alert, $last_node_put);
    my ($cpu_high, $last_toggle) = (0, 0);
    $next_alert = 0;
    my $write = sub {
        my $kind;
        $seq++;
        if (time - ($last_node_put // 0) >= 2.5) { $kind = 'node' }
        else { $kind = (qw(create create delete ack))[$seq % 4] }
        $kind = 'create' if $kind eq 'delete' && !@tokens;
        $kind = 'create' if $kind eq 'ack' && $next_alert >= $nalerts;
        my ($tx, $rec);
        if ($kind eq 'create') {
            $tx = $ua->post($url->('/api/security/tokens') => $auth => json => { name => "drill-$seq",
                scopes => ['monitoring:read'] });
            $rec = { kind => 'create', id => eval { $tx->res->json->{record}{id} } };
        } elsif ($kind eq 'delete') {
            my $id = shift @tokens;
            $delete_tried{$id} = 1;
            $tx = $ua->delete($url->("/api/security/tokens/$id") => $auth);
            $rec = { kind => 'delete', id => $id };
        } elsif ($kind eq 'ack') {
            my $id = 'drill:' . ++$next_alert . '-cpu';
            $tx = $ua->post($url->('/api/alerts/acknowledge') => $auth => json => { id => $id });
            $rec = { kind => 'ack', id => $id };
        } else {
            $last_node_put = time;
            $tx = $ua->put($url->("/api/config/nodes/$inst") => $auth => json => { guestURL => "https://g$seq.example" });
            $rec = { kind => 'node', seq => $seq };
        }
        my $code = $tx->res->code // 0;
        $codes{"$kind:$code"}++;
        if ($code >= 200 && $code < 300) {
            push @acked, $rec;
            push @tokens, $rec->{id} if $kind eq 'create';
            return 1;
        }
        # A token created with a 2xx that is not found when deleted: a lost create.
        push @gone, $rec->{id} if $code == 404 && $kind eq 'delete';
        push @gone_alerts, $rec->{id} if $code == 404 && $kind eq 'ack';
        if ($code == 503) {
            my $j = eval { $tx->res->json } // {};
            $bad503++ unless ($j->{code} // '') eq 'database_unavailable';
        } elsif ($code == 0 || $code >= 500) {
            push @bad, "$kind: $code " . substr($tx->res->body // ($tx->error // {})->{message} // '', 0, 200);
        }
        return 0;
    };
    # Alerts on the polled cluster come and go, so that notifications are sent across the
    # failover.
    my $toggle = sub {
        return if time - $last_toggle < 2;
        $last_toggle = time;
        $cpu_high = !$cpu_high;
        eval { $stack->sim_metrics($sim, node => 'node1', cpu => $cpu_high ? 0.95 + rand(0.04) : 0.10) };
    };
    my $run = sub {
        my ($secs, $until) = @_;
        my $end = time + $secs;
        while (time < $end) {
            $toggle->();
            my $ok = $write->();
            return 1 if $until && $ok;
            sleep 0.02;
        }
        return 0;
    };
    my $last_poll = sub {
        my $v = eval { $stack->psql("SELECT coalesce(extract(epoch FROM last_success), 0) FROM pulse.poll_status "
            . "WHERE instance_id = '$inst'") };
        return $v // 0;
    };

    $run->($load_s);
    my $before = scalar @acked;
    ok($before > 0, "$mode: $before writes acknowledged before the failover");

    # A request in the middle of its work when the primary dies: a token create waits on a
    # lock held by a psql session, then the primary's processes are killed.
    my $locker = fork // die "fork: $!";
    if (!$locker) {
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', '/dev/null';
        my $pulse_db = $stack->primary_conninfo =~ s/dbname=postgres/dbname=pulse/r;
        exec({ PulseStack::pg_bin() . '/psql' } 'psql', '-X', '-q', '-d', $pulse_db, '-c',
            'BEGIN; LOCK TABLE pulse.api_tokens IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(60)')
            or POSIX::_exit(127);
    }
    $stack->wait_for(sub { $stack->psql("SELECT count(*) FROM pg_locks WHERE relation = 'pulse.api_tokens'::regclass "
        . "AND mode = 'AccessExclusiveLock' AND granted") > 0 }, 20, 'the lock');
    my $mid = Mojo::UserAgent->new(insecure => 1, request_timeout => 60);
    my $mid_res;
    # One turn of the event loop, at most 50 ms long.
    my $tick = sub { Mojo::IOLoop->timer(0.05 => sub { }); Mojo::IOLoop->one_tick };
    $mid->post($url->('/api/security/tokens') => $auth => json => { name => 'mid-request' } => sub { $mid_res = $_[1]->res });
    my $waiting = 0;
    $stack->wait_for(sub {
        $tick->();
        $waiting = $stack->psql(q{SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'});
        $waiting > 0;
    }, 20, 'the token create to wait on the lock');
    $stack->kill_primary;
    waitpid $locker, 0;
    my $t_kill = time;
    $run->($gap_s);	# the old primary is gone, the standby still read-only
    $stack->wait_for(sub { $tick->(); $mid_res }, 60, 'the cut-off request to be answered');
    is($mid_res->code, 503, "$mode: the request cut off in the middle answers 503") or diag $mid_res->body;
    is((eval { $mid_res->json } // {})->{code}, 'database_unavailable', "$mode: as database_unavailable");
    $stack->promote_standby;
    my $t_promote = time;
    ok($run->(60, 1), "$mode: a write succeeds again within 60 s of the promote");
    my $to_write = time - $t_promote;
    # Polling resumes: last_success moves past the promote.
    my $to_poll;
    my $deadline = time + 60;
    while (time < $deadline) {
        $toggle->();
        $write->();
        if ($last_poll->() > $t_promote) { $to_poll = time - $t_promote; last }
        sleep 0.05;
    }
    ok(defined $to_poll, "$mode: polling resumed after the promote");
    $run->($load_s);

    # --- afterwards: every acknowledged write is there -------------------------------------
    $stack->sim_metrics($sim, node => 'node1', cpu => 0.10);
    my $q = sub { my $s = shift; $s =~ s/'/''/g; "'$s'" };
    my $in = sub { join(',', map { $q->($_) } @_) || "''" };
    my %deleted = map { $_->{id} => 1 } grep { $_->{kind} eq 'delete' } @acked;
    my @want_tokens = grep { !$delete_tried{$_} } map { $_->{id} } grep { $_->{kind} eq 'create' } @acked;
    my %have_tokens = map { $_ => 1 } split /\n/, $stack->psql('SELECT id FROM pulse.api_tokens WHERE id IN ('
        . $in->(@want_tokens, keys %deleted) . ')');
    my @acks = map { $_->{id} } grep { $_->{kind} eq 'ack' } @acked;
    my $acks_there = $stack->psql('SELECT count(*) FROM pulse.alerts WHERE acknowledged AND id IN ('
        . $in->(@acks) . ')');
    my ($last_node) = map { $_->{seq} } grep { $_->{kind} eq 'node' } reverse @acked;
    my ($node_seq) = ($stack->psql("SELECT guest_url FROM pulse.instances WHERE id = '$inst'") =~ /g(\d+)\./);
    my %lost = (
        created => scalar(grep { !$have_tokens{$_} } @want_tokens) + @gone,
        deleted => scalar(grep { $have_tokens{$_} } keys %deleted),
        acks    => @acks - $acks_there,
        node    => (defined $last_node && ($node_seq // 0) < $last_node) ? 1 : 0,
    );
    diag "$mode: alerts inserted by the test and not found when acknowledged: @gone_alerts" if @gone_alerts;
    my $lost = 0;
    $lost += $_ for values %lost;

    # Notifications: every queued row of the surviving database reaches the sink, once.
    $stack->wait_for(sub { $stack->psql(q{SELECT count(*) FROM pulse.notification_queue
        WHERE status IN ('pending', 'sending')}) == 0 }, 90, 'the notification queue to drain', 'worker-1');
    my @rows = split /\n/, $stack->psql(q{SELECT id FROM pulse.notification_queue WHERE status = 'sent'});
    my $st = $ua->get("$sink->{url}/__sink/stats")->result->json;
    my $received = $st->{received} // {};
    my %in_db = map { $_ => 1 } @rows;
    my $n_lost = grep { !$received->{$_} } @rows;
    my $n_twice = grep { $_ > 1 } values %$received;
    my $n_unknown = grep { !$in_db{$_} } keys %$received;
    my $other = $stack->psql(q{SELECT count(*) FROM pulse.notification_queue WHERE status NOT IN ('sent')});

    diag sprintf("%s: %d writes acknowledged (%d before the kill); promote %.2f s after the kill; "
        . "first 2xx write %.2f s after the promote; polling resumed %.2f s after the promote",
        $mode, scalar @acked, $before, $t_promote - $t_kill, $to_write, $to_poll // -1);
    diag sprintf("%s: acknowledged writes lost: %d (tokens created %d, tokens deleted %d, acks %d, node "
        . "update %d); answers: %s", $mode, $lost, @lost{qw(created deleted acks node)},
        join(' ', map { "$_ x$codes{$_}" } sort keys %codes));
    diag sprintf("%s: notifications: %d sent rows, %d deliveries received; lost %d, twice %d, received "
        . "but not in the promoted database %d, rows not sent %d", $mode, scalar @rows,
        scalar keys %$received, $n_lost, $n_twice, $n_unknown, $other);

    is($lost, 0, "$mode: no acknowledged write lost") if $sync;
    ok(@rows > 0, "$mode: alerts were delivered");
    is($n_lost, 0, "$mode: no notification lost");
    is($n_twice, 0, "$mode: no notification delivered twice");
    is(scalar @bad, 0, "$mode: no 5xx but 503, no dropped request") or diag join("\n", @bad);
    ok(!$bad503, "$mode: every 503 is JSON database_unavailable");
    for my $name (sort keys %pids) {
        ok($stack->alive($name), "$mode: $name still running");
        is($stack->pid_of($name), $pids{$name}, "$mode: $name was not restarted");
    }
    is($stack->psql('SELECT pg_is_in_recovery()'), 'f', "$mode: the promoted standby takes the writes");
    ok(scalar(grep { /database connection restored/ } split /\n/, $stack->log_tail("fcgi-1", 1_000_000)), "$mode: the responder reconnected");
    $stack->stop;
}

drill(1);
drill(0) if $long;

done_testing;
