#!/usr/bin/perl
# 87-updates.t: the server's own updates (metrics-reporting.md §6) against a local release
# feed (t/fakes/release-feed.pl): the stable and rc selection of GitHub's releases JSON, the
# Atom feed when the JSON one is rate limited, the check cached in PostgreSQL (no request
# while it is fresh), a slow, a huge, a malformed and a hostile feed (billion laughs, an
# external entity: refused, no file content in any answer), updateAvailable in /api/version
# and /api/health after a check; apply on a deb install with update_install_command (the
# command ran with the verified file; a wrong checksum refused, the command not run), the
# manual steps where no automatic update exists (a docker responder), the progress read as
# server-sent events through nginx while the update runs, the history, and the worker's
# background check when autoUpdateEnabled is on.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Digest::SHA qw(sha256_hex);
use Mojo::JSON qw(true false encode_json decode_json);
use Mojo::UserAgent;
use Time::HiRes qw(time sleep);
use Test::More;
use PulseStack;
use PulseTest;

my $stack = PulseStack->new(responders => 1);
my $feed_port = PulseStack::free_port();
my $feed_url = "http://127.0.0.1:$feed_port";
my $installed = "$stack->{dir}/installed.deb";
$stack->{settings} = {
    deployment_type        => 'deb',
    update_feed_url        => "$feed_url/releases",
    update_atom_url        => "$feed_url/releases.atom",
    update_timeout         => 2,
    update_feed_max_bytes  => 65536,
    update_stage_delay_ms  => 600,
    update_install_command => "sleep 1; cp \$1 $installed; echo installed \$PULSE_UPDATE_VERSION",
};
$stack->start;
$stack->setup_admin;
my $feed = $stack->start_release_feed(port => $feed_port);
my $auth = $stack->token_headers;
my $ua = $stack->ua;
$ua->request_timeout(30);

sub feed_set {
    my (%s) = @_;
    my $res = $ua->post("$feed_url/__feed/set" => json => \%s)->result;
    die 'feed set: ' . $res->body unless $res->is_success;
}
sub feed_count { ($ua->get("$feed_url/__feed/counts")->result->json // {})->{ $_[0] } // 0 }
sub check {
    my ($query) = @_;
    return $ua->get($stack->url('/api/updates/check' . ($query // '')) => $auth)->result;
}
sub clear_cache { $stack->psql('DELETE FROM pulse.update_checks') }

my $arch = `dpkg --print-architecture`;
chomp $arch;
my $deb_name = "pulse_90.2.0_$arch.deb";
my $deb_url = "$feed_url/download/v90.2.0/$deb_name";
my $payload = "a pretend package " . ('x' x 5000);
my @releases = (
    { tag_name => 'v99.9.9', draft => true, prerelease => false, body => 'draft' },
    { tag_name => 'v90.3.0-rc.1', draft => false, prerelease => true, body => 'rc notes',
      published_at => '2026-12-01T10:00:00Z', assets => [] },
    { tag_name => 'v90.2.0', draft => false, prerelease => false, body => 'stable notes',
      published_at => '2026-11-30T10:00:00Z',
      assets => [
          { name => 'pulse-v90.2.0-linux-amd64.tar.gz', browser_download_url => "$feed_url/download/v90.2.0/pulse-v90.2.0-linux-amd64.tar.gz" },
          { name => $deb_name, browser_download_url => $deb_url },
      ] },
    { tag_name => 'not-a-version', draft => false, prerelease => false },
    { tag_name => 'v90.1.5', draft => false, prerelease => false, assets => [] },
);
feed_set(path => '/releases', type => 'application/json', body => encode_json(\@releases));
feed_set(path => "/download/v90.2.0/$deb_name", body => $payload);
feed_set(path => '/download/v90.2.0/SHA256SUMS', type => 'text/plain',
    body => sha256_hex('other') . "  pulse-v90.2.0-linux-amd64.tar.gz\n" . sha256_hex($payload) . "  $deb_name\n");

# --- version and checks ---------------------------------------------------------------------
my $v = $ua->get($stack->url('/api/version'))->result->json;
is($v->{deploymentType}, 'deb', 'version: the configured deployment type');
is($v->{updateAvailable}, false, 'version: no update known before a check');
ok(!exists $v->{latestVersion}, 'version: no latestVersion before a check');
my $current = $v->{version};
my $file_version = do { local (@ARGV, $/) = PulseStack::srcdir() . '/VERSION'; <> };
chomp $file_version;
# A tag gives its own X.Y.Z; without one the VERSION file's number carries the hash.
like($current, qr/^(\Q$file_version\E|\d+\.\d+\.\d+(-[\w.]+)?)(\+git\.(\d+\.)?g[0-9a-f]+(\.dirty)?)?$/,
    "version: VERSION or git describe ($current)");

my $res = check();
is($res->code, 200, 'check: 200');
my $info = $res->json;
is($info->{latestVersion}, 'v90.2.0', 'stable: the first release, drafts and prereleases skipped');
is($info->{available}, true, 'stable: newer than this build');
is($info->{currentVersion}, $current, 'check: currentVersion');
is($info->{downloadUrl}, $deb_url, 'check: the .deb of this architecture for a deb install');
is($info->{isPrerelease}, false, 'check: not a prerelease');
is($info->{releaseNotes}, 'stable notes', 'check: release notes');
is($info->{releaseDate}, '2026-11-30T10:00:00Z', 'check: release date');
is($stack->psql(q{SELECT result->>'latestVersion' FROM pulse.update_checks WHERE channel = 'stable'}),
    'v90.2.0', 'the answer cached in PostgreSQL');

my $rc = check('?channel=rc')->json;
is($rc->{latestVersion}, 'v90.3.0-rc.1', 'rc: a newer prerelease wins');
is($rc->{isPrerelease}, true, 'rc: isPrerelease');
is(check('?channel=beta')->code, 400, 'an unknown channel: 400');

# A stable release beats the release candidates of the same version on the rc channel.
feed_set(path => '/releases', type => 'application/json', body => encode_json([
    { tag_name => 'v90.3.0-rc.2', prerelease => true }, { tag_name => 'v90.3.0-rc.10', prerelease => true },
    { tag_name => 'v90.3.0', prerelease => false }, { tag_name => 'v90.2.9', prerelease => false } ]));
is(check('?channel=rc')->json->{latestVersion}, 'v90.3.0', 'rc: v90.3.0 beats v90.3.0-rc.10');
feed_set(path => '/releases', type => 'application/json', body => encode_json([
    { tag_name => 'v90.3.0-rc.2', prerelease => true }, { tag_name => 'v90.3.0-rc.10', prerelease => true },
    { tag_name => 'v90.2.9', prerelease => false } ]));
is(check('?channel=rc')->json->{latestVersion}, 'v90.3.0-rc.10', 'rc: rc.10 beats rc.2');

# The cache: without a channel, a fresh answer comes from PostgreSQL, not the feed.
feed_set(path => '/releases', type => 'application/json', body => encode_json(\@releases));
clear_cache();
check();
my $n = feed_count('/releases');
is(check()->json->{latestVersion}, 'v90.2.0', 'cached answer');
is(feed_count('/releases'), $n, 'the cached answer made no request to the feed');
check('?channel=stable');
is(feed_count('/releases'), $n + 1, 'an explicit channel asks the feed');

# updateAvailable in /api/version and /api/health, from the cache.
my ($ver, $health);
for (1 .. 30) {
    $ver = $ua->get($stack->url('/api/version'))->result->json;
    last if $ver->{updateAvailable};
    sleep 0.2;
}
is($ver->{updateAvailable}, true, 'version: updateAvailable after a check');
is($ver->{latestVersion}, 'v90.2.0', 'version: latestVersion');
$health = $ua->get($stack->url('/api/health'))->result->json;
is($health->{updateAvailable}, true, 'health: updateAvailable');

# --- the Atom feed when the JSON one is rate limited -------------------------------------
feed_set(path => '/releases', status => 403, type => 'application/json', body => '{"message":"rate limited"}');
feed_set(path => '/releases.atom', type => 'application/atom+xml', body => <<'XML');
<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Release notes from pulse</title>
  <entry><title>Pulse v90.4.0-rc.1</title><updated>2026-12-02T10:00:00Z</updated>
    <link rel="alternate" href="https://example.invalid/releases/tag/v90.4.0-rc.1"/></entry>
  <entry><title>Release without a version</title><updated>2026-12-01T09:00:00Z</updated></entry>
  <entry><title>Pulse v90.3.1</title><updated>2026-12-01T10:00:00Z</updated>
    <link rel="alternate" href="https://example.invalid/releases/tag/v90.3.1"/></entry>
</feed>
XML
$info = check('?channel=stable')->json;
is($info->{latestVersion}, 'v90.3.1', 'Atom: the first stable entry');
is($info->{downloadUrl}, '', 'Atom: no download');
is($info->{releaseDate}, '2026-12-01T10:00:00Z', 'Atom: the entry date');
is(check('?channel=rc')->json->{latestVersion}, 'v90.4.0-rc.1', 'Atom: rc takes the first entry');
feed_set(path => '/releases.atom', status => 500, body => 'down');
$info = check('?channel=stable')->json;
like($info->{warning} // '', qr/rate limit/, 'both feeds failing: a warning, not an error');

# --- bad feeds ---------------------------------------------------------------------------------
sub bad_feed_ok {
    my ($what, $re, %set) = @_;
    feed_set(path => '/releases', %set);
    my $t0 = time;
    my $r = check('?channel=stable');
    is($r->code, 502, "$what: 502");
    like($r->json->{error} // '', $re, "$what: the reason");
    unlike($r->body, qr/root:|daemon:/, "$what: no file content in the answer");
    return time - $t0;
}
my $took = bad_feed_ok('slow feed', qr/did not answer within 2 s/, type => 'application/json',
    body => '[]', delay => 6);
ok($took < 5, sprintf('slow feed: given up after the timeout (%.1f s)', $took));
bad_feed_ok('huge feed', qr/larger than 65536 bytes/, type => 'application/json', body => 'x', repeat => 200000);
bad_feed_ok('malformed JSON', qr/not a JSON array/, type => 'application/json', body => '[{"tag_name":');
bad_feed_ok('a JSON object', qr/not a JSON array/, type => 'application/json', body => '{"tag_name":"v1.0.0"}');
bad_feed_ok('malformed XML', qr/not well-formed/, type => 'application/atom+xml', body => '<feed><entry><title>Pulse v99.0.0</title></feed>');
bad_feed_ok('not Atom', qr/not an Atom feed/, type => 'application/xml', body => '<rss><channel/></rss>');
# An external DTD is never loaded: its entities stay unexpanded references (inert).
feed_set(path => '/releases', type => 'application/atom+xml', body =>
    qq{<?xml version="1.0"?>\n<!DOCTYPE feed SYSTEM "file:///etc/passwd">\n}
    . qq{<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>Pulse v99.0.0 &xxe;</title></entry></feed>\n});
$res = check('?channel=stable');
is($res->code, 200, 'an external DTD: not loaded, the feed read');
is($res->json->{latestVersion}, 'v99.0.0', 'an external DTD: the version read');
unlike($res->body, qr/root:|daemon:/, 'an external DTD: no file content in the answer');
my $laughs = qq{<?xml version="1.0"?>\n<!DOCTYPE feed [\n <!ENTITY lol "lol">\n}
    . join('', map { my $p = $_ - 1; qq{ <!ENTITY lol$_ "} . ("&lol$p;" x 10) . qq{">\n} } 1 .. 9) =~ s/&lol0;/&lol;/gr
    . qq{]>\n<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>Pulse v99.0.0 &lol9;</title></entry></feed>\n};
bad_feed_ok('billion laughs', qr/declares XML entities/, type => 'application/atom+xml', body => $laughs);
bad_feed_ok('external entity', qr/declares XML entities/, type => 'application/atom+xml', body =>
    qq{<?xml version="1.0"?>\n<!DOCTYPE feed [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>\n}
    . qq{<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>Pulse v99.0.0 &xxe;</title></entry></feed>\n});
my $st = $ua->get($stack->url('/api/updates/status') => $auth)->result->json;
is($st->{status}, 'error', 'status: error after a failed check');
like($st->{error} // '', qr/declares XML entities/, 'status: the reason');
unlike($stack->log_text('fcgi-1'), qr/root:x:0/, 'no file content in the responder log');

# --- plans and the manual case --------------------------------------------------------------
is($ua->get($stack->url('/api/updates/plan') => $auth)->result->code, 400, 'plan: version required');
is($ua->get($stack->url('/api/updates/plan?version=latest') => $auth)->result->code, 400, 'plan: a bad version');
my $plan = $ua->get($stack->url('/api/updates/plan?version=v90.2.0') => $auth)->result->json;
is($plan->{canAutoUpdate}, true, 'plan: a deb install with an install command updates itself');
feed_set(path => '/releases', type => 'application/json', body => encode_json(\@releases));
clear_cache();
check();
is($ua->get($stack->url('/api/updates/plan?version=v90.2.0') => $auth)->result->json->{downloadUrl},
    $deb_url, 'plan: the download a check offered for that version');
$stack->start_responder(2, PULSE_DEPLOYMENT_TYPE => 'docker');
my ($code, $hdr, $body) = $stack->fcgi_request(socket => $stack->socket_path(2), method => 'POST',
    uri => '/api/updates/apply', body => encode_json({ downloadUrl => $deb_url }),
    env => { HTTP_X_API_TOKEN => $stack->{admin}{token} });
is($code, 409, 'docker: apply answers 409');
my $manual = decode_json($body);
is($manual->{code}, 'manual_update_required', 'docker: manual_update_required');
is($manual->{canAutoUpdate}, false, 'docker: canAutoUpdate false');
ok((grep { /docker pull .*pulse:90\.2\.0$/ } @{ $manual->{instructions} // [] }), 'docker: the docker pull step of the offered version')
    or diag explain $manual;
($code, undef, $body) = $stack->fcgi_request(socket => $stack->socket_path(2),
    uri => '/api/version');
is(decode_json($body)->{deploymentType}, 'docker', 'docker: deploymentType');
$stack->stop_program('fcgi-2');

# --- apply ------------------------------------------------------------------------------------
feed_set(path => '/releases', type => 'application/json', body => encode_json(\@releases));
sub apply { $ua->post($stack->url('/api/updates/apply') => $auth => json => $_[0])->result }
is(apply({})->code, 400, 'apply: no URL');
like(apply({ downloadUrl => '' })->json->{error}, qr/Download URL is required/, 'apply: empty URL');
is(apply({ downloadUrl => 5 })->code, 400, 'apply: a number');
clear_cache();
is(apply({ downloadUrl => $deb_url })->code, 400, 'apply: a URL no check offered');
check();
is(apply({ downloadUrl => "$feed_url/download/evil.deb" })->code, 400, 'apply: another URL');

# A wrong checksum: refused, the command does not run.
feed_set(path => '/download/v90.2.0/SHA256SUMS', type => 'text/plain', body => sha256_hex('tampered') . "  $deb_name\n");
$res = apply({ downloadUrl => $deb_url });
is($res->code, 200, 'apply: started');
is($res->json->{status}, 'started', 'apply: status started');
my $bad_id = $res->json->{id};
$stack->wait_for(sub { $stack->psql("SELECT status FROM pulse.update_jobs WHERE event_id = '$bad_id'") ne 'in_progress' },
    30, 'the refused update ends', 'worker-1');
my $entry = $ua->get($stack->url("/api/updates/history/entry?id=$bad_id") => $auth)->result->json;
is($entry->{status}, 'failed', 'wrong checksum: failed');
is($entry->{error}{code}, 'checksum_mismatch', 'wrong checksum: the code');
ok(!-e $installed, 'wrong checksum: the install command did not run');
ok(!-e "$stack->{dir}/data/updates/$deb_name", 'wrong checksum: no file left');

# The right checksum, followed as server-sent events through nginx.
feed_set(path => '/download/v90.2.0/SHA256SUMS', type => 'text/plain', body => sha256_hex($payload) . "  $deb_name\n");
my $events_file = "$stack->{dir}/events.txt";
my $reader = fork // die "fork: $!";
if ($reader == 0) {
    open my $out, '>', $events_file or POSIX::_exit(1);
    $out->autoflush(1);
    my $sse = Mojo::UserAgent->new(insecure => 1, inactivity_timeout => 40, request_timeout => 60);
    my $tx = $sse->build_tx(GET => $stack->url('/api/updates/stream') => $auth);
    my $buf = '';
    $tx->res->content->unsubscribe('read')->on(read => sub {
        $buf .= $_[1];
        while ($buf =~ s/^(.*?)\n\n//s) { my $e = $1; $e =~ s/\n/ /g; printf {$out} "%.3f\t%s\n", time, $e }
    });
    $sse->start($tx);
    printf {$out} "%.3f\tend %s\n", time, $tx->res->code // 0;
    POSIX::_exit(0);
}
sub events { open my $fh, '<', $events_file or return (); map { chomp; [split /\t/, $_, 2] } <$fh> }
$stack->wait_for(sub { grep { $_->[1] =~ /^data: / } events() }, 10, 'the stream sends the status');
my ($first) = grep { $_->[1] =~ /^: connected/ } events();
ok($first, 'stream: connected comment');
$res = apply({ downloadUrl => $deb_url });
is($res->code, 200, 'apply: started again');
my $id = $res->json->{id};
$res = apply({ downloadUrl => $deb_url });
is($res->code, 409, 'apply: a second update while one runs: 409');
is($res->json->{code}, 'update_in_progress', 'apply: update_in_progress');
$stack->wait_for(sub { grep { $_->[1] =~ /^end/ } events() }, 30, 'the stream ends after the update');
waitpid $reader, 0;
my @ev = events();
my @statuses = map { $_->[1] =~ /^data: (.*)/ ? decode_json($1)->{status} : () } @ev;
my %at = map { $_->[1] =~ /^data: (.*)/ ? (decode_json($1)->{status} => $_->[0]) : () } @ev;
is_deeply([grep { /downloading|verifying|applying|completed/ } @statuses],
    [qw(downloading verifying applying completed)], 'stream: every stage in order') or diag explain \@ev;
ok(($at{completed} // 0) - ($at{downloading} // 1e12) >= 1, 'stream: events arrived as they happened, not at the end');
like($ev[-1][1], qr/^end 200/, 'stream: 200, ended by the server after the update');
is(do { local (@ARGV, $/) = $installed; <> }, $payload, 'the install command got the verified file');
$entry = $ua->get($stack->url("/api/updates/history/entry?id=$id") => $auth)->result->json;
is($entry->{status}, 'success', 'history: success');
is($entry->{version_to}, 'v90.2.0', 'history: version_to');
is($entry->{version_from}, $current, 'history: version_from');
is($entry->{deployment_type}, 'deb', 'history: deployment_type');
is($entry->{initiated_via}, 'api', 'history: initiated via the API (a token)');
is($entry->{download_bytes}, length $payload, 'history: download_bytes');
ok($entry->{duration_ms} >= 1000, 'history: duration_ms');
like(do { local (@ARGV, $/) = $entry->{log_path}; <> } // '', qr/installed v90\.2\.0/, 'the command saw PULSE_UPDATE_VERSION');
$st = $ua->get($stack->url('/api/updates/status') => $auth)->result->json;
is("$st->{status} $st->{progress}", 'completed 100', 'status: completed 100');

my $hist = $ua->get($stack->url('/api/updates/history') => $auth)->result->json;
is_deeply([map { $_->{event_id} } @$hist], [$id, $bad_id], 'history: newest first');
is(scalar @{ $ua->get($stack->url('/api/updates/history?status=failed') => $auth)->result->json }, 1, 'history: status filter');
is($ua->get($stack->url('/api/updates/history?status=bogus') => $auth)->result->code, 400, 'history: a bad filter');
is($ua->get($stack->url('/api/updates/history/entry') => $auth)->result->code, 400, 'entry: id required');
is($ua->get($stack->url('/api/updates/history/entry?id=nope') => $auth)->result->code, 404, 'entry: unknown id');

# --- credentials ----------------------------------------------------------------------------
is($ua->get($stack->url('/api/updates/check'))->result->code, 401, 'check: credentials required');
my $reader_token = $stack->agent_token('reader', 'monitoring:read');
is($ua->get($stack->url('/api/updates/check') => $reader_token->{headers})->result->code, 403, 'check: settings:read required');

# --- the background check -----------------------------------------------------------------
clear_cache();
$stack->psql(q{INSERT INTO pulse.system_settings (key, value) VALUES ('autoUpdateEnabled', 'true')});
$stack->psql(q{NOTIFY pulse_jobs, 'update_check'});
$stack->wait_for(sub { $stack->psql(q{SELECT count(*) FROM pulse.update_checks}) == 1 }, 20,
    'the worker checks the feed', 'worker-1');
pass('background check when autoUpdateEnabled is on');

$stack->stop;
done_testing;
