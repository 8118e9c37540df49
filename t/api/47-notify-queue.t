#!/usr/bin/perl
# 47-notify-queue.t: the notification queue through the real stack: webhooks queued with
# t/tools/notify-enqueue are delivered exactly once to t/fakes/webhook-sink.pl by the
# worker's sender threads; a receiver down for a while, failures into the DLQ (shown without
# secrets), DLQ retry and delete, statistics; the SSRF guard at send time (private target,
# allowlist, redirect to a private address); a hanging receiver; a worker killed mid-drain;
# PostgreSQL restarted mid-drain; bad input to the queue endpoints. make check runs every case
# with small counts, batches and lease margins; make drill (PULSE_DRILL=1) with the large ones
# and the default margin.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::JSON qw(true false encode_json decode_json);
use Mojo::Promise;
use Test::More;
use Time::HiRes qw(sleep);
use PulseStack;
use PulseTest;
use WireContract;

# Short timeouts and small batches keep the fault cases quick (a claimed row's lease is the
# timeout times its place in the batch, plus notify_lease_margin: the killed worker's rows and
# outcomes lost in the PostgreSQL restart wait for it); no rate limit (one URL).
my $drill = $ENV{PULSE_DRILL} ? 1 : 0;
my %n = $drill ? (happy => 30, down => 10, flow => 10, kill => 40, term => 20, pg => 40)
    : (happy => 10, down => 4, flow => 4, kill => 16, term => 10, pg => 16);
# The sink's delay per answer while a fault is injected: the queue takes about as long to
# drain in both modes (rows x delay / 4 senders), so the fault lands mid-drain.
my %delay = $drill ? (kill => 0.2, term => 0.5, pg => 0.1) : (kill => 0.5, term => 0.5, pg => 0.25);
my $stack = PulseStack->new(settings => { notify_timeout => 3, notify_batch => $drill ? 5 : 2,
    notify_lease_margin => $drill ? 15 : 4, notify_rate_limit => 0, notify_senders => 4 })->start;
$stack->setup_admin;
my $ua = $stack->ua;
my $auth = $stack->token_headers;
my $json_h = { %$auth, 'Content-Type' => 'application/json' };
my $sink = $stack->start_webhook_sink;
my $tool = PulseStack::builddir() . '/t/tools/notify-enqueue';

sub sink_get { my $p = shift; $ua->get("$sink->{url}/__sink/$p")->result->json }
sub sink_mode { $ua->post("$sink->{url}/__sink/mode" => json => {@_})->result }
sub sink_reset { $ua->post("$sink->{url}/__sink/reset")->result }
sub settings { my $v = shift;
    $stack->psql("INSERT INTO pulse.system_settings (key, value) VALUES "
        . "('webhookAllowedPrivateCIDRs', to_jsonb('$v'::text)) ON CONFLICT (key) DO UPDATE "
        . "SET value = EXCLUDED.value") }
sub q_count { $stack->psql("SELECT count(*) FROM pulse.notification_queue WHERE $_[0]") }

# Queues n webhook rows to url; returns their ids.
sub enqueue {
    my ($n, $url, %o) = @_;
    my $cfg = encode_json({ name => $o{name} // 'sink', url => $url, method => 'POST',
        enabled => true, service => $o{service} // 'generic',
        headers => $o{headers} // { 'X-Api-Key' => 'hdr-secret-123456' },
        customFields => $o{fields} // {}, template => '' });
    my $alerts = encode_json([{ id => "$o{prefix}-{n}", type => 'cpu', level => 'warning',
        resourceId => 'pve1:node1/qemu/100', resourceName => 'vm100', node => 'node1',
        instance => 'pve1', message => 'CPU at 95%', value => 95, threshold => 80,
        startTime => '2026-01-02T03:04:05Z', lastSeen => '2026-01-02T03:05:05Z',
        acknowledged => false }]);
    local $ENV{PULSE_CONFIG} = $stack->conf_path;
    my @ids = grep { length } split /\n/, qx{'$tool' -t webhook -n $n -i wh1 -C '$cfg' -a '$alerts' 2>&1};
    is(scalar @ids, $n, "$n rows queued") or diag("@ids");
    return @ids;
}

sub ids_in { my ($status, @ids) = @_;
    $stack->psql("SELECT count(*) FROM pulse.notification_queue WHERE status = '$status' AND id IN ("
        . join(',', map { "'$_'" } @ids) . ')') }
sub row { my $id = shift;
    my ($status, $attempts, $err) = split /\|/, $stack->psql(
        "SELECT status, attempts, coalesce(last_error, '') FROM pulse.notification_queue WHERE id = '$id'"), 3;
    return { status => $status // '', attempts => $attempts // 0, error => $err // '' } }
my $api = sub { $stack->url('/api/notifications' . shift) };

sub wait_until {
    my ($what, $cond, $timeout) = @_;
    ok($stack->wait_for($cond, $timeout // 60, $what, 'worker-1'), $what);
}

# The loopback sink needs the allowlist; without it, a send is refused (later case).
settings('127.0.0.1');

# --- N webhooks delivered exactly once ----------------------------------------------------
my @ids = enqueue($n{happy}, "$sink->{url}/hook", prefix => 'happy');
wait_until("$n{happy} rows sent", sub { q_count("status = 'sent'") == $n{happy} });
my $st = sink_get('stats');
is(scalar keys %{ $st->{received} }, $n{happy}, "the receiver saw $n{happy} delivery keys");
is((grep { $_ != 1 } values %{ $st->{received} }), 0, 'each exactly once');
is_deeply([sort keys %{ $st->{received} }], [sort @ids], 'the keys are the queue ids');
my $reqs = sink_get('requests');
my $r0 = $reqs->[0];
is($r0->{method}, 'POST', 'POST');
is($r0->{headers}{'User-Agent'}, 'Pulse-Monitoring/2.0', 'User-Agent');
like($r0->{headers}{'Content-Type'}, qr{^application/json}, 'JSON content type');
is($r0->{headers}{'X-Api-Key'}, 'hdr-secret-123456', 'the configured header is sent');
my $body = decode_json($r0->{body});
ok(ref $body eq 'HASH', 'the body is a JSON object');
is($stack->psql("SELECT count(*) FROM pulse.notification_deliveries WHERE success"), $n{happy},
    'one delivery recorded per row');
is($stack->psql("SELECT count(*) FROM pulse.notification_deliveries WHERE delivery_key <> notification_id"),
    0, 'the delivery key is the row id');

# --- the receiver down for a while, then up: all delivered, none twice -------------------
sink_reset();
sink_mode(down => 1);
@ids = enqueue($n{down}, "$sink->{url}/hook", prefix => 'down');
wait_until('every row tried while the receiver is down',
    sub { q_count("id LIKE 'webhook-%' AND status = 'pending' AND attempts >= 1 AND last_error LIKE '%HTTP 503%'") == $n{down} }, 30);
sink_mode(down => 0);
my $sent_so_far = $n{happy} + $n{down};
wait_until("all $n{down} sent once the receiver is up", sub { q_count("status = 'sent'") == $sent_so_far });
$st = sink_get('stats');
is(scalar(grep { $st->{keys}{$_} } @ids), $n{down}, "all $n{down} accepted by the receiver");
is((grep { ($st->{keys}{$_} // 0) != 1 } @ids), 0, 'none accepted twice');

# --- failures into the DLQ, shown without secrets; retry; delete; stats ------------------
sink_reset();
sink_mode(fail => 3);
my ($dlq_id) = enqueue(1, "$sink->{url}/hook?token=urlsecret-987654", prefix => 'dlq',
    name => 'dlq hook', fields => { apiSecret => 'field-secret-555555' });
wait_until('three failures put the row in the DLQ', sub { row($dlq_id)->{status} eq 'dlq' }, 60);
my $r = row($dlq_id);
is($r->{attempts}, 3, 'three attempts');
like($r->{error}, qr/^webhook returned HTTP 500: /, 'last_error: the receiver\'s answer');
is($stack->psql("SELECT count(*) FROM pulse.notification_deliveries WHERE notification_id = '$dlq_id'"),
    3, 'three attempts recorded');
is($stack->psql("SELECT count(DISTINCT delivery_key) FROM pulse.notification_deliveries WHERE notification_id = '$dlq_id'"),
    1, 'one delivery key for all attempts');
$st = sink_get('stats');
is($st->{received}{$dlq_id}, 3, 'the receiver saw the same key three times');

my $res = $ua->get($api->('/dlq') => $auth)->result;
is($res->code, 200, 'GET /dlq');
my $dlq = json_body($res, 'dlq');
my ($item) = grep { $_->{id} eq $dlq_id } @$dlq;
ok($item, 'the row is listed');
is($item->{status}, 'dlq', 'status dlq');
is($item->{attempts}, 3, 'attempts');
is($item->{maxAttempts}, 3, 'maxAttempts');
is($item->{type}, 'webhook', 'type');
is(ref $item->{alerts}, 'ARRAY', 'alerts array');
is($item->{alerts}[0]{id}, 'dlq-1', 'the alert');
like($item->{lastError}, qr/HTTP 500/, 'lastError');
like($item->{createdAt}, qr/^\d{4}-\d\d-\d\dT/, 'createdAt RFC 3339');
is($item->{config}{name}, 'dlq hook', 'the config is shown');
is($item->{config}{headers}{'X-Api-Key'}, '***REDACTED***', 'header values redacted');
is($item->{config}{customFields}{apiSecret}, '***REDACTED***', 'custom field values redacted');
like($item->{config}{url}, qr/token=\*\*\*REDACTED\*\*\*/, 'URL token redacted');
for my $secret (qw(hdr-secret-123456 urlsecret-987654 field-secret-555555)) {
    ok(index($res->body, $secret) < 0, "the DLQ answer does not hold $secret");
}
$res = $ua->get($api->('/dlq?limit=1') => $auth)->result;
is(scalar @{ $res->json }, 1, 'limit=1');

$res = $ua->get($api->('/queue/stats') => $auth)->result;
is($res->code, 200, 'GET /queue/stats');
my $stats = json_body($res, 'stats');
ok($stats->{sent} >= $sent_so_far, 'stats: sent');
is($stats->{dlq}, 1, 'stats: one dlq');
ok(!exists $stats->{failed}, 'statuses without rows are absent');
# Both answers keep the original's wire format.
my $wc = WireContract->new;
$wc->check('NotificationQueueStats', $stats, 'queue stats');
$wc->check('NotificationDLQEntry', $_, 'dlq entry') for @$dlq;
is_deeply([$wc->problems], [], 'stats and DLQ entries match the wire contract');

$res = $ua->post($api->('/dlq/retry') => $json_h => json => { id => $dlq_id })->result;
is($res->code, 200, 'retry');
is_deeply($res->json, { success => true, message => 'Notification scheduled for retry', id => $dlq_id },
    'retry answer');
wait_until('the retried row is sent', sub { row($dlq_id)->{status} eq 'sent' }, 30);
is(row($dlq_id)->{attempts}, 1, 'retry started again from attempt 1');
json_error_ok($ua->post($api->('/dlq/retry') => $json_h => json => { id => $dlq_id })->result,
    404, 'not_found', 'retry of a row no longer in the DLQ');

# --- the SSRF guard at send time; DLQ delete -------------------------------------------------
# Both rows go to the DLQ in the same few seconds (the second one only needs to be there).
settings('');
my ($priv_id) = enqueue(1, "$sink->{url}/hook", prefix => 'priv');
my ($del_id) = enqueue(1, "$sink->{url}/status/500/x", prefix => 'del');
wait_until('a loopback target without allowlist ends in the DLQ, and a second row',
    sub { ids_in('dlq', $priv_id, $del_id) == 2 }, 60);
like(row($priv_id)->{error}, qr/webhook URL refused: localhost URLs are not allowed/, 'a clear error');
is(sink_get('stats')->{received}{$priv_id}, undef, 'nothing reached the receiver');
$res = $ua->delete($api->('/dlq/delete') => $json_h => json => { id => $del_id })->result;
is($res->code, 200, 'DELETE /dlq/delete');
is($res->json->{message}, 'Notification deleted from DLQ', 'delete answer');
is(q_count("id = '$del_id'"), 0, 'the row is gone');
json_error_ok($ua->post($api->('/dlq/delete') => $json_h => json => { id => $del_id })->result,
    404, 'not_found', 'delete of an unknown id');

settings('127.0.0.1');
$ua->post($api->('/dlq/retry') => $json_h => json => { id => $priv_id });
wait_until('allowlisted, it is sent', sub { row($priv_id)->{status} eq 'sent' }, 30);
is_deeply($ua->get($api->('/dlq') => $auth)->result->json, [], 'an empty DLQ is []');

my ($redir_ok) = enqueue(1, "$sink->{url}/redirect?to=$sink->{url}/landed", prefix => 'redir');
wait_until('a redirect to an allowed URL is followed', sub { row($redir_ok)->{status} eq 'sent' }, 30);
ok((grep { $_->{path} eq '/landed' && $_->{key} eq $redir_ok } @{ sink_get('requests') }),
    'the target got the request with the same delivery key');

# --- a resolved alert leaves grouped rows (QUIRK 6) ----------------------------------------
sink_mode(down => 1);
my $group_cfg = encode_json({ name => 'grp', url => "$sink->{url}/hook", service => 'generic' });
my $group_alerts = encode_json([map { { id => "grp-$_", type => 'cpu', level => 'warning',
    resourceName => "vm$_", message => "alert $_", value => 90, threshold => 80 } } 1, 2]);
my ($grp_id) = do { local $ENV{PULSE_CONFIG} = $stack->conf_path;
    grep { length } split /\n/, qx{'$tool' -t webhook -n 1 -C '$group_cfg' -a '$group_alerts' 2>&1} };
my $cancel = sub { local $ENV{PULSE_CONFIG} = $stack->conf_path; my $a = shift; scalar qx{'$tool' -X $a} };
is($cancel->('grp-1') + 0, 1, 'resolving one alert of a grouped row changes that row');
is($stack->psql("SELECT array_to_string(alert_ids, ',') || ' ' || jsonb_array_length(alerts) || ' ' || CASE WHEN status IN ('pending', 'sending') THEN 't' ELSE status END "
    . "FROM pulse.notification_queue WHERE id = '$grp_id'"), 'grp-2 1 t', 'only that alert left the row, still queued');
is($cancel->('grp-2') + 0, 1, 'resolving the last alert');
is(row($grp_id)->{status}, 'cancelled', 'the row is cancelled');
is(row($grp_id)->{error}, 'Alert resolved', 'with the reason');
is($cancel->('grp-3') + 0, 0, 'an alert in no row changes nothing');
sink_mode(down => 0);
sleep 1;
is(row($grp_id)->{status}, 'cancelled', 'a cancelled row stays cancelled');

# --- a hanging receiver: timeout, retry, other rows keep flowing ------------------------------
# Meanwhile (the same few seconds of retries), redirects to private addresses go to the DLQ.
my ($hang_id) = enqueue(1, "$sink->{url}/hang/x", prefix => 'hang');
my @redir_bad = (enqueue(1, "$sink->{url}/redirect?to=http://10.255.255.1/x", prefix => 'rp'),
    enqueue(1, "$sink->{url}/redirect307?to=http://169.254.169.254/latest/meta-data/", prefix => 'rm'));
wait_until('the hanging request arrived', sub { sink_get('stats')->{received}{$hang_id} });
@ids = enqueue($n{flow}, "$sink->{url}/hook", prefix => 'flow');
wait_until('other rows are sent while one hangs', sub { ids_in('sent', @ids) == $n{flow} }, 30);
wait_until('the hanging send times out and is retried',
    sub { my $x = row($hang_id); $x->{attempts} >= 2 || $x->{status} eq 'dlq' }, 60);
like($stack->psql("SELECT error FROM pulse.notification_deliveries WHERE notification_id = '$hang_id' ORDER BY seq LIMIT 1"),
    qr/Timeout|timed out/i, 'the attempt failed on the timeout');
wait_until('redirects to private and metadata addresses end in the DLQ',
    sub { ids_in('dlq', @redir_bad) == 2 }, 60);
like(row($redir_bad[0])->{error}, qr/^redirect URL refused: resolves to private IP 10\.255\.255\.1/,
    'the private redirect is refused');
like(row($redir_bad[1])->{error}, qr/^redirect URL refused: link-local/, 'the metadata redirect is refused');
$ua->delete($api->('/dlq/delete') => $json_h => json => { id => $_ }) for @redir_bad;

# --- a worker killed mid-drain: another finishes the queue ------------------------------------
# Worker 1 alone claims the first batches; killed with rows claimed and in flight, those rows
# come back when their lease is over and worker 2, started after the kill, sends them.
sink_reset();
sink_mode(delay => $delay{kill});
@ids = enqueue($n{kill}, "$sink->{url}/hook", prefix => 'kill');
wait_until('some rows sent, others claimed', sub { ids_in('sent', @ids) >= 2 && ids_in('sending', @ids) >= 2 }, 60);
$stack->stop_program('worker-1', 'KILL', 10);
ok(ids_in('sent', @ids) < $n{kill}, 'rows were left when the worker was killed');
$stack->start_worker(2);
wait_until('worker 2 finishes the queue', sub { ids_in('sent', @ids) == $n{kill} }, 120);
like($stack->log_tail('worker-2', 400), qr/notifications of a stopped sender are queued again/,
    'the killed worker\'s claimed rows were queued again after their lease');
$st = sink_get('stats');
my @dups = grep { ($st->{received}{$_} // 0) > 1 } @ids;
ok(@dups <= 4, scalar(@dups) . ' duplicates: at most one per sender thread of the killed worker');
is((grep { !$st->{received}{$_} } @ids), 0, 'every row reached the receiver');
is($stack->psql("SELECT count(*) FROM pulse.notification_deliveries WHERE delivery_key = ANY(ARRAY["
    . join(',', map { "'$_'" } @ids) . "]) AND delivery_key <> notification_id"), 0,
    'every attempt carries its row\'s key');
sink_mode(delay => 0);
$stack->start_worker(1);

# --- SIGTERM: the current sends finish, the rest go back at once --------------------------
sink_reset();
sink_mode(delay => $delay{term});
$stack->stop_program('worker-2', 'TERM', 30);
@ids = enqueue($n{term}, "$sink->{url}/hook", prefix => 'term');
wait_until('some rows in flight', sub { ids_in('sending', @ids) >= 2 }, 30);
my $status = $stack->stop_program('worker-1', 'TERM', 30);
is($status, 0, 'worker 1 stopped cleanly');
is(q_count("status = 'sending' AND id IN (" . join(',', map { "'$_'" } @ids) . ')'), 0,
    'no row left sending after a clean stop');
$st = sink_get('stats');
is($stack->psql("SELECT count(*) FROM pulse.notification_queue WHERE status = 'pending' AND attempts > 0 AND id IN ("
    . join(',', map { "'$_'" } @ids) . ')'), 0, 'rows given back are not counted as attempts');
$stack->start_worker(1);
wait_until('the rest is sent after the restart', sub { ids_in('sent', @ids) == $n{term} }, 60);
$st = sink_get('stats');
is((grep { ($st->{received}{$_} // 0) != 1 } @ids), 0, 'each received exactly once');
sink_mode(delay => 0);

# --- PostgreSQL restarted mid-drain --------------------------------------------------------------
sink_reset();
sink_mode(delay => $delay{pg});
@ids = enqueue($n{pg}, "$sink->{url}/hook", prefix => 'pg');
wait_until('some rows sent before the restart', sub { ids_in('sent', @ids) >= 2 }, 60);
$stack->pg_stop('fast');
sleep 2;
$stack->pg_start;
wait_until('all delivered after PostgreSQL came back', sub { ids_in('sent', @ids) == $n{pg} }, 120);
$st = sink_get('stats');
is((grep { !$st->{received}{$_} } @ids), 0, 'every row reached the receiver');
sink_mode(delay => 0);
# Each responder thread reconnects on its own schedule (at most 5 s apart): the API is back
# when a burst of concurrent requests, enough to reach every thread, all succeed.
wait_until('the API answers again on every responder thread', sub {
    my $up = 0;
    Mojo::Promise->all(map { $ua->get_p($api->('/queue/stats') => $auth) } 1 .. 12)
        ->then(sub { $up = !grep { $_->[0]->result->code != 200 } @_ }, sub { $up = 0 })->wait;
    $up }, 60);

# --- bad input, credentials and scopes ---------------------------------------------------------------
for my $q ('abc', '0', '5000', '-1', '1.5') {
    json_error_ok($ua->get($api->("/dlq?limit=$q") => $auth)->result, 400, 'invalid_field', "limit=$q");
}
for my $path ('/dlq/retry', '/dlq/delete') {
    json_error_ok($ua->post($api->($path) => $json_h => '{"id":')->result, 400, 'invalid_json',
        "$path: malformed JSON");
    ok($ua->post($api->($path) => $json_h => '[1]')->result->code == 400, "$path: not an object");
    json_error_ok($ua->post($api->($path) => $json_h => json => { id => 5 })->result, 400,
        'invalid_field', "$path: id a number");
    json_error_ok($ua->post($api->($path) => $json_h => json => {})->result, 400,
        'invalid_field', "$path: id missing");
    json_error_ok($ua->post($api->($path) => $json_h => json => { id => '' })->result, 400,
        'invalid_field', "$path: id empty");
    json_error_ok($ua->post($api->($path) => $json_h => json => { id => 'x' x 300 })->result, 400,
        'invalid_field', "$path: id too long");
    my $big = $ua->post($api->($path) => $json_h => json => { id => 'y' x 20000 })->result;
    ok($big->code >= 400 && $big->code < 500, "$path: oversized body refused: " . $big->code);
    like($big->headers->content_type // '', qr{json}, "$path: oversized body: JSON answer");
    json_error_ok($ua->post($api->($path) => $json_h => json => { id => 'webhook-nope' })->result,
        404, 'not_found', "$path: unknown id");
    json_error_ok($ua->post($api->($path) => { 'Content-Type' => 'application/json' } => json => { id => 'x' })->result,
        401, 'unauthorized', "$path: no credentials");
}
is($ua->put($api->('/dlq/delete') => $json_h => json => { id => 'x' })->result->code, 405, 'PUT: 405');
json_error_ok($ua->get($api->('/queue/stats'))->result, 401, 'unauthorized', 'stats without credentials');
json_error_ok($ua->get($api->('/dlq'))->result, 401, 'unauthorized', 'dlq without credentials');
my %tok;
for my $scope (qw(monitoring:read monitoring:write)) {
    $res = $ua->post($stack->url('/api/security/tokens') => $auth =>
        json => { name => "queue $scope", scopes => [$scope] })->result;
    $tok{$scope} = $res->json->{token};
}
my $ro = { 'X-API-Token' => $tok{'monitoring:read'}, 'Content-Type' => 'application/json' };
my $wo = { 'X-API-Token' => $tok{'monitoring:write'} };
is($ua->get($api->('/queue/stats') => $ro)->result->code, 200, 'stats with a read token');
json_error_ok($ua->post($api->('/dlq/retry') => $ro => json => { id => 'x' })->result, 403,
    'missing_scope', 'retry with a read token');
json_error_ok($ua->get($api->('/dlq') => $wo)->result, 403, 'missing_scope', 'dlq with a write-only token');

no_secret_in_logs($stack, 'hdr-secret-123456', 'urlsecret-987654', 'field-secret-555555');

done_testing();
