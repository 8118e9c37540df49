#!/usr/bin/perl
# 74-ui-agents.t: the Docker, Kubernetes and Hosts pages in a real browser (t/ui/agents.mjs),
# over mock mode's agents (4 hosts, 3 Docker hosts of 12 containers, 2 Kubernetes clusters):
# each page lists what /api/state holds, and its search, selects and sort are kept in the URL;
# kiosk mode with ?token= as a wall display opens it; API-only mode signs in with a token.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use File::Temp qw(tempfile);
use Mojo::JSON qw(true encode_json);
use Test::More;
use PulseStack;
use PulseUI;

PulseUI::require_browser();

my $stack = PulseStack->new->start;
$stack->setup_admin;
my $auth = $stack->token_headers;
my $res = $stack->ua->put($stack->url('/api/system/mock-mode') => $auth => json => { enabled => true })->result;
is($res->code, 200, 'mock mode on') or diag $res->body;
my $st = $stack->wait_state(sub { @{ $_[0]{hosts} } == 4 && @{ $_[0]{dockerHosts} } == 3
    && @{ $_[0]{kubernetesClusters} } == 2 }, 60, 'the mock agents');

# What the pages must show, from the state (the browser reads its own copy a moment later:
# mock values drift, the names and counts do not).
my @containers = map { my $h = $_; map { { name => $_->{name}, host => $h->{displayName} || $h->{hostname}, state => $_->{state} } }
    @{ $h->{containers} } } @{ $st->{dockerHosts} };
my @deps = map { @{ $_->{deployments} } } @{ $st->{kubernetesClusters} };
my %expect = (
    hosts => [map { { name => $_->{displayName} || $_->{hostname}, platform => $_->{platform} } } @{ $st->{hosts} }],
    containers => \@containers,
    pods => scalar(map { @{ $_->{pods} } } @{ $st->{kubernetesClusters} }),
    deployments => scalar(@deps),
    degradedDeployments => scalar(grep { ($_->{readyReplicas} // 0) < ($_->{desiredReplicas} // 0) } @deps),
    k8sNodes => scalar(map { @{ $_->{nodes} } } @{ $st->{kubernetesClusters} }),
    clusters => [map { $_->{displayName} || $_->{name} } @{ $st->{kubernetesClusters} }],
);
ok($expect{pods} > 0 && $expect{deployments} > 0 && @containers == 36, 'the mock estate: '
    . "$expect{pods} pods, $expect{deployments} deployments, " . scalar(@containers) . ' containers');

my ($fh, $file) = tempfile(DIR => $stack->dir, SUFFIX => '.json');
print {$fh} encode_json(\%expect);
close $fh;
my $shots = PulseUI::shots_dir('agents');
my $kiosk = $stack->agent_token('wall display', 'monitoring:read');
PulseUI::run($stack, 'agents.mjs', UI_OUT => $shots, UI_EXPECT => $file, UI_KIOSK_TOKEN => $kiosk->{raw});

# API-only mode: tokens but no local user (the user removed behind the server's back).
$stack->psql('DELETE FROM pulse.users');
$res = $stack->ua->get($stack->url('/api/state') => { Authorization => "Bearer $stack->{admin}{token}" })->result;
is($res->code, 401, 'API-only mode: a Bearer token is not taken');
PulseUI::run($stack, 'agents.mjs', UI_OUT => $shots, UI_EXPECT => $file, UI_PHASE => 'apionly', UI_TOKEN => $stack->{admin}{token});
my @png = glob("$shots/*.png");
ok(@png >= 5, scalar(@png) . " screenshots in $shots");
done_testing;
