#!/usr/bin/perl
# 70-ui.t: the web UI in a real browser: t/ui/ui.mjs drives Debian's chromium headless through
# playwright-core (t/ui/node_modules, installed by ./quickstart test) against the stack's
# nginx: the first-run wizard, login with a wrong and then the right password, the Proxmox
# overview with the simulator's guests, sorting and filtering kept in the URL, the nodes
# table (counts, its own sort, a click filtering the guests, Escape), the guest table's column
# picker (hidden columns out of the way, the rest in line, kept over a reload, the keyboard),
# the disk and network rates against the state, sparklines after two changes of the state and
# after a reload, 360 px, the tabs, the dark theme, logout; no console error on any page. A screenshot of each page goes to
# $PULSE_UI_SHOTS, else t/ui/screenshots/ in the build tree (emptied first; path printed).
# Without chromium or the npm packages the test skips, except under CI=true, where it fails.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use File::Temp qw(tempfile);
use Mojo::JSON qw(encode_json);
use Test::More;
use PulseStack;
use PulseUI;

PulseUI::require_browser();

my $stack = PulseStack->new(settings => { pve_polling_interval => 1 })->start;
my $shots = PulseUI::shots_dir();
my %cred = (user => 'admin', password => 'correct horse battery staple');
$stack->{admin} = \%cred;
sub browser { PulseUI::run($stack, 'ui.mjs', UI_OUT => $shots, @_) }

# First run: the wizard makes the admin and shows the API token.
my ($token) = map { /^token (\S+)$/ ? $1 : () } browser(UI_PHASE => 'setup', UI_BOOTSTRAP => $stack->bootstrap_token);
ok($token, 'the wizard\'s token was shown') or BAIL_OUT('no token from setup');
my $auth = { 'X-API-Token' => $token };
my $res = $stack->ua->get($stack->url('/api/security/tokens') => $auth)->result;
is($res->code, 200, 'the token the wizard showed works');

# A PVE simulator of two nodes and 20 guests (two stopped).
my $sim = $stack->start_sim(nodes => 2, guests => 20, token => 'root@pam!ui=ui-test-token-1');
$res = $stack->ua->post($stack->url('/api/config/nodes') => $auth => json => { type => 'pve', name => 'ui',
    host => $sim->{url}, tokenName => 'root@pam!ui', tokenValue => 'ui-test-token-1', fingerprint => $sim->{fingerprint} })->result;
is($res->code, 201, 'node added') or diag $res->body;
my $st;
$stack->wait_for(sub {
    my $r = $stack->ua->get($stack->url('/api/state') => $auth)->result;
    return 0 unless $r->code == 200;
    $st = $r->json;
    return @{ $st->{nodes} } == 2 && @{ $st->{vms} } + @{ $st->{containers} } == 20;
}, 40, 'the simulator\'s guests in the state', 'worker-1');
my @guests = map { { vmid => $_->{vmid}, name => $_->{name}, node => $_->{node}, status => $_->{status}, type => $_->{type} } }
    @{ $st->{vms} }, @{ $st->{containers} };
my @nodes = map { { id => $_->{id}, node => $_->{node} } } @{ $st->{nodes} };
ok((grep { $_->{status} ne 'running' } @guests) >= 1, 'some guests are stopped');

my ($fh, $expect) = tempfile(DIR => $stack->dir, SUFFIX => '.json');
print {$fh} encode_json({ nodes => \@nodes, guests => \@guests });
close $fh;
browser(UI_PHASE => 'main', UI_EXPECT => $expect);

my @png = glob("$shots/*.png");
ok(@png >= 8, scalar(@png) . " screenshots in $shots");
diag("screenshots: $shots");

done_testing;
