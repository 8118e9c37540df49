#!/usr/bin/perl
# 82-system-settings.t: GET /api/system/settings, POST /api/system/settings/update and GET
# /api/config/system (metrics-reporting.md §5) through the whole stack: defaults, every field
# good and bad with the original's messages, the merge rules, nothing written on a 400, and
# the live effect of a change: the worker's next poll (its interval) and the answers'
# headers of another responder (CORS, embedding), without a restart.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use JSON::PP qw(decode_json);
use Test::More;
use PulseStack;
use PulseTest;

my $proxy_secret = 'proxy-secret-for-82-' . join('', map { sprintf '%02x', int rand 256 } 1 .. 8);
my $stack = PulseStack->new(settings => { pve_polling_interval => 1 })->start;
my $admin = $stack->setup_admin;
my $ua = $stack->ua;
my $h = $stack->token_headers;
# A second responder that nginx does not know, with one setting pinned by its environment
# and an authenticating proxy in front (for a user who is not an admin).
$stack->start_responder(2, PULSE_PBS_POLLING_INTERVAL => 45, PULSE_PROXY_AUTH_SECRET => $proxy_secret,
    PULSE_PROXY_AUTH_USER_HEADER => 'X-Remote-User', PULSE_PROXY_AUTH_ROLE_HEADER => 'X-Remote-Roles');

sub settings { my $res = $ua->get($stack->url('/api/system/settings') => $h)->result;
    is($res->code, 200, 'GET /api/system/settings') or diag $res->body; return decode_json($res->body) }
sub update { my ($body, %o) = @_;
    my %hd = (%$h, %{ $o{headers} // {} });
    return $ua->post($stack->url('/api/system/settings/update') => \%hd => json => $body)->result if ref $body;
    return $ua->post($stack->url('/api/system/settings/update') => { %hd, 'Content-Type' => 'application/json' }
        => $body)->result }

# --- the defaults ----------------------------------------------------------------------
my $s = settings();
my %defaults = (pvePollingInterval => 1, pbsPollingInterval => 60, pmgPollingInterval => 60,
    backupPollingEnabled => JSON::PP::true, connectionTimeout => 30, autoUpdateEnabled => JSON::PP::false,
    logLevel => 'info', discoveryEnabled => JSON::PP::false, discoverySubnet => 'auto',
    allowEmbedding => JSON::PP::false, temperatureMonitoringEnabled => JSON::PP::true, dnsCacheTimeout => 300,
    hideLocalLogin => JSON::PP::false, metricsRetentionRawHours => 2, metricsRetentionMinuteHours => 24,
    metricsRetentionHourlyDays => 7, metricsRetentionDailyDays => 90, disableDockerUpdateActions => JSON::PP::false);
is_deeply($s->{$_}, $defaults{$_}, "default $_") for sort keys %defaults;
is_deeply($s->{discoveryConfig}, { environment_override => 'auto', subnet_allowlist => [],
    subnet_blocklist => ['169.254.0.0/16'], max_hosts_per_scan => 1024, max_concurrent => 50,
    enable_reverse_dns => JSON::PP::true, scan_gateways => JSON::PP::true, dial_timeout_ms => 1000,
    http_timeout_ms => 2000 }, 'default discoveryConfig');
ok(!exists $s->{$_}, "$_ omitted while empty") for qw(backupPollingInterval allowedOrigins updateChannel
    autoUpdateCheckInterval autoUpdateTime theme allowedEmbedOrigins webhookAllowedPrivateCIDRs publicURL envOverrides);

# --- the worker applies a new PVE interval at once -------------------------------------
my $sim = $stack->start_sim(name => 'pve82', nodes => 1, guests => 2, token => 'root@pam!pulse=secret82secret');
my $res = $ua->post($stack->url('/api/config/nodes') => $h => json => { type => 'pve', name => 'pve82',
    host => $sim->{url}, tokenName => 'root@pam!pulse', tokenValue => 'secret82secret',
    fingerprint => $sim->{fingerprint} })->result;
is($res->code, 201, 'node added') or diag $res->body;
my $attempt = sub { $stack->psql('SELECT coalesce(extract(epoch FROM max(last_attempt)), 0) FROM pulse.poll_status') };
my $first;
$stack->wait_for(sub { $first //= $attempt->() if $attempt->() > 0; $first && $attempt->() > $first },
    20, 'two polls a second apart', 'worker-1');
ok(1, 'the worker polls every second (pve_polling_interval = 1)');
$res = update({ pvePollingInterval => 3600 });
is($res->code, 200, 'pvePollingInterval 3600 taken');
$stack->wait_for(sub { $stack->log_tail('worker-1', 200) =~ /settings applied" pve_polling_interval=3600/ },
    10, 'the worker to apply the new interval', 'worker-1');
ok(1, 'the worker logged the new interval');
# At most the poll in flight finishes; then none for the next seconds.
select(undef, undef, undef, 1.5);
my $settled = $attempt->();
sleep 3;
is($attempt->(), $settled, 'no poll after the change: the next is an hour away');
is(settings()->{pvePollingInterval}, 3600, 'GET shows the live interval');

# --- bad input: the original's messages, nothing written -------------------------------
my @bad = (
    [{ pvePollingInterval => 0 }, 'PVE polling interval must be positive (minimum 10 seconds)'],
    [{ pvePollingInterval => -5 }, 'PVE polling interval must be positive (minimum 10 seconds)'],
    [{ pvePollingInterval => 9 }, 'PVE polling interval must be at least 10 seconds'],
    [{ pvePollingInterval => 3601 }, 'PVE polling interval cannot exceed 3600 seconds (1 hour)'],
    [{ pvePollingInterval => undef }, 'PVE polling interval must be a number'],
    [{ pvePollingInterval => 'ten' }, 'Invalid request body'],
    [{ pvePollingInterval => 12.5 }, 'Invalid request body'],
    [{ pvePollingInterval => [10] }, 'Invalid request body'],
    [{ pbsPollingInterval => 5 }, 'PBS polling interval must be at least 10 seconds'],
    [{ pbsPollingInterval => 0 }, 'PBS polling interval must be positive (minimum 10 seconds)'],
    [{ pbsPollingInterval => 7200 }, 'PBS polling interval cannot exceed 3600 seconds (1 hour)'],
    [{ pbsPollingInterval => undef }, 'PBS polling interval must be a number'],
    [{ pmgPollingInterval => 1 }, 'PMG polling interval must be at least 10 seconds'],
    [{ pmgPollingInterval => -1 }, 'PMG polling interval must be positive (minimum 10 seconds)'],
    [{ pmgPollingInterval => 4000 }, 'PMG polling interval cannot exceed 3600 seconds (1 hour)'],
    [{ pmgPollingInterval => {} }, 'Invalid request body'],
    [{ backupPollingInterval => -1 }, 'backup polling interval cannot be negative'],
    [{ backupPollingInterval => 9 }, 'backup polling interval must be at least 10 seconds'],
    [{ backupPollingInterval => 604801 }, 'backup polling interval cannot exceed 604800 seconds (7 days)'],
    [{ backupPollingInterval => undef }, 'backup polling interval must be a number'],
    [{ backupPollingEnabled => 'yes' }, 'Invalid request body'],
    [{ backupPollingEnabled => undef }, 'backupPollingEnabled must be a boolean'],
    [{ autoUpdateEnabled => undef }, 'autoUpdateEnabled must be a boolean'],
    [{ autoUpdateEnabled => 1 }, 'Invalid request body'],
    [{ discoveryEnabled => undef }, 'discoveryEnabled must be a boolean'],
    [{ allowEmbedding => undef }, 'allowEmbedding must be a boolean'],
    [{ allowEmbedding => 'true' }, 'Invalid request body'],
    [{ temperatureMonitoringEnabled => undef }, 'temperatureMonitoringEnabled must be a boolean'],
    [{ autoUpdateCheckInterval => -2 }, 'auto-update check interval cannot be negative'],
    [{ autoUpdateCheckInterval => 169 }, 'auto-update check interval cannot exceed 168 hours (7 days)'],
    [{ autoUpdateCheckInterval => undef }, 'auto-update check interval must be a number'],
    [{ connectionTimeout => -1 }, 'connection timeout cannot be negative'],
    [{ connectionTimeout => 301 }, 'connection timeout cannot exceed 300 seconds (5 minutes)'],
    [{ connectionTimeout => undef }, 'connection timeout must be a number'],
    [{ connectionTimeout => '30' }, 'Invalid request body'],
    [{ theme => 'blue' }, "theme must be 'light', 'dark', or empty"],
    [{ theme => undef }, 'theme must be a string'],
    [{ theme => 1 }, 'Invalid request body'],
    [{ updateChannel => 'beta' }, "update channel must be 'stable' or 'rc'"],
    [{ updateChannel => undef }, 'update channel must be a string'],
    [{ allowedOrigins => 5 }, 'Invalid request body'],
    [{ hideLocalLogin => 'no' }, 'Invalid request body'],
    [{ publicURL => 'ftp://example.org' }, 'publicURL must be an http or https URL with a host'],
    [{ webhookAllowedPrivateCIDRs => '10.0.0.0/8, nonsense' }, 'Invalid webhook allowed private CIDRs: nonsense'],
    [{ logLevel => 3 }, 'Invalid request body'],
    [{ metricsRetentionRawHours => 'x' }, 'Invalid request body'],
    [{ discoveryConfig => 'x' }, 'discoveryConfig must be an object'],
    [{ discoveryConfig => undef }, 'discoveryConfig must be an object'],
    [{ discovery_config => [1] }, 'discoveryConfig must be an object'],
    [{ discoveryConfig => { environment_override => 7 } }, 'discoveryConfig.environment_override must be a string'],
    [{ discoveryConfig => { environmentOverride => 'kvm' } }, 'invalid discovery environment override: kvm'],
    [{ discoveryConfig => { subnet_allowlist => '10.0.0.0/8' } }, 'discoveryConfig.subnet_allowlist must be an array of CIDR strings'],
    [{ discoveryConfig => { subnetAllowlist => [10] } }, 'discoveryConfig.subnet_allowlist entries must be strings'],
    [{ discoveryConfig => { subnet_allowlist => ['10.0.0.1'] } }, 'invalid CIDR in discoveryConfig.subnet_allowlist: 10.0.0.1'],
    [{ discoveryConfig => { subnetBlocklist => ['300.0.0.0/8'] } }, 'invalid CIDR in discoveryConfig.subnet_blocklist: 300.0.0.0/8'],
    [{ discoveryConfig => { max_hosts_per_scan => 0 } }, 'discoveryConfig.max_hosts_per_scan must be greater than zero'],
    [{ discoveryConfig => { maxHostsPerScan => 'many' } }, 'discoveryConfig.max_hosts_per_scan must be a number'],
    [{ discoveryConfig => { max_concurrent => 1001 } }, 'discoveryConfig.max_concurrent must be a whole number between 1 and 1000'],
    [{ discoveryConfig => { maxConcurrent => 2.5 } }, 'discoveryConfig.max_concurrent must be a whole number between 1 and 1000'],
    [{ discoveryConfig => { max_concurrent => undef } }, 'discoveryConfig.max_concurrent must be a number'],
    [{ discoveryConfig => { enable_reverse_dns => 'on' } }, 'discoveryConfig.enable_reverse_dns must be a boolean'],
    [{ discoveryConfig => { scanGateways => 0 } }, 'discoveryConfig.scan_gateways must be a boolean'],
    [{ discoveryConfig => { dial_timeout_ms => -1 } }, 'discoveryConfig.dial_timeout_ms must be greater than zero'],
    [{ discoveryConfig => { dialTimeoutMs => 'x' } }, 'discoveryConfig.dial_timeout_ms must be a number'],
    [{ discoveryConfig => { http_timeout_ms => 0 } }, 'discoveryConfig.http_timeout_ms must be greater than zero'],
    [{ discoveryConfig => { httpTimeoutMs => [] } }, 'discoveryConfig.http_timeout_ms must be a number'],
    # A good field with a bad one: nothing is written.
    [{ theme => 'dark', pbsPollingInterval => 20, pmgPollingInterval => 2 }, 'PMG polling interval must be at least 10 seconds'],
    [{ allowedOrigins => 'https://x.example', discoveryConfig => { max_concurrent => 0 } },
        'discoveryConfig.max_concurrent must be a whole number between 1 and 1000'],
    ['[1, 2]', 'Invalid request body'],
    ['"text"', 'Invalid request body'],
    ['{"pvePollingInterval": 10', 'Invalid request body'],
    ['', 'Invalid request body'],
);
my $before = settings();
for my $case (@bad) {
    my ($body, $message) = @$case;
    my $name = ref $body ? JSON::PP->new->canonical->allow_nonref->encode($body) : "body '$body'";
    my $r = update($body);
    my $e = json_error_ok($r, 400, ref $body ? 'invalid_field' : 'invalid_json', $name);
    is($e->{error}, $message, "$name: the original's message");
}
is_deeply(settings(), $before, 'nothing of the refused updates was written');

# --- every field, good values, and the merge rules ------------------------------------
my %good = (pvePollingInterval => 10, pbsPollingInterval => 3600, pmgPollingInterval => 20,
    backupPollingInterval => 604800, backupPollingEnabled => JSON::PP::false, connectionTimeout => 300,
    updateChannel => 'rc', autoUpdateEnabled => JSON::PP::true, autoUpdateCheckInterval => 168,
    autoUpdateTime => '04:30', discoveryEnabled => JSON::PP::true, discoverySubnet => '192.168.10.0/24',
    theme => 'dark', allowEmbedding => JSON::PP::false, allowedEmbedOrigins => 'https://dash.example',
    temperatureMonitoringEnabled => JSON::PP::false, hideLocalLogin => JSON::PP::true,
    webhookAllowedPrivateCIDRs => '10.0.0.0/8,192.168.1.5', publicURL => 'https://pulse.example/',
    disableDockerUpdateActions => JSON::PP::true);
$res = update({ %good, pvePollingInterval => 10.0 });
is($res->code, 200, 'every field at once') or diag $res->body;
is_deeply(decode_json($res->body), { success => JSON::PP::true }, 'the answer is {"success": true}');
$s = settings();
for my $k (sort keys %good) {
    my $want = $k eq 'publicURL' ? 'https://pulse.example' : $good{$k};
    is_deeply($s->{$k}, $want, "$k stored and read back");
}
$stack->wait_for(sub { $stack->log_tail('worker-1', 300) =~ /settings applied" pve_polling_interval=10 pbs_polling_interval=3600 pmg_polling_interval=20 connection_timeout=300 backup_polling=off backup_polling_interval=604800 temperature_monitoring=off/ },
    10, 'the worker to apply every polling setting', 'worker-1');
ok(1, 'the worker applied the PBS and PMG intervals, the timeout, backup polling and temperatures');
$res = $ua->get($stack->url('/api/security/status') => $h)->result;
is(decode_json($res->body)->{hideLocalLogin}, JSON::PP::true, 'hideLocalLogin reaches /api/security/status');
$res = $ua->post($stack->url('/api/agents/docker/containers/update') => $h => json => { hostId => 'h', containerId => 'c' })->result;
is($res->code, 403, 'disableDockerUpdateActions refuses container updates at once');

# Not updatable through the API: ignored, not refused.
$res = update({ logLevel => 'debug', metricsRetentionRawHours => 99, dnsCacheTimeout => 5, sshPort => 2222,
    adaptivePollingEnabled => JSON::PP::true, backendPort => 1, frontendPort => 2 });
is($res->code, 200, 'fields the API does not update are accepted');
$s = settings();
is($s->{logLevel}, 'info', 'logLevel stays the configuration file\'s');
is($s->{metricsRetentionRawHours}, 2, 'retention stays the configuration file\'s');
is($s->{dnsCacheTimeout}, 300, 'dnsCacheTimeout unchanged');
ok(!exists $s->{$_}, "$_ not reported") for qw(sshPort adaptivePollingEnabled backendPort frontendPort);

# Partial updates keep the other fields; empty strings do not clear where the original keeps.
$res = update({ theme => '', updateChannel => '', autoUpdateTime => '', discoverySubnet => '', allowedOrigins => '' });
is($res->code, 200, 'empty strings');
$s = settings();
is($s->{theme}, 'dark', 'theme is not reset by ""');
is($s->{updateChannel}, 'rc', 'updateChannel kept');
is($s->{autoUpdateTime}, '04:30', 'autoUpdateTime kept');
is($s->{discoverySubnet}, '192.168.10.0/24', 'discoverySubnet kept');
is($s->{pbsPollingInterval}, 3600, 'a field not sent is kept');
is($s->{connectionTimeout}, 300, 'connectionTimeout kept');
$res = update({ allowedEmbedOrigins => '', webhookAllowedPrivateCIDRs => '', publicURL => '', theme => 'light' });
is($res->code, 200, 'clearing the clearable fields');
$s = settings();
ok(!exists $s->{$_}, "$_ cleared") for qw(allowedEmbedOrigins webhookAllowedPrivateCIDRs publicURL);
is($s->{theme}, 'light', 'theme changed');
$res = update({ backupPollingInterval => 0, connectionTimeout => 0 });
is($res->code, 200, 'backupPollingInterval 0 (cycle-based) and connectionTimeout 0');
$s = settings();
ok(!exists $s->{backupPollingInterval}, 'backup polling back to cycles');
is($s->{connectionTimeout}, 30, 'connectionTimeout 0 leaves the configured timeout in effect');

# discoveryConfig: aliases, a partial change, normalisation; discovery_config as well.
$res = update({ discoveryConfig => { environmentOverride => ' Docker_Host ', subnetAllowlist => ['10.1.0.0/16', '10.1.0.0/16'],
    subnet_blocklist => [], maxHostsPerScan => 10, scanGateways => JSON::PP::false } });
is($res->code, 200, 'discoveryConfig with aliases') or diag $res->body;
is_deeply(settings()->{discoveryConfig}, { environment_override => 'docker_host', subnet_allowlist => ['10.1.0.0/16'],
    subnet_blocklist => ['169.254.0.0/16'], max_hosts_per_scan => 10, max_concurrent => 50,
    enable_reverse_dns => JSON::PP::true, scan_gateways => JSON::PP::false, dial_timeout_ms => 1000,
    http_timeout_ms => 2000 }, 'normalised: trimmed, lower case, no duplicates, empty blocklist is the default');
$res = update({ discovery_config => { max_concurrent => 7, dial_timeout_ms => 250 } });
is($res->code, 200, 'the discovery_config spelling');
my $dc = settings()->{discoveryConfig};
is_deeply([@$dc{qw(max_concurrent dial_timeout_ms max_hosts_per_scan environment_override)}], [7, 250, 10, 'docker_host'],
    'a partial discovery change keeps the other keys');

# --- who may: admin only, settings scopes, body limits --------------------------------
$res = $ua->get($stack->url('/api/system/settings'))->result;
json_error_ok($res, 401, 'unauthorized', 'GET without credentials');
$res = $ua->post($stack->url('/api/system/settings/update') => json => { theme => 'dark' })->result;
json_error_ok($res, 401, 'unauthorized', 'update without credentials');
my $reader = $stack->agent_token('monitor only', 'monitoring:read');
$res = $ua->get($stack->url('/api/system/settings') => { 'X-API-Token' => $reader->{raw} })->result;
json_error_ok($res, 403, 'missing_scope', 'GET with a token lacking settings:read');
my $settings_reader = $stack->agent_token('settings reader', 'settings:read');
$res = $ua->get($stack->url('/api/system/settings') => { 'X-API-Token' => $settings_reader->{raw} })->result;
is($res->code, 200, 'settings:read may read');
$res = update({ theme => 'dark' }, headers => { 'X-API-Token' => $settings_reader->{raw} });
json_error_ok($res, 403, 'missing_scope', 'update with settings:read only');
my %viewer = (HTTP_X_PROXY_SECRET => $proxy_secret, HTTP_X_REMOTE_USER => 'viewer', HTTP_X_REMOTE_ROLES => 'viewer');
for my $r (['POST', '/api/system/settings/update', '{"theme":"dark"}'], ['GET', '/api/system/settings', ''],
    ['GET', '/api/config/system', '']) {
    my ($code, undef, $b) = $stack->fcgi_request(socket => $stack->socket_path(2), method => $r->[0], uri => $r->[1],
        body => $r->[2], env => \%viewer);
    is($code, 403, "$r->[0] $r->[1] by a proxy user who is not an admin: 403");
    is((eval { decode_json($b) } // {})->{error}, 'Admin privileges required', "$r->[1]: the original's message");
}
$res = update('{"theme":"' . ('x' x (64 * 1024)) . '"}');
is($res->code, 413, 'a body over 64 KiB: 413');
is(settings()->{theme}, 'light', 'the refused body changed nothing');

# --- live headers on another responder: CORS and embedding ----------------------------
my $via2 = sub {
    my (%o) = @_;
    return $stack->fcgi_request(socket => $stack->socket_path(2), uri => '/api/system/settings',
        env => { HTTP_X_API_TOKEN => $admin->{token}, %{ $o{env} // {} } }, %o);
};
my ($st, $hd, $body) = $via2->();
is($st, 200, 'responder 2 answers');
ok(!exists $hd->{'access-control-allow-origin'}, 'no CORS header while allowedOrigins is empty');
is($hd->{'x-frame-options'}, 'DENY', 'X-Frame-Options DENY while embedding is off');
is_deeply(decode_json($body)->{envOverrides}, { pbsPollingInterval => JSON::PP::true },
    'envOverrides names the setting its environment pins');
is(decode_json($body)->{pbsPollingInterval}, 45, 'the pinned value is in effect there');
is(settings()->{pbsPollingInterval}, 3600, 'the stored value is in effect where nothing pins it');

$res = update({ allowedOrigins => 'https://app.example', allowEmbedding => JSON::PP::true,
    allowedEmbedOrigins => 'https://a.example, ,https://b.example:8443' });
is($res->code, 200, 'allowedOrigins and embedding set through responder 1');
my %seen;
$stack->wait_for(sub { ($st, $hd) = $via2->(); ($hd->{'access-control-allow-origin'} // '') eq 'https://app.example' },
    5, 'responder 2 to send the new CORS header', 'fcgi-2');
is($hd->{'access-control-allow-credentials'}, 'true', 'credentials allowed for one origin');
like($hd->{'access-control-allow-headers'} // '', qr/X-API-Token/, 'Allow-Headers');
ok(!exists $hd->{'x-frame-options'}, 'no X-Frame-Options while embedding is allowed');
like($hd->{'content-security-policy'} // '', qr/frame-ancestors 'self' https:\/\/a\.example https:\/\/b\.example:8443$/,
    'frame-ancestors lists the embed origins');
($st, $hd) = $stack->fcgi_request(socket => $stack->socket_path(2), method => 'OPTIONS', uri => '/api/system/settings',
    env => { HTTP_ORIGIN => 'https://app.example' });
ok($st == 200 || $st == 204, 'a preflight is answered without credentials');
is($hd->{'access-control-allow-origin'}, 'https://app.example', 'the preflight carries the CORS header');
$res = update({ allowedOrigins => '*', allowedEmbedOrigins => '' });
$stack->wait_for(sub { ($st, $hd) = $via2->(); ($hd->{'access-control-allow-origin'} // '') eq '*' }, 5,
    'responder 2 to send *', 'fcgi-2');
ok(!exists $hd->{'access-control-allow-credentials'}, 'no credentials with *');
like($hd->{'content-security-policy'} // '', qr/frame-ancestors \*$/, 'embedding with no list: any ancestor');
$res = update({ allowEmbedding => JSON::PP::false });
$stack->wait_for(sub { ($st, $hd) = $via2->(); ($hd->{'x-frame-options'} // '') eq 'DENY' }, 5,
    'responder 2 to deny framing again', 'fcgi-2');
like($hd->{'content-security-policy'} // '', qr/frame-ancestors 'none'$/, "frame-ancestors 'none' again");

# --- GET /api/config/system ------------------------------------------------------------
$res = $ua->get($stack->url('/api/config/system') => $h)->result;
is($res->code, 200, 'GET /api/config/system');
my $cs = decode_json($res->body);
is_deeply([sort keys %$cs], [sort keys %{ settings() }], 'the same shape as /api/system/settings');
($st, $hd, $body) = $stack->fcgi_request(socket => $stack->socket_path(2), uri => '/api/config/system',
    env => { HTTP_X_API_TOKEN => $admin->{token} });
ok(!exists decode_json($body)->{envOverrides}, 'envOverrides there names hideLocalLogin only (not pinned here)');

# --- GET /api/server/info, /api/diagnostics, /api/config ------------------------------
$res = $ua->get($stack->url('/api/server/info'))->result;
is($res->code, 200, 'GET /api/server/info without credentials');
my $si = decode_json($res->body);
like($si->{version}, qr/^\d+\.\d+/, 'server info: version');
is($si->{isDevelopment}, JSON::PP::false, 'server info: not a development build');

my $password = 'pw-82-' . join('', map { sprintf '%02x', int rand 256 } 1 .. 12);
$res = $ua->post($stack->url('/api/config/nodes') => $h => json => { type => 'pve', name => 'pw82',
    host => 'https://127.0.0.1:' . PulseStack::free_port(), user => 'root@pam', password => $password, fingerprint => $sim->{fingerprint} })->result;
is($res->code, 201, 'a node with a password added') or diag $res->body;
$res = $ua->get($stack->url('/api/diagnostics'))->result;
json_error_ok($res, 401, 'unauthorized', 'diagnostics without credentials');
$res = $ua->get($stack->url('/api/diagnostics') => { 'X-API-Token' => $reader->{raw} })->result;
is($res->code, 200, 'diagnostics: any credential, no scope needed') or diag $res->body;
my $raw = $res->body;
my $d = decode_json($raw);
is($d->{runtime}, 'c', 'diagnostics: runtime');
ok($d->{uptime} > 0, 'diagnostics: uptime');
my ($n82) = grep { $_->{name} eq 'pve82' } @{ $d->{nodes} };
is($n82->{authMethod}, 'api_token', 'the token node: api_token');
is($n82->{connected}, JSON::PP::true, 'the token node: connected (its last poll)');
like($n82->{lastPoll} // '', qr/^\d{4}-\d\d-\d\dT/, 'the token node: last poll time');
is($n82->{details}{node_count}, 1, 'the token node: one node');
my ($npw) = grep { $_->{name} eq 'pw82' } @{ $d->{nodes} };
is($npw->{authMethod}, 'username_password', 'the password node: username_password');
is_deeply($d->{pbs}, [], 'no PBS');
is($d->{system}{os}, 'linux', 'system: os');
ok($d->{system}{numCPU} >= 1, 'system: CPUs');
ok($d->{apiTokens}{tokenCount} >= 3, 'tokens counted');
ok(!grep({ exists $_->{hint} } @{ $d->{apiTokens}{tokens} }), 'no token hint');
is($d->{metricsStore}{enabled}, JSON::PP::true, 'metrics store');
is_deeply($d->{$_}, [], "$_ is an empty list") for qw(errors nodeSnapshots guestSnapshots memorySources memorySourceBreakdown);
for my $secret ('secret82secret', $password, $admin->{token}, substr($admin->{token}, 0, 12), $reader->{raw},
    substr($reader->{raw}, -12), $admin->{password}) {
    ok(index($raw, $secret) < 0, 'diagnostics hold no secret (' . substr($secret, 0, 4) . '...)');
}
$res = $ua->get($stack->url('/api/config') => { 'X-API-Token' => $reader->{raw} })->result;
is($res->code, 200, 'GET /api/config with monitoring:read');
is_deeply(decode_json($res->body), { csrfProtection => JSON::PP::false, autoUpdateEnabled => JSON::PP::true,
    updateChannel => 'rc' }, '/api/config from the settings');
$res = $ua->get($stack->url('/api/config') => { 'X-API-Token' => $settings_reader->{raw} })->result;
json_error_ok($res, 403, 'missing_scope', '/api/config without monitoring:read');
no_secret_in_logs($stack, 'secret82secret', $password, $admin->{token});

my $audit = $stack->psql("SELECT count(*) FROM pulse.audit_events WHERE event = 'settings_updated'");
ok($audit >= 5, 'each update is audited');

done_testing;
