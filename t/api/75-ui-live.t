#!/usr/bin/perl
# 75-ui-live.t: the web UI under a sub-path of an operator's own site, and live, in a real
# browser (t/ui/live.mjs, run as t/api/70-ui.t describes). The stack (nginx and Apache) polls
# a PVE simulator; a second nginx stands for the operator's site, with the proxy block of
# docs/UI.md ("Under a sub-path of another site") serving our nginx at /pulse/ and, the same
# block renamed, our Apache at /pulse-apache/. Here: the base tag for good and hostile
# X-Forwarded-Prefix values from both web servers. In the browser: every page and request
# under /pulse/, deep links reloaded, logout; a changed, stopped, removed and added guest on
# screen within one poll interval of the API having it; the connection banner while the
# simulator is down (killed, then started again on its port); the error banner while the
# API's responder is stopped and while /api/state fails, with the table kept. Screenshots in
# $PULSE_UI_SHOTS/live, else t/ui/screenshots/live in the build tree.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use PulseStack;
use PulseUI;

PulseUI::require_browser();

my $stack = PulseStack->new(apache => 1, settings => { pve_polling_interval => 1 })->start;
$stack->setup_admin;
my $ua = $stack->ua;
my $auth = $stack->token_headers;
my $shots = PulseUI::shots_dir('live');

# A PVE cluster of two nodes (Ceph and replication, so that every Proxmox page has rows).
my %sim_opt = (name => 'lab', nodes => 2, guests => 8, token => 'root@pam!live=ui-live-token-1', cluster => 'lab', ceph => 1);
my $sim = $stack->start_sim(%sim_opt);
my $res = $ua->post($stack->url('/api/config/nodes') => $auth => json => { type => 'pve', name => 'lab',
    host => $sim->{url}, tokenName => 'root@pam!live', tokenValue => 'ui-live-token-1', fingerprint => $sim->{fingerprint} })->result;
is($res->code, 201, 'the simulator added as node "lab"') or diag $res->body;
$stack->wait_state(sub { my $s = shift; @{ $s->{nodes} } == 2 && @{ $s->{vms} } + @{ $s->{containers} } == 8
    && ($s->{connectionHealth}{lab} // '') eq '1' }, 60, 'the simulator\'s guests in the state');

# --- the base tag, straight from our web servers ------------------------------------------
my @prefixes = (
    [undef, '/'], ['/pulse', '/pulse/'], ['/pulse/', '/pulse/'], ['/a/b.c/d~e_f-9', '/a/b.c/d~e_f-9/'],
    ['/x"><script>alert(1)</script>', '/'], ["/x'onload='alert(1)", '/'], ['/x<!--#exec cmd="id" -->', '/'],
    ['/..', '/'], ['/pulse/../etc', '/'], ['//evil.example', '/'], ['pulse', '/'], ['/pul%22se', '/'],
    ['/a b', '/'], ['/' . ('p' x 250), '/'], ['', '/'],
);
for my $front (['nginx', sub { $stack->url(shift) }], ['apache', sub { $stack->apache_url(shift) }]) {
    my ($server, $url) = @$front;
    for my $p (@prefixes) {
        my ($prefix, $want) = @$p;
        my $shown = defined $prefix ? "'$prefix'" : 'no header';
        for my $path ('/', '/proxmox/storage') {
            my $r = $ua->get($url->($path) => { defined $prefix ? ('X-Forwarded-Prefix' => $prefix) : () })->result;
            my @bases = $r->body =~ /(<base\b[^>]*>)/g;
            is_deeply(\@bases, [qq{<base href="$want">}], "$server $path, X-Forwarded-Prefix $shown: <base href=\"$want\">");
            my @scripts = $r->body =~ /(<script\b[^>]*>)/g;
            is(scalar @scripts, 1, "$server $path, $shown: one script tag, ours") or diag "@scripts";
            unlike($r->body, qr/<!--#/, "$server $path, $shown: no server-side include left in the page");
        }
    }
    my $r = $ua->get($url->('/proxmox/overview') => { 'X-Forwarded-Prefix' => '/pulse' })->result;
    like($r->headers->vary // '', qr/X-Forwarded-Prefix/, "$server: index.html varies by X-Forwarded-Prefix");
    is($r->headers->cache_control, 'no-cache', "$server: and is revalidated each time");
    $r = $ua->get($url->('/js/api.js') => { 'X-Forwarded-Prefix' => '/pulse' })->result;
    unlike($r->headers->vary // '', qr/X-Forwarded-Prefix/, "$server: a module does not vary by it");
    unlike($r->body, qr{/pulse}, "$server: nor is it rewritten");
}
{
    my $r = $ua->get($stack->url('/') => { 'X-Forwarded-Prefix' => '/pulse' })->result;
    my $etag = $r->headers->etag;
    ok($etag, 'nginx: index.html keeps a validator');
    is($ua->get($stack->url('/') => { 'X-Forwarded-Prefix' => '/pulse', 'If-None-Match' => $etag })->result->code, 304,
        'nginx: an unchanged page is a 304');
}

# --- the operator's site: docs/UI.md's proxy block ------------------------------------------
my $doc = do { local (@ARGV, $/) = PulseStack::srcdir() . '/docs/UI.md'; <> };
my ($block) = $doc =~ /```nginx\n((?:(?!```).)*?X-Forwarded-Prefix \/pulse;.*?)```/s;
ok($block && $block =~ /127\.0\.0\.1:7655/, 'docs/UI.md gives the operator\'s proxy block') or BAIL_OUT('no proxy block in docs/UI.md');
(my $to_nginx = $block) =~ s/127\.0\.0\.1:7655/127.0.0.1:$stack->{port}/g;
(my $to_apache = $block) =~ s/127\.0\.0\.1:7655/127.0.0.1:$stack->{apache_port}/g;
$to_apache =~ s{/pulse\b}{/pulse-apache}g;
my $front = $stack->start_front_proxy($to_nginx . $to_apache);
my $at = sub { "$front->{url}$_[0]" };
$res = $ua->get($at->('/pulse/api/health'))->result;
is($res->code, 200, 'the API through the operator\'s site');
is($ua->get($at->('/api/health'))->result->code, 404, 'nothing of ours at the site\'s root');
$res = Mojo::UserAgent->new(insecure => 1)->get($at->('/pulse'))->result;
is($res->code, 301, '/pulse redirects');
like($res->headers->location // '', qr{/pulse/$}, '... to /pulse/');
like($ua->get($at->('/pulse/proxmox/storage'))->result->body, qr{<base href="/pulse/">}, 'a deep link has the base /pulse/');
like($ua->get($at->('/pulse-apache/proxmox/storage'))->result->body, qr{<base href="/pulse-apache/">},
    'through Apache: /pulse-apache/');

# --- the browser: it asks for the simulator and the responder to be stopped and started ----
my %answers = (
    'stop-sim'  => sub { defined $stack->stop_program('sim-lab', 'KILL', 10) ? 'ok' : 'error the simulator did not stop' },
    'start-sim' => sub { $stack->start_sim(%sim_opt, port => $sim->{port}); 'ok' },
    'stop-api'  => sub { defined $stack->stop_program('fcgi-1', 'TERM', 20) ? 'ok' : 'error the responder did not stop' },
    'start-api' => sub { $stack->start_responder(1); 'ok' },
);
# What the browser asks the operator's site for, from its access log: everything under the
# two prefixes (the browser's own requests too, such as an icon, that the page's events miss).
my $front_log = $stack->log_dir . '/front-access.log';
my $log_at = -s $front_log;
PulseUI::run_talking($stack, 'live.mjs', \%answers, UI_OUT => $shots, UI_URL => $at->('/pulse'),
    UI_APACHE_URL => $at->('/pulse-apache'), UI_TOKEN => $stack->{admin}{token}, UI_SIM_URL => $sim->{url},
    UI_INSTANCE => 'lab');

my @asked = do {
    open my $fh, '<', $front_log or die "$front_log: $!";
    seek $fh, $log_at, 0;
    map { m{"[A-Z]+ (\S+) HTTP} ? $1 : "(unparsed) $_" } <$fh>;
};
my @outside = grep { !m{^/pulse(-apache)?/} } @asked;
ok(@asked > 100 && !@outside, scalar(@asked) . ' requests at the operator\'s site, all under /pulse/ or /pulse-apache/')
    or diag explain [@outside[0 .. ($#outside < 9 ? $#outside : 9)]];

my @png = glob("$shots/*.png");
ok(@png >= 20, scalar(@png) . " screenshots in $shots");
diag("screenshots: $shots");

done_testing;
