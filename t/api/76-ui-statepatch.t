#!/usr/bin/perl
# 76-ui-statepatch.t: the two pieces of the UI's cheap refresh. The patches in which the state
# worker sends each new state to the page (nginx/ui/js/statepatch.js) rebuild the state
# exactly: t/ui/statepatch-test.mjs runs in Node.js over a real /api/state of mock mode's
# estate (every kind of resource the UI shows), changed at random in every way a state can
# change, and over two real states a polling cycle apart. And the tables' redraw in place
# (nginx/ui/js/morph.js) gives what the HTML says: t/ui/morph-test.mjs in chromium. Needs
# node and chromium (as the browser tests; skipped without them, except under CI=true).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use File::Temp qw(tempdir);
use Mojo::JSON qw(true);
use Test::More;
use PulseStack;
use PulseUI;

PulseUI::require_browser();

my $stack = PulseStack->new(settings => { pve_polling_interval => 1 })->start;
my $admin = $stack->setup_admin;
my $auth = { 'X-API-Token' => $admin->{token} };
my $res = $stack->ua->put($stack->url('/api/system/mock-mode') => $auth => json => { enabled => true })->result;
is($res->code, 200, 'mock mode on') or diag $res->body;
$stack->wait_state(sub { @{ $_[0]{vms} // [] } && @{ $_[0]{dockerHosts} // [] } }, 60, 'the mock estate');

my $dir = tempdir(CLEANUP => 1);
my @bodies;
for my $i (0, 1) {
    my $r = $stack->ua->get($stack->url('/api/state') => $auth)->result;
    is($r->code, 200, "state $i");
    push @bodies, $r->body;
    open my $fh, '>', "$dir/state$i.json" or die $!;
    print {$fh} $r->body;
    close $fh;
    # The next state a cycle later (mock values drift).
    $stack->wait_for(sub { $stack->ua->get($stack->url('/api/state') => $auth)->result->body ne $r->body }, 30,
        'a changed state') if $i == 0;
}
isnt($bodies[0], $bodies[1], 'two different states');

for my $file ("$dir/state0.json") {
    my @out = `cd '${\PulseStack::srcdir()}/t/ui' && node statepatch-test.mjs '$file' 300 '$dir/state1.json' 2>&1`;
    my $rc = $? >> 8;
    my @checks = grep { /^(not )?ok \d+/ } @out;
    ok(@checks >= 5, 'the script ran its checks') or diag @out;
    for (@checks) {
        my ($not, $what) = /^(not )?ok \d+ - (.*)$/;
        ok(!$not, $what);
    }
    is($rc, 0, 'the script passed') or diag @out;
}

# morph.js in the browser.
PulseUI::run($stack, 'morph-test.mjs');
done_testing;
