#!/usr/bin/perl
# 18-valgrind.t: a responder under valgrind serves a mix of requests (public, token, session,
# errors, bad input, OIDC, configuration bundles with and without OIDC settings) and stops on
# SIGTERM with no memory error and no leak.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::JSON qw(decode_json encode_json);
use Test::More;
use PulseStack;

system('which valgrind >/dev/null 2>&1') == 0 or BAIL_OUT('valgrind is not installed');
my $stack = PulseStack->new(nginx => 1, settings => { oidc_allowed_private_cidrs => '127.0.0.1/32',
    license_public_key => PulseStack::licence_public_key() })->start;
my $admin = $stack->setup_admin;
my $licence = PulseStack::mint_licence(tier => 'enterprise');
my $audit_id = $stack->psql('SELECT id FROM pulse.audit_events ORDER BY seq DESC LIMIT 1');
# An edited first row: the chain's check takes its broken path.
$stack->psql(q{UPDATE pulse.audit_events SET details = 'edited' WHERE seq = 1});
my $sock = $stack->run_dir . '/valgrind.sock';
my $vlog = $stack->log_dir . '/valgrind.txt';
$stack->spawn('valgrind', { $stack->program_env },
    'valgrind', '--leak-check=full', '--errors-for-leak-kinds=definite,indirect', '--error-exitcode=99',
    '--show-leak-kinds=definite,indirect', "--log-file=$vlog",
    # fontconfig's caches (the reports' PDF text), filled once and kept: not a leak of ours.
    '--suppressions=' . PulseStack::srcdir() . '/t/valgrind-fontconfig.supp', $stack->bin('pulse-fcgi'), '--socket', $sock, '--threads', 2);
# The socket file appears at bind(); under valgrind listen() and the threads follow slowly.
$stack->wait_for(sub { -S $sock && ($stack->fcgi_request(socket => $sock, uri => '/api/version'))[0] == 200 },
    120, 'the responder under valgrind to answer', 'valgrind');

my $tok = { HTTP_X_API_TOKEN => $admin->{token} };
# A bundle of this stack's configuration (its admin token included), for the import.
my $bundle = $stack->ua->post($stack->url('/api/config/export') => $stack->token_headers
    => json => { passphrase => 'vg passphrase 1' })->result->json->{data};
# A little metrics history for the chart and history handlers to read.
$stack->psql(q{INSERT INTO pulse.metric_series (resource_type, resource_id, metric) VALUES
    ('node', 'vg-n1', 'cpu'), ('storage', 'vg-s1', 'usage');
    SELECT pulse.metric_partition_ensure('raw', now());
    INSERT INTO pulse.metric_raw VALUES (now() - interval '1 min', 0, pulse.metric_pack('{5,50}')),
        (now(), 0, pulse.metric_pack('{6,51}'))});
# An alert and its history row, for the alert handlers and /api/state.
$stack->psql(q{INSERT INTO pulse.alerts (id, type, level, resource_id, resource_name, node, instance,
        message, value, threshold, start_time, source, metadata)
    VALUES ('vg-n1-cpu', 'cpu', 'warning', 'vg-n1', 'n1', 'n1', 'vg', 'Node cpu at 91.0%', 91, 80,
        now(), 'pve-1', '{"resourceType":"Node"}');
    INSERT INTO pulse.alert_history (alert_id, level, resource_id, start_time, alert)
    VALUES ('vg-n1-cpu', 'warning', 'vg-n1', now(), '{"id":"vg-n1-cpu"}')});
my @mix = (
    [GET => '/api/alerts/config', $tok], [GET => '/api/alerts/active', $tok],
    [PUT => '/api/alerts/config', $tok, '{"enabled":true,"guestDefaults":{"cpu":{"trigger":90,"clear":85}}}'],
    [PUT => '/api/alerts/config', $tok, '{"enabled":"yes"}'], [PUT => '/api/alerts/config', $tok, '{"enabled":'],
    [POST => '/api/alerts/activate', $tok], [GET => '/api/state', $tok],
    [GET => '/api/alerts/history?limit=5&severity=warning', $tok], [GET => '/api/alerts/history?limit=-1', $tok],
    [POST => '/api/alerts/acknowledge', $tok, '{"id":"vg-n1-cpu"}'],
    [POST => '/api/alerts/unacknowledge', $tok, '{"id":"vg-n1-cpu"}'],
    [POST => '/api/alerts/acknowledge', $tok, '{"id":"nope"}'], [POST => '/api/alerts/acknowledge', $tok, '{"id":7}'],
    [POST => '/api/alerts/bulk/acknowledge', $tok, '{"alertIds":["vg-n1-cpu","nope","../x"]}'],
    [GET => '/api/alerts/incidents?alert_id=vg-n1-cpu', $tok], [GET => '/api/alerts/incidents', $tok],
    [POST => '/api/alerts/incidents/note', $tok, '{"alert_id":"vg-n1-cpu","note":"looked"}'],
    [GET => '/api/notifications/email', $tok], [GET => '/api/notifications/apprise', $tok],
    [PUT => '/api/notifications/email', $tok, '{"enabled":false,"server":"smtp.invalid","port":587,"password":"pw"}'],
    [PUT => '/api/notifications/email', $tok, '{"port":"x"}'],
    [PUT => '/api/notifications/apprise', $tok, '{"enabled":true,"targets":[" a://b ","A://B"],"apiKey":"k"}'],
    [GET => '/api/notifications/webhooks', $tok],
    [POST => '/api/notifications/webhooks', $tok, '{"name":"w","url":"ftp://x","service":"discord"}'],
    [PUT => '/api/notifications/webhooks/nope', $tok, '{"name":"w","url":"https://example.invalid/"}'],
    [DELETE => '/api/notifications/webhooks/nope', $tok],
    [GET => '/api/notifications/webhook-templates', $tok], [GET => '/api/notifications/email-providers', $tok],
    [GET => '/api/notifications/webhook-history', $tok], [GET => '/api/notifications/health', $tok],
    [GET => '/api/notifications/queue/stats', $tok], [GET => '/api/notifications/dlq?limit=5', $tok],
    [POST => '/api/notifications/dlq/retry', $tok, '{"id":"nope"}'],
    [POST => '/api/notifications/dlq/delete', $tok, '{"id":7}'],
    [POST => '/api/notifications/test', $tok, '{"method":"carrier-pigeon"}'],
    [POST => '/api/notifications/test', $tok, '{"method":"email","config":{"enabled":false}}'],
    [POST => '/api/system/settings/update', $tok, '{"webhookAllowedPrivateCIDRs":"10.0.0.0/33"}'],
    [POST => '/api/system/settings/update', $tok, '{"webhookAllowedPrivateCIDRs":"127.0.0.1,10.0.0.0/8"}'],
    [POST => '/api/system/settings/update', $tok, '{"pvePollingInterval":20,"theme":"dark","allowedOrigins":"https://a.example",'
        . '"allowEmbedding":true,"allowedEmbedOrigins":"https://b.example, x y","discoveryConfig":{"subnetAllowlist":["10.0.0.0/8",'
        . '" 10.0.0.0/8"],"maxConcurrent":5}}'],
    [POST => '/api/system/settings/update', $tok, '{"discovery_config":{"subnet_blocklist":["nope"]}}'],
    [POST => '/api/system/settings/update', $tok, '{"pvePollingInterval":"x"}'],
    [POST => '/api/system/settings/update', $tok, '[1]'],
    [GET => '/api/system/settings', $tok], [GET => '/api/config/system', $tok],
    [GET => '/api/diagnostics', $tok], [GET => '/api/config', $tok], [GET => '/api/server/info'],
    [POST => '/api/alerts/clear', $tok, '{"id":"vg-n1-cpu"}'],
    [GET => '/api/charts?range=1h', $tok], [GET => '/api/charts?range=24h', $tok],
    [GET => '/api/charts?range=7d', $tok], [GET => '/api/charts?range=bad', $tok],
    [GET => '/api/metrics-store/history?resourceType=node&resourceId=vg-n1&range=1h', $tok],
    [GET => '/api/metrics-store/history?resourceType=node&resourceId=vg-n1&metric=cpu', $tok],
    [GET => '/api/metrics-store/history?resourceType=node&resourceId=nope', $tok],
    [GET => '/api/metrics-store/stats', $tok], [GET => '/api/storage-charts?range=5', $tok],
    [GET => '/api/health'], [GET => '/api/version'], [HEAD => '/api/version'],
    [GET => '/api/nope'], [POST => '/api/health'], [OPTIONS => '/api/health'],
    [GET => '/api/%2e%2e/x'], [GET => '/api/security/status'],
    [GET => '/api/security/status', $tok], [GET => '/api/security/tokens', $tok],
    [POST => '/api/security/tokens', $tok, encode_json({ name => 'vg', scopes => ['monitoring:read'] })],
    [POST => '/api/security/tokens', $tok, '{"scopes":["nope"]}'],
    [POST => '/api/security/tokens', $tok, '{"name":'],
    [POST => '/api/security/tokens', $tok, '[1,2,3]'],
    [DELETE => '/api/security/tokens/00000000-0000-4000-8000-000000000000', $tok],
    [POST => '/api/security/validate-token', $tok, '{"token":"abc"}'],
    [POST => '/api/security/reset-lockout', $tok, '{"identifier":"x"}'],
    [GET => '/api/security/tokens', { HTTP_AUTHORIZATION => 'Bearer nope' }],
    [GET => '/api/security/tokens', { HTTP_COOKIE => 'pulse_session=abc; pulse_csrf=x' }],
    [GET => '/api/security/tokens?token=' . $admin->{token}],
    [POST => '/api/security/validate-bootstrap-token', {}, '{"token":"x"}'],
    [GET => '/api/security/recovery'],
    [POST => '/api/security/recovery', { CONTENT_TYPE => 'text/plain' }, '{}'],
    [POST => '/api/login', {}, '{"username":7}'],
    [GET => '/api/version', { CONTENT_LENGTH => 'junk' }],
    # Host agents: a report (stored, then again: the same row), wrong types, lookup, removal.
    [POST => '/api/agents/host/report', $tok, '{"agent":{"id":"vg","version":"5","type":"unified","intervalSeconds":30},'
        . '"host":{"id":"vg-host","hostname":"vg","loadAverage":[1,2,3]},"metrics":{"cpuUsagePercent":5,"memory":{"totalBytes":10,"usedBytes":5}},'
        . '"disks":[{"mountpoint":"/","type":"ext4","totalBytes":10,"usedBytes":4},{"mountpoint":"/run","type":"tmpfs"}],'
        . '"network":[{"name":"eth0","addresses":["10.0.0.1/24"],"rxBytes":5}],"diskIO":[{"device":"sda","readBytes":1}],'
        . '"sensors":{"temperatureCelsius":{"cpu_package":40},"smart":[{"device":"sda","temperature":30}]},"tags":["a"],'
        . '"timestamp":"2026-01-12T10:15:30.5Z"}'],
    [POST => '/api/agents/host/report', $tok, '{"host":{"hostname":"vg","cpuCount":"8"}}'],
    [POST => '/api/agents/host/report', $tok, '{"host":{"hostname":" "}}'],
    [POST => '/api/agents/host/report', $tok, '{"host":'],
    [GET => '/api/agents/host/lookup?hostname=VG', $tok], [GET => '/api/agents/host/lookup', $tok],
    [POST => '/api/agents/host/unlink', $tok, '{"hostId":"vg-host"}'],
    [POST => '/api/agents/host/uninstall', $tok, '{"hostId":7}'],
    [DELETE => '/api/agents/host/nope', $tok],
    # Docker agents: a report, a command queued and delivered, acks, management, removal.
    [POST => '/api/agents/docker/report', $tok, '{"agent":{"id":"vg-docker","version":"5","intervalSeconds":30},'
        . '"host":{"hostname":"vg-docker","machineId":"m","totalCpu":2,"memory":{"totalBytes":10,"usedBytes":5},'
        . '"disks":[{"mountpoint":"/","totalBytes":10,"usedBytes":4}],"swarm":{"nodeId":"n"}},'
        . '"containers":[{"id":"c1","name":"web","state":"running","createdAt":"2026-01-12T10:00:00Z","labels":{"a":"b"},'
        . '"ports":[{"privatePort":80}],"blockIo":{"readBytes":5},"mounts":[{"rw":true}],"updateStatus":{"updateAvailable":true}}],'
        . '"services":[{"id":"s","name":"s","updateStatus":{"state":"x"}}],"tasks":[{"id":"t","createdAt":"2026-01-12T10:00:00Z"}],'
        . '"timestamp":"2026-01-12T10:15:30Z"}'],
    [POST => '/api/agents/docker/report', $tok, '{"containers":[{"cpuPercent":"x"}]}'],
    [POST => '/api/agents/docker/report', $tok, '{"host":{"hostname":" "}}'],
    [POST => '/api/agents/docker/containers/update', $tok, '{"hostId":"vg-docker","containerId":"c1","containerName":"web"}'],
    [POST => '/api/agents/docker/report', $tok, '{"agent":{"id":"vg-docker"},"host":{"hostname":"vg-docker"},"containers":[]}'],
    [POST => '/api/agents/docker/commands/nope/ack', $tok, '{"hostId":"vg-docker","status":"done"}'],
    [POST => '/api/agents/docker/commands/nope/ack', $tok, '{"hostId":"vg-docker","status":"ack"}'],
    [PUT => '/api/agents/docker/hosts/vg-docker/display-name', $tok, '{"displayName":"x"}'],
    [DELETE => '/api/agents/docker/hosts/vg-docker?hide=true', $tok],
    [PUT => '/api/agents/docker/hosts/vg-docker/unhide', $tok],
    [POST => '/api/agents/docker/hosts/nope/check-updates', $tok],
    [GET => '/api/state', $tok],
    [DELETE => '/api/agents/docker/hosts/nope?force=true', $tok],
    [POST => '/api/agents/docker/hosts/vg-docker/allow-reenroll', $tok],
    # Configuration export and import (PBKDF2 is slow under valgrind: a few only).
    [POST => '/api/config/export', $tok, '{"passphrase":"vg passphrase 1"}'],
    [POST => '/api/config/export', $tok, '{"passphrase":"short"}'],
    [POST => '/api/config/import', $tok, '{"passphrase":"vg passphrase 1"}'],
    [POST => '/api/config/import', $tok, '{"data":"not base64!","passphrase":"x"}'],
    [POST => '/api/config/import', $tok, encode_json({ data => $bundle, passphrase => 'wrong passphrase' })],
    [POST => '/api/config/import', $tok, encode_json({ data => $bundle, passphrase => 'vg passphrase 1' })],
    # The licence and the audit log (issue 16): gated routes without and with a licence,
    # bad keys, the chain's reads and verification, the audit webhooks.
    [GET => '/api/audit', $tok], [GET => '/api/admin/profiles', $tok],
    [POST => '/api/license/activate', $tok, '{"license_key":"a.b"}'],
    [POST => '/api/license/activate', $tok, '{"license_key":"' . ($licence =~ s/.$/A/r) . '"}'],
    [POST => '/api/license/activate', $tok, '{"license_key":7}'],
    [POST => '/api/license/activate', $tok, '{"license_key":"' . $licence . '"}'],
    [GET => '/api/license/status', $tok], [GET => '/api/license/features', $tok],
    [GET => '/api/audit?limit=3&offset=1&event=login&success=false&startTime=2020-01-01T00:00:00Z', $tok],
    [GET => '/api/audit?user=admin&endTime=bad', $tok], [GET => '/api/audit/verify', $tok],
    [GET => '/api/audit/00000000-0000-4000-8000-000000000000/verify', $tok],
    [GET => '/api/audit/nope/verify', $tok], [GET => "/api/audit/$audit_id/verify", $tok],
    [POST => '/api/admin/webhooks/audit', $tok, '{"urls":["http://127.0.0.1:9/x"]}'],
    [PUT => '/api/admin/webhooks/audit', $tok, '{"urls":[7]}'],
    [GET => '/api/admin/webhooks/audit', $tok], [GET => '/api/admin/profiles', $tok],
    # Reports (issue 17): CSV and PDF (cairo, pango) of a seeded VM, one empty, bad input.
    [GET => "/api/admin/reports/generate?resourceType=vm&resourceId=vg:report&format=csv", $tok],
    [GET => "/api/admin/reports/generate?resourceType=vm&resourceId=vg:report", $tok],
    [GET => "/api/admin/reports/generate?resourceType=node&resourceId=none&format=pdf", $tok],
    [GET => "/api/admin/reports/generate?resourceType=vm&resourceId=vg:report&start=bad", $tok],
    [POST => '/api/license/clear', $tok],
    # Prometheus (issue 17): the text of every process's series and the estate, streamed.
    [GET => '/metrics'], [GET => '/metrics', $tok],
);
# Three samples of two metrics of a VM, for the reports above.
$stack->psql(q{SELECT count(pulse.metric_partition_ensure('raw', t))
    FROM generate_series(now() - interval '2 hours', now(), interval '30 min') t});
for my $m (qw(cpu memory)) {
    $stack->psql(qq{WITH s AS (INSERT INTO pulse.metric_series (resource_type, resource_id, metric, resource_name)
            VALUES ('vm', 'vg:report', '$m', 'vg') RETURNING id)
        INSERT INTO pulse.metric_raw (ts, blk, vals)
        SELECT now() - k * interval '1 min', s.id / 200,
               pulse.metric_pack(array_fill(NULL::float8, ARRAY[s.id % 200]) || (10 + k)::float8)
        FROM s, generate_series(1, 3) k
        ON CONFLICT (blk, ts) DO UPDATE SET vals = pulse.metric_merge(pulse.metric_raw.vals, EXCLUDED.vals)});
}
my %seen;
for my $round (1 .. 2) {
    for my $r (@mix) {
        my ($m, $uri, $env, $body) = @$r;
        my ($status) = $stack->fcgi_request(socket => $sock, method => $m, uri => $uri, env => $env // {}, body => $body);
        $seen{$status}++;
    }
}
# One login, one session, one CSRF refusal and one change of password (bcrypt is slow under
# valgrind: a few only).
my ($status, $h) = $stack->fcgi_request(socket => $sock, method => 'POST', uri => '/api/login',
    body => encode_json({ username => 'admin', password => $admin->{password} }));
is($status, 200, 'login under valgrind');
my ($cookie) = ($h->{'set-cookie'} // '') =~ /(pulse_session=[0-9a-f]+)/;
($status) = $stack->fcgi_request(socket => $sock, method => 'POST', uri => '/api/security/tokens',
    env => { HTTP_COOKIE => $cookie // '' }, body => '{}');
is($status, 403, 'a CSRF refusal under valgrind');
($status) = $stack->fcgi_request(socket => $sock, method => 'POST', uri => '/api/logout',
    env => { HTTP_X_API_TOKEN => $admin->{token} });
is($status, 200, 'logout under valgrind');
# OIDC: settings, a login start (discovery over HTTP), refused callbacks, and whole logins
# whose callback (state, code exchange, ID token checks, session) runs under valgrind: the
# provider's forms are followed through nginx's responder, the callback goes to this one.
my $prov = $stack->start_oidc_provider;
my $oidc = encode_json({ enabled => \1, issuerUrl => $prov->{url}, clientId => 'pulse-basic',
    clientSecret => 'basic-secret-0123456789abcdef0123456789', redirectUrl => $stack->url('/api/oidc/callback'),
    scopes => [qw(openid profile email groups)], groupsClaim => 'groups', allowedGroups => ['staff'],
    adminGroups => ['pulse-admins'] });
for my $r ([PUT => '/api/security/oidc', $tok, '{"enabled":true}'], [PUT => '/api/security/oidc', $tok, '{"scopes":7}'],
    [PUT => '/api/security/oidc', $tok, $oidc], [GET => '/api/security/oidc', $tok],
    [GET => '/api/oidc/login?returnTo=/alerts'], [POST => '/api/oidc/login', {}, '{"returnTo":"//x"}'],
    [GET => '/api/oidc/callback?state=nope&code=x'], [GET => '/api/oidc/callback?error=access_denied'],
    [GET => '/api/security/status']) {
    my ($m, $uri, $env, $body) = @$r;
    my ($st) = $stack->fcgi_request(socket => $sock, method => $m, uri => $uri, env => $env // {}, body => $body);
    $seen{$st}++;
}
for my $case (['alice', undef, '/?oidc=success'], ['bob', undef, '/?oidc=success'],
    ['carol', undef, '/?oidc=error&oidc_error=group_restricted'],
    ['alice', 'forged', '/?oidc=error&oidc_error=invalid_id_token'],
    ['alice', 'none', '/?oidc=error&oidc_error=invalid_id_token']) {
    my ($user, $tamper, $want) = @$case;
    my ($bua, $cb) = $stack->oidc_to_callback($user);
    $stack->ua->post("$prov->{url}/__test/tamper?mode=$tamper") if $tamper;
    # The browser's cookies for the callback (pulse_oidc binds the login to it).
    my $cookies = join '; ', map { $_->name . '=' . $_->value } @{ $bua->cookie_jar->find($cb) };
    my ($st, $hh) = $stack->fcgi_request(socket => $sock, uri => $cb->path_query,
        env => { HTTP_COOKIE => $cookies });
    is($hh->{location}, $want, "OIDC callback under valgrind: $user" . ($tamper ? " ($tamper token)" : ''));
}

# The configuration bundle with OIDC settings: exported (the secret opened), imported (sealed
# again), and a bundle without them imported (the settings deleted, the OIDC sessions ended).
my $with_oidc = $stack->ua->post($stack->url('/api/config/export') => $stack->token_headers
    => json => { passphrase => 'vg passphrase 1' })->result->json->{data};
for my $r ([POST => '/api/config/export', $tok, '{"passphrase":"vg passphrase 1"}'],
    [POST => '/api/config/import', $tok, encode_json({ data => $with_oidc, passphrase => 'vg passphrase 1' })],
    [POST => '/api/config/import', $tok, encode_json({ data => $bundle, passphrase => 'vg passphrase 1' })]) {
    my ($m, $uri, $env, $body) = @$r;
    my ($st) = $stack->fcgi_request(socket => $sock, method => $m, uri => $uri, env => $env // {}, body => $body);
    is($st, 200, "$uri with OIDC settings under valgrind");
}
is($stack->psql('SELECT count(*) FROM pulse.oidc_config'), 0, 'the bundle without oidc deleted the OIDC settings');

ok($seen{200} && $seen{400} && $seen{401} && $seen{404} && $seen{405}, 'the mix drew several kinds of answer: '
    . join(', ', map { "$_ x$seen{$_}" } sort keys %seen));
ok(!$seen{500}, 'no 500 in the mix');
is($stack->psql(q{SELECT count(*) FROM pulse.audit_events WHERE event = 'config_import' AND success}), 4,
    'the configuration imports under valgrind succeeded');

my $exit = $stack->stop_program('valgrind', 'TERM', 120);
is($exit >> 8, 0, 'valgrind reports no error and no leak (exit status 0, not 99)') or diag $stack->log_tail('valgrind', 40);
my $report = do { local (@ARGV, $/) = $vlog; <> } // '';
like($report, qr/ERROR SUMMARY: 0 errors/, 'ERROR SUMMARY: 0 errors');
like($report, qr/definitely lost: 0 bytes|All heap blocks were freed/, 'nothing definitely lost');
unlike($report, qr/indirectly lost: [1-9]/, 'nothing indirectly lost');
done_testing;
