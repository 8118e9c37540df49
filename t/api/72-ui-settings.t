#!/usr/bin/perl
# 72-ui-settings.t: the Settings pages in a real browser (t/ui/settings.mjs, see t/api/70-ui.t
# for how it runs): a PVE simulator added through the form (a bad host's validation error
# first, Test connection before saving), its guests on the overview, the node edited; a
# token made with two scopes in the UI, checked here through the API, then revoked in the UI
# and refused; a webhook added and its Test buttons delivering to a receiver this test
# starts; email presets and a test's error; apprise saved; the security checklist against
# /api/security/status; the system settings read, a bad interval's message, one saved and
# read back, a pinned one disabled; Updates against a release feed started here (the plan's
# manual steps); Diagnostics against /api/diagnostics, Copy as JSON; Reporting's 402 message;
# the node deleted; mock mode on and off; 360 px wide; no console
# errors. Screenshots of each section in $PULSE_UI_SHOTS/settings, else
# t/ui/screenshots/settings in the build tree.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use File::Temp qw(tempfile);
use Digest::SHA qw(sha256_hex);
use Mojo::JSON qw(encode_json);
use Test::More;
use PulseStack;
use PulseUI;

PulseUI::require_browser();

# The PMG polling interval pinned by the environment: the System page disables its field.
$ENV{PULSE_PMG_POLLING_INTERVAL} = 90;
my $feed_port = PulseStack::free_port();
my $feed_url = "http://127.0.0.1:$feed_port";
my $stack = PulseStack->new(settings => { pve_polling_interval => 1, deployment_type => 'deb',
    update_feed_url => "$feed_url/releases", update_stage_delay_ms => 300 });
# Install update runs this in place of dpkg: the package the worker downloaded and checked is copied.
my $installed = "$stack->{dir}/installed.deb";
$stack->{settings}{update_install_command} = "cp \$1 $installed";
$stack->start;
$stack->setup_admin;
my $shots = PulseUI::shots_dir('settings');
my $auth = $stack->token_headers;
my $ua = $stack->ua;
sub api { my ($method, $path, @rest) = @_; $ua->build_tx($method => $stack->url($path) => $auth => @rest) }
sub call { my $tx = api(@_); $ua->start($tx); $tx->result }

# The simulator is started but not added: the browser adds it.
my ($token_id, $token_value) = ('root@pam!ui', 'ui-settings-token-1');
my $sim = $stack->start_sim(nodes => 2, guests => 6, token => "$token_id=$token_value");
my $sink = $stack->start_webhook_sink;
# The release feed the Updates page checks: one release, a .deb for this machine.
$stack->start_release_feed(port => $feed_port);
my $arch = `dpkg --print-architecture`;
chomp $arch;
my $release = 'v90.2.0';
my $res = $ua->post("$feed_url/__feed/set" => json => { path => '/releases', type => 'application/json',
    body => encode_json([{ tag_name => $release, draft => Mojo::JSON::false, prerelease => Mojo::JSON::false,
        body => 'stable notes', published_at => '2026-11-30T10:00:00Z',
        assets => [{ name => "pulse_90.2.0_$arch.deb", browser_download_url => "$feed_url/download/$release/pulse_90.2.0_$arch.deb" }] }]) })->result;
die 'feed set: ' . $res->body unless $res->is_success;
my $deb = "pulse_90.2.0_$arch.deb";
my $payload = 'a pretend package ' . ('x' x 3000);
for my $f ([$deb, $payload, 'application/octet-stream'], ['SHA256SUMS', sha256_hex($payload) . "  $deb\n", 'text/plain']) {
    $res = $ua->post("$feed_url/__feed/set" => json => { path => "/download/$release/$f->[0]", body => $f->[1], type => $f->[2] })->result;
    die 'feed set: ' . $res->body unless $res->is_success;
}
sub browser { PulseUI::run($stack, 'settings.mjs', UI_OUT => $shots, @_) }

# --- add the node, edit it, make a token ---------------------------------------------------
my @out = browser(UI_PHASE => 'add', UI_SIM_URL => $sim->{url}, UI_SIM_FP => $sim->{fingerprint},
    UI_SIM_TOKEN_ID => $token_id, UI_SIM_TOKEN_VALUE => $token_value, UI_GUESTS => 6);
my ($raw) = map { /^token (\S+)$/ ? $1 : () } @out;
my ($names) = map { /^guests (.*)$/ ? $1 : () } @out;

my $nodes = call(GET => '/api/config/nodes')->json;
is(scalar @$nodes, 1, 'one node configured, through the form');
my $n = $nodes->[0] // {};
is($n->{name}, 'lab-renamed', '... with the edited name');
is($n->{host}, $sim->{url}, '... the simulator\'s host');
is(lc($n->{fingerprint} // '') =~ s/://gr, $sim->{fingerprint}, '... its pinned fingerprint');
is($n->{tokenName}, $token_id, '... the token id');
ok($n->{hasToken}, '... and the secret, kept by the edit');
is($n->{monitorBackups} ? 1 : 0, 0, '... backups switched off by the edit');
is($n->{status}, 'connected', '... polled');

my $st = call(GET => '/api/state')->json;
my @guests = sort map { $_->{name} } @{ $st->{vms} }, @{ $st->{containers} };
is($names, join(',', @guests), 'the overview showed the state\'s guests');

ok($raw, 'the UI showed the new token') or BAIL_OUT('no token from the UI');
my ($rec) = grep { $_->{name} eq 'ui-made' } @{ call(GET => '/api/security/tokens')->json->{tokens} };
is_deeply([sort @{ $rec->{scopes} // [] }], ['docker:report', 'monitoring:read'], 'the token has the two scopes picked');
my %as_token = ('X-API-Token' => $raw);
is($ua->get($stack->url('/api/state') => \%as_token)->result->code, 200, 'the token reads the state');
is($ua->get($stack->url('/api/config/nodes') => \%as_token)->result->code, 403, 'but not the settings');

# --- revoke, notifications, security, delete, mock mode -------------------------------------
my $providers = call(GET => '/api/notifications/email-providers')->json;
my ($fh, $expect) = tempfile(DIR => $stack->dir, SUFFIX => '.json');
print {$fh} encode_json({ providers => $providers, security => call(GET => '/api/security/status')->json,
    system => call(GET => '/api/system/settings')->json, info => call(GET => '/api/server/info')->json,
    diag => call(GET => '/api/diagnostics')->json });
close $fh;
browser(UI_PHASE => 'more', UI_SINK_URL => $sink->{url}, UI_EXPECT => $expect, UI_RELEASE => $release);

is($ua->get($stack->url('/api/state') => \%as_token)->result->code, 401, 'the revoked token is refused');
ok(!(grep { $_->{name} eq 'ui-made' } @{ call(GET => '/api/security/tokens')->json->{tokens} }), 'and gone');

my $sys = call(GET => '/api/system/settings')->json;
is($sys->{pbsPollingInterval}, 45, 'the PBS polling interval saved by the System page');
is($sys->{webhookAllowedPrivateCIDRs}, '127.0.0.1', '... and the private networks webhooks may reach');
is($sys->{theme}, 'dark', '... and the theme');
is($sys->{pmgPollingInterval}, 90, 'the pinned PMG interval as the environment says');

my $hist = call(GET => '/api/updates/history')->json;
is(scalar @$hist, 1, 'one update, installed through the Updates page');
is($hist->[0]{status}, 'success', '... successful');
is($hist->[0]{version_to}, $release, "... to $release");
is($hist->[0]{initiated_via}, 'ui', '... from the UI');
ok(-f $installed && do { local (@ARGV, $/) = ($installed); <> } eq $payload, '... the install command ran with the downloaded package');

my ($hook) = grep { $_->{name} eq 'ui sink' } @{ call(GET => '/api/notifications/webhooks')->json };
is($hook->{url}, "$sink->{url}/ui-hook", 'the webhook stored with its URL');
is(($hook->{headers} // {})->{'X-Test'}, '***REDACTED***', '... and its header');
my $reqs = $ua->get("$sink->{url}/__sink/requests")->result->json;
my @at_hook = grep { $_->{path} eq '/ui-hook' } @$reqs;
ok((grep { ($_->{headers}{'X-Test'} // '') eq 'from-the-ui' } @at_hook) >= 2, 'both tests reached the receiver with the header')
    or diag explain [map { { path => $_->{path}, headers => $_->{headers} } } @$reqs];
ok((grep { $_->{body} =~ /test-webhook-\Q$hook->{id}\E/ } @at_hook), 'the row\'s Test sent that webhook\'s test alert');

my $apprise = call(GET => '/api/notifications/apprise')->json;
is_deeply($apprise->{targets}, ['json://127.0.0.1/one', 'json://127.0.0.1/two'], 'apprise targets saved');
is(scalar @{ call(GET => '/api/config/nodes')->json }, 0, 'the node deleted');
ok(!call(GET => '/api/system/mock-mode')->json->{enabled}, 'mock mode off again');

my @png = glob("$shots/*.png");
ok(@png >= 15, scalar(@png) . " screenshots in $shots");
diag("screenshots: $shots");

done_testing;
