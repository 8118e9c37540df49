#!/usr/bin/perl
# 78-audit.t: the audit log (security.md §9) and its hash chain through the real stack (two
# responders): 402 without the audit_logging licence; events recorded for logins, tokens,
# settings, alert and notification configuration and licence changes, with actor, address,
# time and outcome; GET /api/audit's filters and paging; GET /api/audit/{id}/verify of a good
# row, and of rows edited, inserted and deleted with psql (and their successors); the
# whole-chain check (GET /api/audit/verify and pulse-worker --verify-audit's exit status);
# appends from many concurrent requests on two responders keep one intact chain; the
# retention cut anchors the chain and is itself recorded; an audit webhook delivered to a
# local receiver through the notification queue, with the original's headers and our
# HMAC signature.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Digest::SHA qw(hmac_sha256_hex);
use Mojo::IOLoop;
use Mojo::JSON qw(decode_json);
use Mojo::Promise;
use Test::More;
use PulseStack;
use PulseTest;

my $stack = PulseStack->new(responders => 2,
    settings => { license_public_key => PulseStack::licence_public_key() })->start;
my $admin = $stack->setup_admin;
my $ua = $stack->ua;
my $h = $stack->token_headers;

sub get_json {
    my ($path) = @_;
    my $res = $ua->get($stack->url($path) => $h)->result;
    return ($res->code, $res->json);
}

sub worker_verify {
    local $ENV{PULSE_CONFIG} = $stack->conf_path;
    my $out = qx{@{[ $stack->bin('pulse-worker') ]} --verify-audit 2>&1};
    return ($? >> 8, $out);
}

# Without the licence: 402 on every audit route, with the original's body.
for my $p ('/api/audit', '/api/audit/00000000-0000-4000-8000-000000000000/verify', '/api/audit/verify',
    '/api/admin/webhooks/audit') {
    my $res = $ua->get($stack->url($p) => $h)->result;
    is($res->code, 402, "GET $p without a licence: 402");
    is($res->json->{feature}, 'audit_logging', "GET $p: feature audit_logging");
    is($res->json->{message}, 'feature not included in license: Enterprise Audit Logging requires Pulse Pro',
        "GET $p: message");
}
# A pro licence does not grant it either.
$stack->activate_licence(tier => 'pro');
is($ua->get($stack->url('/api/audit') => $h)->result->code, 402, 'a pro licence: 402');
$stack->activate_licence(tier => 'enterprise');

# Actions that must be recorded.
my ($sua, $csrf) = $stack->login;
ok($ua->post($stack->url('/api/login') => json => { username => 'admin', password => 'wrong password!' })->result->code >= 400,
    'a failed login');
my $tok = $stack->agent_token('audit-test', 'monitoring:read');
like($ua->delete($stack->url("/api/security/tokens/$tok->{id}") => $h)->result->code, qr/^20[04]$/, 'token deleted');
my $res = $ua->get($stack->url('/api/alerts/config') => $h)->result;
is($ua->put($stack->url('/api/alerts/config') => $h => json => $res->json)->result->code, 200, 'alert config saved');
is($ua->post($stack->url('/api/system/settings/update') => $h => json => { publicURL => 'https://pulse.example.com' })->result->code,
    200, 'system settings saved');
is($ua->put($stack->url('/api/notifications/email') => $h => json => { enabled => Mojo::JSON::false })->result->code,
    200, 'email settings saved');
is($ua->post($stack->url('/api/admin/profiles') => $h => json => { name => 'audited', config => {} })->result->code,
    200, 'agent profile created');

my ($code, $list) = get_json('/api/audit?limit=0');
is($code, 200, 'GET /api/audit');
is($list->{persistentLogging}, Mojo::JSON::true, 'persistentLogging');
my %seen;
$seen{ $_->{event} }{ $_->{success} ? 'ok' : 'failed' }++ for @{ $list->{events} };
for my $e (qw(setup login token_created token_deleted alert_config_updated settings_updated
    notification_config_updated license_activate agent_profile_created)) {
    ok($seen{$e}{ok}, "event $e recorded");
}
ok($seen{login}{failed}, 'a failed login recorded');
is($list->{total}, scalar @{ $list->{events} }, 'total is the count of events');
my ($ev) = grep { $_->{event} eq 'settings_updated' } @{ $list->{events} };
like($ev->{user}, qr/^token:[0-9a-f-]{36}$/, 'actor: the admin token');
is($ev->{ip}, '127.0.0.1', 'address');
is($ev->{path}, '/api/system/settings/update', 'path');
like($ev->{timestamp}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, 'time (RFC 3339)');
like($ev->{id}, qr/^[0-9a-f-]{36}$/, 'id');
like($ev->{signature}, qr/^[0-9a-f]{64}$/, 'signature: the row MAC');
like($ev->{details}, qr/publicURL/, 'details name what changed');
my @ts = map { $_->{timestamp} } @{ $list->{events} };
is_deeply(\@ts, [sort { $b cmp $a } @ts], 'newest first');

# Filters and paging (§9.4).
my $all = $list->{total};
($code, $list) = get_json('/api/audit');
is(scalar @{ $list->{events} }, $all < 100 ? $all : 100, 'limit 100 by default');
($code, $list) = get_json('/api/audit?event=login');
ok(@{ $list->{events} } >= 2 && !(grep { $_->{event} ne 'login' } @{ $list->{events} }), 'event filter');
($code, $list) = get_json('/api/audit?event=login&success=false');
ok(@{ $list->{events} } >= 1 && !(grep { $_->{success} } @{ $list->{events} }), 'success=false filter');
($code, $list) = get_json('/api/audit?event=login&success=true');
ok(!(grep { !$_->{success} } @{ $list->{events} }), 'success=true filter');
($code, $list) = get_json('/api/audit?user=nobody-at-all');
is($list->{total}, 0, 'user filter: none');
($code, $list) = get_json('/api/audit?user=admin');
ok($list->{total} > 0 && !(grep { ($_->{user} // '') ne 'admin' } @{ $list->{events} }), 'user filter');
my ($c1, $full) = get_json('/api/audit?limit=0');
($code, $list) = get_json('/api/audit?limit=2&offset=1');
is(scalar @{ $list->{events} }, 2, 'limit 2');
is($list->{total}, $all, 'total ignores limit and offset');
is_deeply([map { $_->{id} } @{ $list->{events} }], [map { $_->{id} } @{ $full->{events} }[1, 2]], 'offset 1');
($code, $list) = get_json('/api/audit?startTime=2099-01-01T00:00:00Z');
is($list->{total}, 0, 'startTime in the future: none');
($code, $list) = get_json('/api/audit?endTime=2000-01-01T00:00:00Z');
is($list->{total}, 0, 'endTime in the past: none');
($code, $list) = get_json('/api/audit?startTime=garbage&limit=-3');
is($list->{total}, $all, 'an invalid startTime is ignored');
is(scalar @{ $list->{events} }, $all, 'limit <= 0: no limit');
my $t = $full->{events}[0]{timestamp} =~ s/\.\d+Z$/Z/r;
($code, $list) = get_json("/api/audit?startTime=$t&endTime=$t");
ok((grep { $_->{id} eq $full->{events}[0]{id} } @{ $list->{events} }), 'start and end inclusive at 1 s');

# Verification of one row: the session's login, which has successors.
my ($target) = grep { $_->{event} eq 'login' && $_->{success} } @{ $full->{events} };
my $id = $target->{id};
sub verify_row {
    my ($rid) = @_;
    my ($c, $j) = get_json("/api/audit/$rid/verify");
    return $c == 200 ? ($j->{verified} ? 1 : 0) : "HTTP $c";
}
my ($c2, $v) = get_json("/api/audit/$id/verify");
is_deeply($v, { available => Mojo::JSON::true, verified => Mojo::JSON::true, message => 'Event signature verified' },
    'a good row verifies');
json_error_ok($ua->get($stack->url('/api/audit/00000000-0000-4000-8000-000000000000/verify') => $h)->result, 404,
    'not_found', 'an unknown id');
json_error_ok($ua->get($stack->url('/api/audit/not-a-uuid/verify') => $h)->result, 404, 'not_found', 'not an id');
($code, $v) = get_json('/api/audit/verify');
is($v->{verified}, Mojo::JSON::true, 'the whole chain verifies');
ok($v->{rows} >= $all, "rows checked: $v->{rows}");
my ($rc, $out) = worker_verify();
is($rc, 0, 'pulse-worker --verify-audit: 0 when intact') or diag $out;
like($out, qr/^audit log intact: \d+ rows/, 'its report');

my $seq = $stack->psql("SELECT seq FROM pulse.audit_events WHERE id = '$id'");
my $next_id = $stack->psql('SELECT id FROM pulse.audit_events WHERE seq = ' . ($seq + 1));
my $after_next = $stack->psql('SELECT id FROM pulse.audit_events WHERE seq = ' . ($seq + 2));
ok($next_id && $after_next, "row $seq has two successors");

# An edited row: it and its successor fail; the chain breaks there; restored, all verify.
$stack->psql("UPDATE pulse.audit_events SET details = 'nothing happened' WHERE id = '$id'");
is(verify_row($id), 0, 'an edited row does not verify');
is(verify_row($next_id), 0, 'nor does its successor (its predecessor was edited)');
is(verify_row($after_next), 1, 'the row after that does');
($code, $v) = get_json('/api/audit/verify');
is($v->{verified}, Mojo::JSON::false, 'the chain: broken');
is($v->{firstBroken}{seq}, $seq, 'the first broken row is the edited one');
is($v->{firstBroken}{id}, $id, 'named by its id');
($rc, $out) = worker_verify();
is($rc, 1, 'pulse-worker --verify-audit: 1 when broken');
like($out, qr/broken at seq $seq id $id: .*edited/, 'it names the row');
$stack->psql("UPDATE pulse.audit_events SET details = '$target->{details}' WHERE id = '$id'");
is(verify_row($id), 1, 'restored: verifies again');
is((worker_verify())[0], 0, 'restored: the chain is intact');

# A deleted row: its successor fails, the chain names the gap.
$stack->psql("CREATE TABLE pulse.t78_saved AS SELECT * FROM pulse.audit_events WHERE id = '$id'");
$stack->psql("DELETE FROM pulse.audit_events WHERE id = '$id'");
is(verify_row($next_id), 0, 'the successor of a deleted row does not verify');
is(verify_row($after_next), 0, 'nor the one after (its predecessor cannot be checked)');
($code, $v) = get_json('/api/audit/verify');
is($v->{firstBroken}{seq}, $seq + 1, 'the chain breaks after the gap');
like($v->{firstBroken}{reason}, qr/predecessor is missing/, 'reason: a missing predecessor');
is((worker_verify())[0], 1, 'the worker says broken');
$stack->psql("INSERT INTO pulse.audit_events SELECT * FROM pulse.t78_saved; DROP TABLE pulse.t78_saved");
is((worker_verify())[0], 0, 'put back: intact');

# Inserted rows: one outside the chain, one at its head with a made-up MAC.
$stack->psql(q{INSERT INTO pulse.audit_events (id, event, username, success, details)
    VALUES ('11111111-1111-4111-8111-111111111111', 'login', 'mallory', true, 'Successful login')});
is(verify_row('11111111-1111-4111-8111-111111111111'), 0, 'a row inserted without a place in the chain');
($code, $v) = get_json('/api/audit/verify');
is($v->{verified}, Mojo::JSON::false, 'the chain notices it');
is($v->{firstBroken}{id}, '11111111-1111-4111-8111-111111111111', 'and names it');
$stack->psql(q{DELETE FROM pulse.audit_events WHERE id = '11111111-1111-4111-8111-111111111111'});
my $head = $stack->psql('SELECT last_seq FROM pulse.audit_chain');
$stack->psql(qq{INSERT INTO pulse.audit_events (id, event, username, success, details, seq, mac)
    VALUES ('22222222-2222-4222-8222-222222222222', 'login', 'mallory', true, 'x', @{[ $head + 1 ]}, '@{[ 'ab' x 32 ]}')});
is(verify_row('22222222-2222-4222-8222-222222222222'), 0, 'a row inserted at the head with a made-up MAC');
($rc, $out) = worker_verify();
is($rc, 1, 'the worker says broken');
like($out, qr/seq @{[ $head + 1 ]}/, 'at the inserted row');
$stack->psql(q{DELETE FROM pulse.audit_events WHERE id = '22222222-2222-4222-8222-222222222222'});
is((worker_verify())[0], 0, 'removed again: intact');

# A row inserted in the middle, the rows after it moved up one place and its MAC copied from
# the row whose place it took: noticed at the inserted row, and its successor fails too.
my $k = $seq;
$stack->psql("UPDATE pulse.audit_events SET seq = seq + 1000000 WHERE seq > $k;
    UPDATE pulse.audit_events SET seq = seq - 999999 WHERE seq > 1000000");
$stack->psql(qq{INSERT INTO pulse.audit_events (id, ts, event, username, client_ip, success, details, seq, mac)
    SELECT '33333333-3333-4333-8333-333333333333', ts, 'login', 'mallory', client_ip, true, 'Successful login',
        @{[ $k + 1 ]}, mac FROM pulse.audit_events WHERE seq = @{[ $k + 2 ]}});
is(verify_row('33333333-3333-4333-8333-333333333333'), 0, 'a row inserted in the middle does not verify');
is(verify_row($next_id), 0, 'nor does the row after it');
($rc, $out) = worker_verify();
like($out, qr/broken at seq @{[ $k + 1 ]} id 33333333/, 'the worker names the inserted row') or diag $out;
$stack->psql("DELETE FROM pulse.audit_events WHERE id = '33333333-3333-4333-8333-333333333333';
    UPDATE pulse.audit_events SET seq = seq + 1000000 WHERE seq > $k + 1;
    UPDATE pulse.audit_events SET seq = seq - 1000001 WHERE seq > 1000000");
is((worker_verify())[0], 0, 'taken out and renumbered back: intact');

# Tail truncation: the newest row deleted.
$stack->psql("CREATE TABLE pulse.t78_saved AS SELECT * FROM pulse.audit_events WHERE seq = $head");
$stack->psql("DELETE FROM pulse.audit_events WHERE seq = $head");
($code, $v) = get_json('/api/audit/verify');
like($v->{firstBroken}{reason} // '', qr/ends before its head/, 'the newest row deleted: noticed');
$stack->psql("INSERT INTO pulse.audit_events SELECT * FROM pulse.t78_saved; DROP TABLE pulse.t78_saved");

# Concurrent appends on two responders: one chain, no gap, no fork.
my $before = $stack->psql('SELECT last_seq FROM pulse.audit_chain');
my @p;
my $cua = $stack->ua;
$cua->max_connections(0);
for my $i (1 .. 40) {
    push @p, $cua->post_p($stack->url('/api/system/settings/update') => $h => json => { publicURL => "https://p$i.example.com" });
}
# Whole-chain checks running meanwhile read one snapshot: appends are not gaps to them.
my @checks = map { $cua->get_p($stack->url('/api/audit/verify') => $h) } 1 .. 8;
my $okc = 0;
Mojo::Promise->all(@p)->then(sub { $okc = grep { $_->[0]->result->code == 200 } @_ })->wait;
is($okc, 40, '40 concurrent changes answered');
my @verdicts;
Mojo::Promise->all(@checks)->then(sub { @verdicts = map { $_->[0]->result->json->{verified} ? 1 : 0 } @_ })->wait;
is_deeply(\@verdicts, [(1) x 8], 'whole-chain checks during the appends: all intact');
is($stack->psql('SELECT last_seq FROM pulse.audit_chain') - $before, 40 + 0, '40 rows appended')
    or diag $stack->psql('SELECT count(*) FROM pulse.audit_events');
is($stack->psql('SELECT count(DISTINCT seq) = max(seq) - min(seq) + 1 FROM pulse.audit_events'), 't',
    'seq contiguous');
($code, $v) = get_json('/api/audit/verify');
is($v->{verified}, Mojo::JSON::true, 'the chain is intact after concurrent appends');
is($stack->psql(q{SELECT count(DISTINCT username || client_ip) FROM pulse.audit_events WHERE event = 'settings_updated'}) > 0 ? 1 : 0,
    1, 'both responders wrote');

# Audit webhooks through the notification queue.
my $sink = $stack->start_webhook_sink;
$stack->psql(q{DELETE FROM pulse.system_settings WHERE key = 'webhookAllowedPrivateCIDRs'});
($code, $v) = get_json('/api/admin/webhooks/audit');
is_deeply($v, { urls => [] }, 'no audit webhooks');
$res = $ua->post($stack->url('/api/admin/webhooks/audit') => $h => json => { urls => ["$sink->{url}/audit"] })->result;
is($res->code, 204, 'POST webhooks: 204');
# The change is itself an event, queued for the new URL: a loopback address the allowlist
# does not name is refused by the SSRF guard.
my $refused;
$stack->wait_for(sub { $refused = $stack->psql(q{SELECT error FROM pulse.notification_deliveries
    WHERE type = 'audit_webhook' AND NOT success LIMIT 1}) }, 30, 'a refused audit webhook', 'worker-1');
like($refused, qr/refused/, "a private address not allowed: refused ($refused)");
is(scalar @{ $ua->get("$sink->{url}/__sink/requests")->result->json }, 0, 'nothing reached the receiver');
$stack->psql(q{INSERT INTO pulse.system_settings (key, value) VALUES ('webhookAllowedPrivateCIDRs', '"127.0.0.1/32"')});
json_error_ok($ua->put($stack->url('/api/admin/webhooks/audit') => $h => json => { urls => ['ftp://x'] })->result, 400,
    'invalid_field', 'a URL that is not http(s)');
($code, $v) = get_json('/api/admin/webhooks/audit');
is_deeply($v->{urls}, ["$sink->{url}/audit"], 'GET: the URL');
like($v->{signingSecret}, qr/^[0-9a-f]{64}$/, 'GET: the signing secret');
my $secret = $v->{signingSecret};
is($ua->put($stack->url('/api/admin/webhooks/audit') => $h => json => { urls => ["$sink->{url}/audit"] })->result->code, 204,
    'PUT: 204');
is((get_json('/api/admin/webhooks/audit'))[1]{signingSecret}, $secret, 'the secret stays');
is($ua->post($stack->url('/api/login') => json => { username => 'admin', password => 'not it, no' })->result->code, 401,
    'an event: a failed login');
my $req;
$stack->wait_for(sub {
    ($req) = grep { ($_->{headers}{'X-Pulse-Event'} // '') eq 'login' }
        @{ $ua->get("$sink->{url}/__sink/requests")->result->json };
    $req;
}, 30, 'the audit webhook delivery', 'worker-1');
is($req->{path}, '/audit', 'delivered to the URL');
is($req->{method}, 'POST', 'POST');
is($req->{headers}{'User-Agent'}, 'Pulse-Audit-Webhook/1.0', 'User-Agent as the original');
like($req->{headers}{'Content-Type'}, qr{^application/json}, 'Content-Type');
my $body = decode_json($req->{body});
like($req->{body}, qr/^\{"event":"audit\.login","timestamp":"[^"]+","data":\{"id":/, 'the body in the original\'s order');
is($body->{event}, 'audit.login', 'event audit.<type>');
is($body->{data}{success}, Mojo::JSON::false, 'data: the event');
is($req->{headers}{'X-Pulse-Event-ID'}, $body->{data}{id}, 'X-Pulse-Event-ID');
is($req->{headers}{'X-Pulse-Signature'}, 'sha256=' . hmac_sha256_hex($req->{body}, $secret),
    'X-Pulse-Signature: HMAC-SHA256 of the body with the signing secret');
is($body->{data}{signature}, $stack->psql("SELECT mac FROM pulse.audit_events WHERE id = '$body->{data}{id}'"),
    'data.signature is the row MAC');

# Retention: rows older than audit_retention_days are cut at the next prune (at the worker's
# start), the cut anchored and recorded; the chain verifies from the anchor.
my $cut = $stack->psql('SELECT min(seq) + 9 FROM pulse.audit_events');
$stack->psql("UPDATE pulse.audit_events SET ts = ts - interval '100 days' WHERE seq <= $cut");
$stack->stop_program('worker-1', 'TERM', 20);
$stack->start_worker(1);
$stack->wait_for(sub { $stack->psql('SELECT anchor_seq FROM pulse.audit_chain') == $cut }, 30, 'the retention cut', 'worker-1');
is($stack->psql("SELECT count(*) FROM pulse.audit_events WHERE seq <= $cut"), 0, 'old rows deleted');
like($stack->psql(q{SELECT details FROM pulse.audit_events WHERE event = 'audit_cleanup' AND username = 'system'}),
    qr/^Deleted \d+ events older than 90 days; the chain continues after seq $cut$/, 'the cut is recorded');
my $first = $stack->psql("SELECT id FROM pulse.audit_events WHERE seq = @{[ $cut + 1 ]}");
is(verify_row($first), 1, 'the first kept row verifies against the anchor');
($code, $v) = get_json('/api/audit/verify');
is($v->{verified}, Mojo::JSON::true, 'the chain verifies after the cut');
is($v->{anchorSeq}, $cut, 'anchorSeq');
is((worker_verify())[0], 0, 'the worker agrees');
$stack->psql("UPDATE pulse.audit_chain SET anchor_mac = '@{[ 'cd' x 32 ]}'");
is((worker_verify())[0], 1, 'a forged anchor is noticed');

# Secrets: the chain key and the webhooks are sealed; no signing secret in the logs.
is($stack->psql(q{SELECT key_sealed LIKE 'enc:v1:%' FROM pulse.audit_chain}), 't', 'the chain key is sealed');
is($stack->psql(q{SELECT urls_sealed LIKE 'enc:v1:%' AND strpos(urls_sealed, '127.0.0.1') = 0 FROM pulse.audit_webhooks}), 't',
    'the webhooks are sealed');
no_secret_in_logs($stack, $secret);

done_testing;
