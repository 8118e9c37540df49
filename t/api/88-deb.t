#!/usr/bin/perl
# 88-deb.t: the Debian package (issue 17, item 8). `make deb` builds it from this tree; the
# test reads its control fields and file list, runs lintian (no error), installs it into an
# empty root with dpkg (--root, the maintainer scripts run outside a chroot with DPKG_ROOT
# set, as dpkg allows), and checks the files, the service user the postinst created from the
# sysusers.d file, the units (not enabled) and the next steps printed. Then a stack runs on
# the installed programs and migrations and answers, and removing and purging the package
# take its files away and leave the user, as docs say.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use Test::More;
use PulseStack;
use PulseTest;

my $builddir = PulseStack::builddir();
my $version = do { local (@ARGV, $/) = (PulseStack::srcdir() . '/VERSION'); my $v = <>; $v =~ s/\s+//g; $v };
my $tmp = tempdir('pulse-deb-XXXXXX', TMPDIR => 1, CLEANUP => 1);

sub run {
    my (@cmd) = @_;
    my $out = qx{@{[ join ' ', map { "'$_'" } @cmd ]} 2>&1};
    return ($? >> 8, $out);
}

# Built from this tree, the make of the check left out (its jobserver is not ours).
my ($rc, $out) = run('env', '-u', 'MAKEFLAGS', '-u', 'MFLAGS', '-u', 'MAKELEVEL', 'make', '-s', '-C',
    $builddir, 'deb', "DEB_OUT=$tmp");
is($rc, 0, 'make deb') or diag($out);
my ($deb) = glob("$tmp/pulse_${version}_*.deb");
ok($deb && -s $deb, "pulse_${version}_<arch>.deb built") or BAIL_OUT('no package');

($rc, $out) = run('dpkg-deb', '-f', $deb, 'Package', 'Version', 'Depends', 'Architecture');
like($out, qr/^Package: pulse$/m, 'package name');
like($out, qr/^Version: \Q$version\E$/m, 'version from VERSION');
like($out, qr/^Depends: .*\blibpq5\b/m, 'depends on libpq5 (from the programs\' libraries)');
like($out, qr/^Depends: .*\blibfcgi0ldbl\b/m, 'depends on libfcgi');
like($out, qr/^Depends: .*\bsystemd\b/m, 'depends on systemd (systemd-sysusers)');

($rc, $out) = run('dpkg-deb', '-c', $deb);
my %in = map { (split ' ', $_)[5] =~ s{^\.}{}r => 1 } split /\n/, $out;
for my $f (qw(/usr/bin/pulse-fcgi /usr/bin/pulse-worker /usr/bin/pulse-agent
    /lib/systemd/system/pulse-fcgi.service /lib/systemd/system/pulse-worker.service
    /usr/lib/sysusers.d/pulse.conf /usr/share/pulse/sql/0001_init.sql
    /usr/share/pulse/ui/index.html /usr/share/pulse/webserver/pulse-site.conf.in
    /usr/share/pulse/webserver/pulse-apache.conf.in /usr/share/pulse/openapi.json
    /usr/share/doc/pulse/pulse.conf.example
    /usr/share/doc/pulse/README.Debian /usr/share/doc/pulse/copyright)) {
    ok($in{$f}, "package holds $f");
}
ok(!(grep { m{^/usr/local/} } keys %in), 'nothing under /usr/local');

# lintian: warnings are allowed (no manual pages yet), errors are not.
($rc, $out) = run('lintian', '--no-tag-display-limit', $deb);
my @errors = grep { /^E: / } split /\n/, $out;
is(scalar @errors, 0, 'lintian reports no error') or diag(join "\n", @errors);

# An empty root: dpkg's database, and the passwd and group files systemd-sysusers adds to.
my $root = "$tmp/root";
make_path(map { "$root/$_" } qw(var/lib/dpkg/info var/lib/dpkg/updates var/lib/dpkg/triggers var/log etc));
for (['var/lib/dpkg/status', ''], ['etc/passwd', "root:x:0:0:root:/root:/bin/sh\n"],
    ['etc/group', "root:x:0:\n"], ['etc/shadow', "root:*:19000:0:99999:7:::\n"], ['etc/gshadow', "root:*::\n"]) {
    open my $fh, '>', "$root/$_->[0]" or die $!;
    print {$fh} $_->[1];
}
chmod 0640, "$root/etc/shadow", "$root/etc/gshadow";
# The libraries the programs need are the host's: dependencies are not installed in the root.
($rc, $out) = run('dpkg', "--root=$root", '--force-script-chrootless', '--force-depends', '-i', $deb);
is($rc, 0, 'dpkg --root -i') or diag($out);
like($out, qr/Pulse is installed; nothing has been started/, 'the postinst says what to do next');
like($out, qr/createdb -O pulse pulse/, 'the next steps name the database step');
like($out, qr/systemctl enable --now pulse-worker pulse-fcgi/, 'and the services step');

for my $f (qw(usr/bin/pulse-fcgi usr/bin/pulse-worker usr/bin/pulse-agent)) {
    ok(-x "$root/$f", "$f installed, executable");
}
ok(-f "$root/usr/share/pulse/sql/0001_init.sql", 'migrations installed');
my $passwd = do { local (@ARGV, $/) = ("$root/etc/passwd"); <> };
like($passwd, qr{^pulse:x:\d+:\d+:[^:]*:/var/lib/pulse:/usr/sbin/nologin$}m,
    'service user pulse created in the root (home /var/lib/pulse, no login)');
my $group = do { local (@ARGV, $/) = ("$root/etc/group"); <> };
like($group, qr/^pulse:x:\d+:/m, 'group pulse created');
my $unit = do { local (@ARGV, $/) = ("$root/lib/systemd/system/pulse-worker.service"); <> };
like($unit, qr{^ExecStart=/usr/bin/pulse-worker$}m, 'worker unit runs /usr/bin/pulse-worker');
like($unit, qr{^Environment=PULSE_CONFIG=/etc/pulse/pulse.conf$}m, 'with /etc/pulse/pulse.conf');
like($unit, qr{^User=pulse$}m, 'as user pulse');
$unit = do { local (@ARGV, $/) = ("$root/lib/systemd/system/pulse-fcgi.service"); <> };
like($unit, qr{^ExecStart=/usr/bin/pulse-fcgi}m, 'responder unit runs /usr/bin/pulse-fcgi');
ok(!-e "$root/etc/systemd/system/multi-user.target.wants/pulse-worker.service",
    'units not enabled on installation');
($rc, $out) = run('dpkg', "--root=$root", '-s', 'pulse');
like($out, qr/^Status: install ok installed$/m, 'dpkg records it installed');

# The installed programs and migrations serve the API.
my $stack = PulseStack->new(bindir => "$root/usr/bin",
    settings => { sql_dir => "$root/usr/share/pulse/sql" })->start;
my $res = $stack->ua->get($stack->url('/api/health'))->result;
is($res->code, 200, 'a stack on the installed programs answers /api/health');
my $h = json_body($res, 'health');
is($h->{database}{status}, 'ok', 'database ok');
is($h->{database}{schemaVersion}, $h->{database}{expectedSchemaVersion},
    'the installed migrations brought the schema to the version the programs expect');
$res = $stack->ua->get($stack->url('/api/version'))->result;
is(json_body($res, 'version')->{version}, $version, 'the installed responder reports VERSION');
$stack->stop;

# Removal takes the files away; purge the rest of the package's; the user stays (README.Debian).
($rc, $out) = run('dpkg', "--root=$root", '--force-script-chrootless', '-r', 'pulse');
is($rc, 0, 'dpkg --root -r') or diag($out);
ok(!-e "$root/usr/bin/pulse-fcgi", 'programs removed');
ok(!-e "$root/usr/share/pulse/sql/0001_init.sql", 'migrations removed');
($rc, $out) = run('dpkg', "--root=$root", '--force-script-chrootless', '-P', 'pulse');
is($rc, 0, 'dpkg --root -P') or diag($out);
($rc, $out) = run('dpkg', "--root=$root", '-s', 'pulse');
isnt($rc, 0, 'dpkg no longer knows the package after the purge');
$passwd = do { local (@ARGV, $/) = ("$root/etc/passwd"); <> };
like($passwd, qr/^pulse:/m, 'the service user is left in place');

done_testing;
