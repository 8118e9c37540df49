#!/usr/bin/perl
# 01-health-version.t: GET /api/health and /api/version through nginx and through Apache,
# the static UI (its modules, history routes, caching), and the security headers.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use PulseStack;
use PulseTest;

my $stack = PulseStack->new(responders => 2, apache => 1)->start;
my $ua = $stack->ua;

for my $front (['nginx', sub { $stack->url(shift) }], ['apache', sub { $stack->apache_url(shift) }]) {
    my ($name, $url) = @$front;

    my $res = $ua->get($url->('/api/health'))->result;
    is($res->code, 200, "$name: health 200");
    like($res->headers->content_type, qr{^application/json}, "$name: health is JSON");
    my $h = json_body($res, "$name health");
    is($h->{status}, 'healthy', "$name: status healthy");
    like($h->{timestamp}, qr/^\d{10}$/, "$name: timestamp in unix seconds");
    ok(abs($h->{timestamp} - time) < 60, "$name: timestamp is now");
    like($h->{uptime}, qr/^\d+(\.\d+)?(e[-+]\d+)?$/, "$name: uptime is a number of seconds");
    ok(exists $h->{proxyInstallScriptAvailable}, "$name: proxyInstallScriptAvailable present");
    ok(!ref $h->{proxyInstallScriptAvailable} || JSON::PP::is_bool($h->{proxyInstallScriptAvailable})
        || ref($h->{proxyInstallScriptAvailable}) =~ /Boolean/, "$name: proxyInstallScriptAvailable is a bool");
    is($h->{database}{status}, 'ok', "$name: database ok");
    is($h->{database}{schemaVersion}, $h->{database}{expectedSchemaVersion}, "$name: schema matches");
    ok($h->{database}{latencyMs} >= 0, "$name: latency reported");
    security_headers_ok($res, "$name health");

    $res = $ua->get($url->('/api/version'))->result;
    is($res->code, 200, "$name: version 200");
    my $v = json_body($res, "$name version");
    like($v->{version}, qr/^\d+\.\d+\.\d+/, "$name: version is semver without v");
    for my $f (qw(isDocker isSourceBuild isDevelopment updateAvailable containerized)) {
        ok(ref $v->{$f} && "$v->{$f}" =~ /^[01]$/, "$name: $f is a bool");
    }
    is($v->{channel}, 'stable', "$name: channel");
    # A build from a git checkout says so (update_version.c): development, else release.
    like($v->{build}, qr/^(release|development)$/, "$name: build");
    is($v->{isDevelopment} ? 'development' : 'release', $v->{build}, "$name: isDevelopment matches build");
    ok(length $v->{deploymentType}, "$name: deploymentType");

    $res = $ua->head($url->('/api/version'))->result;
    is($res->code, 200, "$name: HEAD version 200");
    is($res->body, '', "$name: HEAD has no body");

    $res = $ua->get($url->('/'))->result;
    is($res->code, 200, "$name: UI page served");
    like($res->body, qr{<title>Pulse</title>}, "$name: UI page is ours");
    my ($hash) = $res->body =~ m{<script type="module" src="assets/([0-9a-f]{12})/app\.js">};
    ok($hash, "$name: UI loads its script as a module, from assets/<hash>/ (nginx/ui-stamp)");
    like($res->body, qr{<link rel="stylesheet" href="assets/$hash/style\.css">}, "$name: and its stylesheet");
    like($res->body, qr{<base href="/">}, "$name: UI URLs are relative to <base>");
    security_headers_ok($res, "$name UI");
    is($res->headers->cache_control, 'no-cache', "$name: the page revalidated, not refetched");
    # Compressed on the wire (a user agent that leaves the body as it came).
    my $raw = Mojo::UserAgent->new(insecure => 1);
    $raw->transactor->compressed(0);
    is($raw->get($url->("/assets/$hash/js/overview.js") => { 'Accept-Encoding' => 'gzip' })->result
        ->headers->content_encoding, 'gzip', "$name: compressed");
    $res = $ua->get($url->("/assets/$hash/app.js"))->result;
    is($res->code, 200, "$name: the stamped script is served");
    like($res->headers->content_type, qr{^(application|text)/javascript}, "$name: script served as JavaScript (modules need it)");
    is($res->headers->cache_control, 'public, max-age=31536000, immutable', "$name: kept for a year");
    security_headers_ok($res, "$name UI asset");
    like($res->body, qr{/api/health}, "$name: the UI script reads health");
    like($res->body, qr{/api/version}, "$name: the UI script reads version");
    $res = $ua->get($url->("/assets/$hash/js/overview.js"))->result;
    is($res->code, 200, "$name: the UI's modules are served under the same hash");
    like($res->headers->content_type, qr{^(application|text)/javascript}, "$name: as JavaScript");
    is($res->headers->cache_control, 'public, max-age=31536000, immutable', "$name: kept for a year too");
    $res = $ua->get($url->("/assets/$hash/js/no-such-module.js"))->result;
    is($res->code, 404, "$name: a missing asset is a 404, not the page");
    $res = $ua->get($url->('/js/overview.js'))->result;
    is($res->code, 200, "$name: the plain path serves the same file");
    is($res->headers->cache_control, 'no-cache', "$name: revalidated there");
    # History routing: a page's path is no file; the web server answers with the UI's page.
    $res = $ua->get($url->('/proxmox/overview?sort=cpu'))->result;
    is($res->code, 200, "$name: a UI route is served");
    like($res->body, qr{<title>Pulse</title>}, "$name: with the UI page");
}

# gzip on JSON through nginx (the version body is small; ask for a large enough answer later
# issues provide; here check that nginx declares the JSON type compressible).
my $conf = do { local (@ARGV, $/) = $stack->run_dir . '/nginx/pulse-site.conf'; <> };
like($conf, qr/gzip_types[^;]*application\/json/, 'nginx compresses JSON');
unlike($conf, qr/^\s*keepalive\s/m, 'no upstream keepalive');

# Both responders serve: the access logs of each show requests.
$ua->get($stack->url('/api/version')) for 1 .. 20;
like($stack->log_tail('fcgi-1', 200), qr/msg=access/, 'responder 1 served requests');
like($stack->log_tail('fcgi-2', 200), qr/msg=access/, 'responder 2 served requests');

done_testing;
