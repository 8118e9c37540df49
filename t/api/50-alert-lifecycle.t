#!/usr/bin/perl
# 50-alert-lifecycle.t: what a user does to alerts (alerts-notifications.md §5, §6):
# acknowledge, unacknowledge and clear (JSON and legacy path forms), the bulk forms, the
# history with its filters, incidents and notes; bad input, credentials and scopes. Alerts
# are inserted by SQL as the engine writes them.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::JSON qw(true false encode_json);
use Mojo::Util qw(url_escape);
use Test::More;
use PulseStack;
use PulseTest;

my $stack = PulseStack->new->start;
$stack->setup_admin;
my $ua = $stack->ua;
my $auth = $stack->token_headers;
my $json = { %$auth, 'Content-Type' => 'application/json' };
my $url = sub { $stack->url(shift) };
my $q = sub { my $s = shift; $s =~ s/'/''/g; "'$s'" };

# An active alert row as the engine writes it.
sub raise {
    my ($id, %o) = @_;
    my $rid = $o{resource} // 'pve1:node1:101';
    my $level = $o{level} // 'warning';
    my $start = $o{start} // 'now()';
    $stack->psql("INSERT INTO pulse.alerts (id, type, level, resource_id, resource_name, node, instance, "
        . "message, value, threshold, start_time, last_seen, metadata, source) VALUES ("
        . join(', ', map { $q->($_) } $id, $o{type} // 'cpu', $level, $rid, 'web1', 'node1', 'pve1',
            "CPU at 95%") . ", 95, 80, $start, now(), "
        . "'{\"resourceType\":\"guest\",\"clearThreshold\":75,\"monitorOnly\":false}', 'pve-1') "
        . "ON CONFLICT (id) DO UPDATE SET resolved_at = NULL, start_time = EXCLUDED.start_time");
}
my $row = sub {
    my $id = shift;
    $stack->psql("SELECT acknowledged, coalesce(ack_user, '-'), ack_time IS NOT NULL, resolved_at IS NOT NULL "
        . "FROM pulse.alerts WHERE id = " . $q->($id));
};
my $version = sub { $stack->psql('SELECT version FROM pulse.state_version') };
my $etag = sub { $ua->get($url->('/api/state') => $auth)->result->headers->header('ETag') // '' };

my $id = 'pve1:node1:101-cpu';
raise($id);

# Acknowledge: the row, the caller as ack user, the state version.
my ($v0, $e0) = ($version->(), $etag->());
my $res = $ua->post($url->('/api/alerts/acknowledge') => $json => json => { id => $id, user => 'mallory' })->result;
is($res->code, 200, 'acknowledge') or diag $res->body;
is_deeply(json_body($res, 'ack'), { success => true }, 'ack answer');
like($row->($id), qr/^t\|token:[0-9a-f-]+\|t\|f$/, 'acknowledged by the calling token, not the body user');
ok($version->() > $v0, 'state version moved');
isnt($etag->(), $e0, '/api/state ETag moved');

# Unacknowledge.
$res = $ua->post($url->('/api/alerts/unacknowledge') => $json => json => { id => $id })->result;
is($res->code, 200, 'unacknowledge');
is($row->($id), 'f|-|f|f', 'ack fields cleared');

# Clear: resolved, the row stays; queue rows holding it lose it (QUIRK 6 fixed).
my $other = 'pve1:node1:102-memory';
raise($other, type => 'memory');
my $alert_json = sub { encode_json([map { { id => $_ } } @_]) };
$stack->psql("INSERT INTO pulse.notification_queue (id, type, status, alerts, alert_ids, config) VALUES "
    . "('q-alone', 'email', 'pending', " . $q->($alert_json->($id)) . ", ARRAY[" . $q->($id) . "], 'enc:v1:x'), "
    . "('q-shared', 'webhook', 'sending', " . $q->($alert_json->($id, $other)) . ", ARRAY[" . $q->($id) . ", "
    . $q->($other) . "], 'enc:v1:x'), "
    . "('q-done', 'email', 'sent', " . $q->($alert_json->($id)) . ", ARRAY[" . $q->($id) . "], 'enc:v1:x'), "
    . "('q-recovery', 'email_resolved', 'pending', " . $q->($alert_json->($id)) . ", ARRAY[" . $q->($id)
    . "], 'enc:v1:x')");
$stack->psql("INSERT INTO pulse.notification_group (alert_id, alert, flush_at) VALUES (" . $q->($id)
    . ", '{}', now() + interval '30 seconds')");
$ua->post($url->('/api/alerts/acknowledge') => $json => json => { id => $id })->result;
$v0 = $version->();
$res = $ua->post($url->('/api/alerts/clear') => $json => json => { id => $id })->result;
is($res->code, 200, 'clear') or diag $res->body;
like($row->($id), qr/^t\|token:.*\|t\|t$/, 'resolved, the row and its ack kept');
ok($version->() > $v0, 'clear moved the state version');
is($stack->psql("SELECT status || '|' || coalesce(last_error, '') FROM pulse.notification_queue WHERE id = 'q-alone'"),
    'cancelled|Alert resolved', 'a row holding only that alert is cancelled');
is($stack->psql("SELECT status || '|' || array_to_string(alert_ids, ',') || '|' || (alerts->0->>'id') || '|' "
    . "|| jsonb_array_length(alerts) FROM pulse.notification_queue WHERE id = 'q-shared'"),
    "sending|$other|$other|1", 'a shared row keeps the other alert');
is($stack->psql("SELECT status FROM pulse.notification_queue WHERE id = 'q-done'"), 'sent', 'a sent row untouched');
is($stack->psql("SELECT status FROM pulse.notification_queue WHERE id = 'q-recovery'"), 'pending',
    'a recovery row untouched');
is($stack->psql('SELECT count(*) FROM pulse.notification_group WHERE alert_id = ' . $q->($id)), 0,
    'left the grouping buffer');
json_error_ok($ua->post($url->('/api/alerts/clear') => $json => json => { id => $id })->result, 404,
    'alert_not_found', 'clearing a resolved alert');
my $e = json_error_ok($ua->post($url->('/api/alerts/acknowledge') => $json => json => { id => $id })->result,
    404, 'alert_not_found', 'acknowledging a resolved alert');
is($e->{error}, "alert not found: $id", 'the message names the id');

# Legacy path forms: the id percent-escaped in the path.
my $odd = 'host:abc-disk temp%x';
raise($odd);
for my $form (['acknowledge', qr/^t\|/], ['unacknowledge', qr/^f\|-\|/], ['clear', qr/\|t$/]) {
    $res = $ua->post($url->('/api/alerts/' . url_escape($odd) . "/$form->[0]") => $auth)->result;
    is($res->code, 200, "legacy $form->[0]") or diag $res->body;
    like($row->($odd), $form->[1], "legacy $form->[0] applied");
}
json_error_ok($ua->post($url->('/api/alerts/no-such-alert/acknowledge') => $auth)->result, 404,
    'alert_not_found', 'legacy form, unknown id');
json_error_ok($ua->post($url->('/api/alerts/%20x/clear') => $auth)->result, 400, 'invalid_field',
    'legacy form, a leading space');

# Bulk: a mix of known and unknown ids.
raise("bulk-$_") for 1 .. 3;
$res = $ua->post($url->('/api/alerts/bulk/acknowledge') => $json =>
    json => { alertIds => ['bulk-1', 'nope', 'bulk-2', ' bad'] })->result;
is($res->code, 200, 'bulk acknowledge');
is_deeply(json_body($res, 'bulk ack')->{results}, [
    { alertId => 'bulk-1', success => true },
    { alertId => 'nope', success => false, error => 'alert not found' },
    { alertId => 'bulk-2', success => true },
    { alertId => ' bad', success => false, error => 'invalid alert ID' },
], 'per-id results');
is($stack->psql("SELECT string_agg(id, ',' ORDER BY id) FROM pulse.alerts WHERE acknowledged AND id LIKE 'bulk-%'"),
    'bulk-1,bulk-2', 'the known ones acknowledged');
$res = $ua->post($url->('/api/alerts/bulk/clear') => $json => json => { alertIds => ['bulk-3', 'bulk-3'] })->result;
is_deeply(json_body($res, 'bulk clear')->{results}, [
    { alertId => 'bulk-3', success => true },
    { alertId => 'bulk-3', success => false, error => 'alert not found' },
], 'bulk clear: the second time not found');
for my $b (['{}', 'no alertIds'], ['{"alertIds":[]}', 'empty alertIds'], ['{"alertIds":null}', 'null alertIds']) {
    $e = json_error_ok($ua->post($url->('/api/alerts/bulk/clear') => $json => $b->[0])->result, 400,
        'invalid_field', "bulk: $b->[1]");
    is($e->{error}, 'No alert IDs provided', "bulk: $b->[1]: message");
}
json_error_ok($ua->post($url->('/api/alerts/bulk/acknowledge') => $json => '{"alertIds":"bulk-1"}')->result,
    400, 'invalid_field', 'bulk: a string for the list');
json_error_ok($ua->post($url->('/api/alerts/bulk/acknowledge') => $json => '{"alertIds":[1]}')->result,
    400, 'invalid_field', 'bulk: a number in the list');
json_error_ok($ua->post($url->('/api/alerts/bulk/acknowledge') => $json => '{"alertIds":[')->result,
    400, 'invalid_json', 'bulk: malformed JSON');
json_error_ok($ua->post($url->('/api/alerts/bulk/acknowledge') => $json =>
    encode_json({ alertIds => ['x' x 40000] }))->result, 413, 'payload_too_large', 'bulk: over 32 KiB');

# Bad input on the single forms.
my @bad = (
    ['{"id":', 'invalid_json', 'malformed JSON'],
    ['[1]', undef, 'an array'],
    ['{}', 'invalid_field', 'no id', 'Alert ID is required'],
    ['{"id":""}', 'invalid_field', 'empty id', 'Alert ID is required'],
    ['{"id":5}', 'invalid_field', 'a number for the id'],
    ['{"id":"a/../b"}', 'invalid_field', 'a ../ id', 'Invalid alert ID'],
    ['{"id":"x "}', 'invalid_field', 'a trailing space', 'Invalid alert ID'],
    [encode_json({ id => 'x' x 501 }), 'invalid_field', '501 characters', 'Invalid alert ID'],
);
for my $path (qw(acknowledge unacknowledge clear)) {
    for my $b (@bad) {
        my ($body, $code, $name, $msg) = @$b;
        $res = $ua->post($url->("/api/alerts/$path") => $json => $body)->result;
        if (defined $code) {
            $e = json_error_ok($res, 400, $code, "$path: $name");
            is($e->{error}, $msg, "$path: $name: message") if $msg;
        } else {
            is($res->code, 400, "$path: $name: 400");
        }
    }
    $e = json_error_ok($ua->post($url->("/api/alerts/$path") => $json => json => { id => 'unknown-1' })->result,
        404, 'alert_not_found', "$path: unknown id");
    json_error_ok($ua->post($url->("/api/alerts/$path") => $json => '{"id":"' . ('x' x 9000) . '"}')->result,
        413, 'payload_too_large', "$path: over 8 KiB");
}

# History: filters in SQL, newest first, limit and offset, DELETE.
sub history {
    my ($aid, $level, $rid, $start, $rec) = @_;
    my $doc = encode_json({ id => $aid, level => $level, resourceId => $rid, startTime => $start });
    $stack->psql("INSERT INTO pulse.alert_history (alert_id, recorded_at, level, resource_id, start_time, alert) "
        . "VALUES (" . join(', ', map { $q->($_) } $aid, $rec, $level, $rid, $start, $doc) . ')');
}
for my $i (1 .. 30) {
    my $level = $i % 3 == 0 ? 'critical' : 'warning';
    my $rid = $i % 2 ? 'pve1:node1:101' : 'pve1:node1:102';
    history("h$i-cpu", $level, $rid, sprintf('2026-01-%02dT10:00:00Z', $i), sprintf('2026-01-%02dT10:00:05Z', $i));
}
my $hist = sub {
    my $qs = @_ ? '?' . shift : '';
    my $r = $ua->get($url->("/api/alerts/history$qs") => $auth)->result;
    is($r->code, 200, "history$qs") or diag $r->body;
    return [map { $_->{id} } @{ $r->json // [] }];
};
my $all = $hist->();
is(scalar @$all, 30, 'all 30 (default limit 100)');
is($all->[0], 'h30-cpu', 'newest first');
is_deeply($hist->('limit=5'), [map { "h$_-cpu" } reverse 26 .. 30], 'limit 5');
is_deeply($hist->('limit=5&offset=5'), [map { "h$_-cpu" } reverse 21 .. 25], 'offset 5');
is(scalar @{ $hist->('limit=0') }, 30, 'limit 0: all');
is(scalar @{ $hist->('limit=abc&offset=xyz') }, 30, 'non-numeric ignored');
is(scalar @{ $hist->('limit=20000') }, 30, 'limit over 10000 accepted (capped)');
is_deeply($hist->('severity=critical&limit=3'), [qw(h30-cpu h27-cpu h24-cpu)],
    'severity critical: limit rows come back (filtered in SQL)');
is(scalar @{ $hist->('severity=all') }, 30, 'severity all: no filter');
is_deeply($hist->('resourceId=pve1:node1:102&limit=2'), [qw(h30-cpu h28-cpu)], 'resourceId exact');
is_deeply($hist->('startTime=2026-01-10T10:00:00Z&endTime=2026-01-12T10:00:00Z'),
    [qw(h12-cpu h11-cpu h10-cpu)], 'start and end inclusive');
is_deeply($hist->('startTime=2026-01-28T11:00:00%2B01:00'), [qw(h30-cpu h29-cpu h28-cpu)],
    'start with an offset');
for my $b (['limit=-1', 'limit must be non-negative'], ['offset=-2', 'offset must be non-negative'],
    ['startTime=soon', 'invalid startTime parameter'], ['endTime=2026-01-01', 'invalid endTime parameter'],
    ['startTime=2026-01-02T00:00:00Z&endTime=2026-01-01T00:00:00Z', 'endTime must be after startTime']) {
    $e = json_error_ok($ua->get($url->("/api/alerts/history?$b->[0]") => $auth)->result, 400,
        'invalid_parameter', "history $b->[0]");
    is($e->{error}, $b->[1], "history $b->[0]: message");
}
$res = $ua->delete($url->('/api/alerts/history') => $auth)->result;
is($res->code, 200, 'DELETE history');
is_deeply(json_body($res, 'delete'), { status => 'success', message => 'Alert history cleared' }, 'DELETE answer');
is_deeply($hist->(), [], 'history empty');

# Incidents: opened as the engine's incident_record_raised does (here by SQL), events from
# ack, unack and clear, notes.
my $iid = 'pve1:node1:201-cpu';
raise($iid, resource => 'pve1:node1:201', start => "'2026-02-01T08:00:00.123456Z'");
$stack->psql("INSERT INTO pulse.incidents (id, alert_id, alert_type, level, resource_id, resource_name, "
    . "resource_type, node, instance, message, opened_at) VALUES ('inc-old', " . $q->($iid) . ", 'cpu', "
    . "'warning', 'pve1:node1:201', 'web1', 'guest', 'node1', 'pve1', 'CPU at 90%', '2026-01-01T08:00:00Z')");
$stack->psql("UPDATE pulse.incidents SET status = 'resolved', closed_at = '2026-01-01T09:00:00Z' WHERE id = 'inc-old'");
$stack->psql("INSERT INTO pulse.incidents (id, alert_id, alert_type, level, resource_id, resource_name, "
    . "resource_type, node, instance, message, opened_at) VALUES ('inc-1', " . $q->($iid) . ", 'cpu', "
    . "'warning', 'pve1:node1:201', 'web1', 'guest', 'node1', 'pve1', 'CPU at 95%', '2026-02-01T08:00:00.123456Z')");
$stack->psql("INSERT INTO pulse.incident_events (incident_id, id, type, summary) VALUES "
    . "('inc-1', 'ev-1', 'alert_fired', 'CPU at 95%')");
for my $act (qw(acknowledge unacknowledge acknowledge)) {
    is($ua->post($url->("/api/alerts/$act") => $json => json => { id => $iid })->result->code, 200, "incident: $act");
}
my $inc_url = '/api/alerts/incidents?alert_id=' . url_escape($iid);
$res = $ua->get($url->($inc_url) => $auth)->result;
is($res->code, 200, 'GET incident of an alert');
my $inc = json_body($res, 'incident');
is($inc->{id}, 'inc-1', 'the latest incident');
is($inc->{status}, 'open', 'open');
is($inc->{acknowledged}, true, 'acknowledged');
like($inc->{ackUser} // '', qr/^token:/, 'ack user');
like($inc->{ackTime} // '', qr/^\d{4}-\d\d-\d\dT/, 'ack time');
is($inc->{openedAt}, '2026-02-01T08:00:00.123456Z', 'openedAt RFC 3339 with the fraction');
is_deeply([map { $_->{type} } @{ $inc->{events} }],
    [qw(alert_fired alert_acknowledged alert_unacknowledged alert_acknowledged)], 'the timeline');
like($inc->{events}[1]{details}{user} // '', qr/^token:/, 'event details name the user');
ok(!exists $inc->{closedAt}, 'no closedAt while open');

$res = $ua->post($url->('/api/alerts/incidents/note') => $json => json => { alert_id => $iid, note => 'rebooted it' })->result;
is($res->code, 200, 'note by alert id') or diag $res->body;
is_deeply(json_body($res, 'note'), { success => true }, 'note answer');
$res = $ua->post($url->('/api/alerts/incidents/note') => $json => json => { incident_id => 'inc-old', note => 'old one' })->result;
is($res->code, 200, 'note by incident id');
is($ua->post($url->('/api/alerts/clear') => $json => json => { id => $iid })->result->code, 200, 'incident: clear');
$inc = $ua->get($url->($inc_url . '&started_at=2026-02-01T08:00:00.123456Z') => $auth)->result->json;
is($inc->{status}, 'resolved', 'resolved by the clear');
like($inc->{closedAt} // '', qr/^\d{4}-/, 'closedAt');
is_deeply([map { $_->{type} } @{ $inc->{events} }[-2, -1]], [qw(note alert_resolved)], 'note then resolved');
is($inc->{events}[-2]{summary}, 'rebooted it', 'note text');
$inc = $ua->get($url->($inc_url . '&started_at=2026-02-01T08:00:00Z') => $auth)->result->json;
is($inc->{id}, 'inc-1', 'a time to the second (as an alert\'s startTime is written) finds the occurrence opened in it');
$inc = $ua->get($url->($inc_url . '&started_at=2026-02-01T08:00:00.5Z') => $auth)->result->json;
is($inc, undef, 'a time with another fraction does not');
$inc = $ua->get($url->($inc_url . '&start_time=2026-01-01T08:00:00Z') => $auth)->result->json;
is($inc->{id}, 'inc-old', 'start_time picks the older occurrence');
is($inc->{events}[0]{summary}, 'old one', 'its note');
$res = $ua->get($url->($inc_url . '&started_at=2025-01-01T00:00:00Z') => $auth)->result;
is($res->code, 200, 'no incident at that time');
is($res->body, 'null', 'null');
$res = $ua->get($url->('/api/alerts/incidents?alert_id=never-seen') => $auth)->result;
is($res->body, 'null', 'an alert without incidents: null');
$res = $ua->get($url->('/api/alerts/incidents?resource_id=pve1:node1:201') => $auth)->result;
is($res->code, 200, 'incidents of a resource');
is_deeply([map { $_->{id} } @{ $res->json }], [qw(inc-1 inc-old)], 'newest first');
is_deeply([map { $_->{id} } @{ $ua->get($url->('/api/alerts/incidents?resource_id=pve1:node1:201&limit=1') => $auth)
    ->result->json }], ['inc-1'], 'limit 1');
is_deeply($ua->get($url->('/api/alerts/incidents?resource_id=nothing') => $auth)->result->json, [],
    'an unknown resource: []');

# At most 120 events per incident: the oldest go.
for my $i (1 .. 125) {
    $ua->post($url->('/api/alerts/incidents/note') => $json => json => { incident_id => 'inc-old', note => "n$i" });
}
is($stack->psql("SELECT count(*) FROM pulse.incident_events WHERE incident_id = 'inc-old'"), 120,
    'events capped at 120');
is($stack->psql("SELECT min(summary) FROM pulse.incident_events WHERE incident_id = 'inc-old' AND summary = 'n5'"),
    '', 'the oldest dropped');

for my $b (['', 'Missing alert_id or resource_id'], ['alert_id=%20x', 'Invalid alert ID'],
    ["alert_id=x&started_at=tomorrow", 'Invalid started_at time'],
    ['resource_id=' . ('r' x 501), 'Invalid resource ID']) {
    $e = json_error_ok($ua->get($url->("/api/alerts/incidents?$b->[0]") => $auth)->result, 400,
        'invalid_parameter', "incidents ?$b->[0]");
    is($e->{error}, $b->[1], "incidents: $b->[1]");
}
my $note = $url->('/api/alerts/incidents/note');
for my $b (['{"note":', 'invalid_json', 'malformed'],
    ['{"note":"x"}', 'invalid_field', 'no id', 'alert_id or incident_id is required'],
    ['{"alert_id":"a/../b","note":"x"}', 'invalid_field', 'bad alert id', 'Invalid alert ID'],
    ['{"alert_id":"' . $iid . '"}', 'invalid_field', 'no note', 'note is required'],
    ['{"alert_id":"' . $iid . '","note":"  "}', 'invalid_field', 'blank note', 'note is required'],
    ['{"alert_id":"' . $iid . '","note":7}', 'invalid_field', 'a number for the note'],
    ['{"incident_id":"nope","note":"x"}', 'incident_not_found', 'unknown incident', undef, 404]) {
    $e = json_error_ok($ua->post($note => $json => $b->[0])->result, $b->[4] // 400, $b->[1], "note: $b->[2]");
    is($e->{error}, $b->[3], "note: $b->[2]: message") if $b->[3];
}
json_error_ok($ua->post($note => $json => encode_json({ alert_id => $iid, note => 'x' x 8200 }))->result, 413,
    'payload_too_large', 'note over 8 KiB');

# Credentials and scopes: monitoring:read reads, monitoring:write writes; not admin-only.
my @routes = (
    [post => '/api/alerts/acknowledge', 'monitoring:write'], [post => '/api/alerts/unacknowledge', 'monitoring:write'],
    [post => '/api/alerts/clear', 'monitoring:write'], [post => '/api/alerts/x/acknowledge', 'monitoring:write'],
    [post => '/api/alerts/x/unacknowledge', 'monitoring:write'], [post => '/api/alerts/x/clear', 'monitoring:write'],
    [post => '/api/alerts/bulk/acknowledge', 'monitoring:write'], [post => '/api/alerts/bulk/clear', 'monitoring:write'],
    [get => '/api/alerts/history', 'monitoring:read'], [delete => '/api/alerts/history', 'monitoring:write'],
    [get => '/api/alerts/incidents?alert_id=x', 'monitoring:read'],
    [post => '/api/alerts/incidents/note', 'monitoring:write'],
);
my %tok;
for my $scope (qw(monitoring:read monitoring:write)) {
    $tok{$scope} = $ua->post($url->('/api/security/tokens') => $auth =>
        json => { name => "life $scope", scopes => [$scope] })->result->json->{token};
}
for my $r (@routes) {
    my ($m, $path, $scope) = @$r;
    json_error_ok($ua->$m($url->($path))->result, 401, 'unauthorized', "$m $path without credentials");
    my $other_scope = $scope eq 'monitoring:read' ? 'monitoring:write' : 'monitoring:read';
    $e = json_error_ok($ua->$m($url->($path) => { 'X-API-Token' => $tok{$other_scope} })->result, 403,
        'missing_scope', "$m $path with $other_scope");
    is($e->{requiredScope}, $scope, "$m $path: requiredScope $scope");
}
raise('scoped-1');
is($ua->post($url->('/api/alerts/acknowledge') => { 'X-API-Token' => $tok{'monitoring:write'} } =>
    json => { id => 'scoped-1' })->result->code, 200, 'a monitoring:write token acknowledges');
is($ua->get($url->('/api/alerts/history') => { 'X-API-Token' => $tok{'monitoring:read'} })->result->code, 200,
    'a monitoring:read token reads the history');
my ($sua) = $stack->login;
$res = $sua->post($url->('/api/alerts/unacknowledge') => json => { id => 'scoped-1' })->result;
json_error_ok($res, 403, 'csrf_failed', 'a session without its CSRF token');
my $csrf = $res->headers->header('X-CSRF-Token');    # the refusal rotates it
is($sua->post($url->('/api/alerts/unacknowledge') => { 'X-CSRF-Token' => $csrf } =>
    json => { id => 'scoped-1' })->result->code, 200, 'a session unacknowledges');
raise('scoped-2');
is($sua->post($url->('/api/alerts/acknowledge') => { 'X-CSRF-Token' => $csrf } =>
    json => { id => 'scoped-2' })->result->code, 200, 'a session acknowledges');
is($stack->psql("SELECT ack_user FROM pulse.alerts WHERE id = 'scoped-2'"), 'admin', 'as the session user');

# The library's database part (incident_record_raised, retention, the actions), plain and under
# ASan/UBSan, against this stack's database.
for my $bin (qw(test_alert_actions test_alert_actions_asan)) {
    my $path = PulseStack::builddir() . "/t/unit/$bin";
    ok(-x $path, "$bin is built") or next;
    local $ENV{PULSE_TEST_DSN} = $stack->conninfo;
    my $out = `$path 2>&1`;
    is($? >> 8, 0, "$bin exits 0") or diag $out;
    my @lines = split /\n/, $out;
    ok(!grep({ /^not ok|# SKIP/ } @lines), "$bin: all pass, nothing skipped") or diag $out;
    ok((grep { /^ok \d+ - connects to PULSE_TEST_DSN/ } @lines), "$bin: it talked to the server");
}

done_testing;
