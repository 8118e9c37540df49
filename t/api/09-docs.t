#!/usr/bin/perl
# 09-docs.t: the documentation describes what is there: every setting the programs know is
# in docs/CONFIGURATION.md (with its environment variable), every route in docs/API.md.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::JSON qw(decode_json);
use Test::More;
use PulseStack;

my $src = PulseStack::srcdir();
my $fcgi = PulseStack::builddir() . '/fcgi/pulse-fcgi';
my $read = sub { local (@ARGV, $/) = shift; <> };
my $config_doc = $read->("$src/docs/CONFIGURATION.md");
my $api_doc = $read->("$src/docs/API.md");
my $example = $read->("$src/pulse.conf.example");

local $ENV{PULSE_CONFIG} = '/dev/null';
my @keys = map { /^(\w+) = / ? $1 : () } split /\n/, qx{$fcgi --print-config};
ok(@keys > 10, scalar(@keys) . ' settings');
for my $k (@keys) {
    like($config_doc, qr/`\Q$k\E`/, "CONFIGURATION.md documents $k");
    my $env = 'PULSE_' . uc $k;
    like($config_doc, qr/`\Q$env\E`/, "CONFIGURATION.md names $env");
    like($example, qr/^#?\s*\Q$k\E\s*=/m, "pulse.conf.example lists $k");
}
for my $line (split /\n/, qx{$fcgi --list-routes}) {
    my $rt = decode_json($line);
    for my $m (@{ $rt->{methods} }) {
        like($api_doc, qr/\Q$m $rt->{pattern}\E/, "API.md documents $m $rt->{pattern}");
    }
}
# Every source file has its line in ARCHITECTURE.md's table of files, and every file named
# there exists.
my $arch = $read->("$src/docs/ARCHITECTURE.md");
my ($files) = $arch =~ /^### Files\n(.*?)^### /ms;
ok($files, 'ARCHITECTURE.md has a table of files') or $files = '';
# The web UI's files and its browser test count as sources too (t/ui/node_modules does not).
my %listed = map { $_ => 1 } ($files =~ /`((?:src|fcgi|worker|bench|t\/lib|t\/fakes)\/[^`]+)`/g,
    $files =~ /`((?:nginx\/ui|t\/ui)\/[^`]+\.(?:html|css|js|mjs|json))`/g);
my @sources = map { s{^\Q$src\E/}{}r } grep { !/_asan|\.o$/ }
    (glob("$src/{src,fcgi,worker}/*.[ch]"), glob("$src/bench/*.{c,pl}"), glob("$src/t/lib/*"),
    glob("$src/t/fakes/*"), glob("$src/nginx/ui/*.{html,css,js}"), glob("$src/nginx/ui/js/*.js"),
    glob("$src/t/ui/*.{mjs,json}"));
ok(@sources > 50, scalar(@sources) . ' source files');
ok(delete $listed{$_}, "ARCHITECTURE.md lists $_") for sort @sources;
is_deeply([sort keys %listed], [], 'and no file that is not there');

# Every migration is installed (dist_sql_DATA): a missing one leaves an installed server
# waiting for a schema it cannot reach.
my $makefile = $read->("$src/Makefile.am");
like($makefile, qr/\Q$_\E/, "Makefile.am installs $_") for map { s{^\Q$src\E/}{}r } glob("$src/sql/*.sql");

done_testing;
