package PulseUI;
# PulseUI: the Perl side of the browser tests. require_browser() skips the test when Debian's
# chromium, Node.js or t/ui's npm packages are missing (fails under CI=true instead);
# shots_dir($name) makes (and empties) the directory for a test's screenshots; run($stack,
# $script, %env) runs a t/ui script with node, turns each "ok - ..." / "not ok - ... # why"
# line it prints into a check here, and returns its other lines; run_talking() also answers
# the script's "ask ..." lines (a script that needs the test to act while it runs).
use strict;
use warnings;
use File::Path qw(make_path);
use Test::More;
use PulseStack;

sub chromium { $ENV{PULSE_CHROMIUM} // '/usr/bin/chromium' }

sub require_browser {
    my $src = PulseStack::srcdir();
    my @missing;
    push @missing, chromium() . ' (Debian package chromium)' unless -x chromium();
    push @missing, 'node (Debian package nodejs)' unless grep { -x "$_/node" } split /:/, $ENV{PATH};
    push @missing, "$src/t/ui/node_modules/playwright-core (cd t/ui && npm ci)"
        unless -f "$src/t/ui/node_modules/playwright-core/package.json";
    return unless @missing;
    my $why = 'the browser test needs ' . join(', ', @missing) . ' (./quickstart test installs them)';
    if (($ENV{CI} // '') eq 'true') {
        fail("CI=true: $why");
        done_testing;
        exit;
    }
    plan skip_all => $why;
}

# $PULSE_UI_SHOTS/$name, else t/ui/screenshots/$name in the build tree; emptied of PNGs.
sub shots_dir {
    my ($name) = @_;
    my $dir = ($ENV{PULSE_UI_SHOTS} // PulseStack::builddir() . '/t/ui/screenshots') . ($name ? "/$name" : '');
    make_path($dir);
    unlink glob("$dir/*.png");
    return $dir;
}

# Runs t/ui/$script against the stack with the admin's credentials ($stack->{admin}, from
# setup_admin, unless %env gives UI_USER/UI_PASSWORD) and %env; returns the lines that were
# not checks.
sub run { my ($stack, $script, %env) = @_; return run_talking($stack, $script, undef, %env) }

# As run(), for a script that needs the test to act while it runs (stop a program, start it
# again): the script prints "ask <what> <args...>" and reads one line from its stdin; here
# $answers->{<what>}->(<args>) runs and its return value (one line, "ok" when it returns
# nothing) is that line. An unknown <what> answers "error unknown".
sub run_talking {
    my ($stack, $script, $answers, %env) = @_;
    my $admin = $stack->{admin} // {};
    my %all = (UI_URL => $stack->base_url, UI_CHROMIUM => chromium(),
        UI_USER => $admin->{user} // '', UI_PASSWORD => $admin->{password} // '', %env);
    local @ENV{keys %all} = values %all;
    my $label = $env{UI_PHASE} // $script;
    pipe(my $from_test, my $to_script) or die "pipe: $!";
    my $pid = open(my $out, '-|') // die "fork: $!";
    if (!$pid) {
        close $to_script;
        open STDIN, '<&', $from_test or die "stdin: $!";
        open STDERR, '>&', \*STDOUT;
        chdir PulseStack::srcdir() . '/t/ui' or die "t/ui: $!";
        exec 'node', $script or die "node: $!";
    }
    close $from_test;
    $to_script->autoflush(1);
    my (@rest, $checks);
    while (my $line = <$out>) {
        chomp $line;
        if (my ($not, $what, $why) = $line =~ /^(not )?ok - (.*?)(?: # (.*))?$/) {
            $checks++;
            ok(!$not, "browser ($label): $what") or diag($why // '');
        } elsif ($answers && $line =~ /^ask (\S+)\s*(.*)$/) {
            my ($what, @args) = ($1, split ' ', $2);
            my $reply = $answers->{$what} ? eval { $answers->{$what}->(@args) } // ($@ ? "error $@" : 'ok') : 'error unknown';
            $reply =~ s/\n/ /g;
            print {$to_script} "$reply\n";
        } else {
            push @rest, $line;
        }
    }
    close $to_script;
    close $out;
    is($? >> 8, 0, "browser ($label): the script ran to its end") or diag(join "\n", @rest);
    ok($checks, "browser ($label): checks were made");
    return @rest;
}

1;
