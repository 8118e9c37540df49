#!/usr/bin/perl
# apprise-api.pl: a fake apprise API server (POST /notify and /notify/<key>, the JSON body
# of apprise's API, the API key in --key-header when --api-key is set: 401 otherwise) that
# also takes any other POST (what apprise's json:// target sends). Every request is written
# to --dir as <n>.json: {"path", "headers", "body"}. POST /notify/fail answers 500.
use strict;
use warnings;
use Getopt::Long;
use Mojolicious::Lite -signatures;
use Mojo::JSON qw(encode_json);

my %opt = (listen => 'http://127.0.0.1:8000', 'key-header' => 'X-API-KEY');
GetOptions(\%opt, 'listen=s', 'dir=s', 'api-key=s', 'key-header=s') or die "bad options\n";
die "--dir required\n" unless $opt{dir};
mkdir $opt{dir};
my $n = 0;

sub record ($c) {
    $n++;
    my %h = map { lc($_) => $c->req->headers->header($_) } @{ $c->req->headers->names };
    my $tmp = "$opt{dir}/.$n.tmp";
    open my $fh, '>', $tmp or die $!;
    print {$fh} encode_json({ path => $c->req->url->path->to_string, headers => \%h,
        body => $c->req->body });
    close $fh;
    rename $tmp, "$opt{dir}/$n.json";
}

any '/*whatever' => { whatever => '' } => sub ($c) {
    my $path = $c->req->url->path->to_string;
    if ($path =~ m{^/notify(/|$)}) {
        if (defined $opt{'api-key'} && ($c->req->headers->header($opt{'key-header'}) // '') ne $opt{'api-key'}) {
            return $c->render(status => 401, text => 'bad api key');
        }
        return $c->render(status => 500, text => "apprise says no\nsecond line") if $path eq '/notify/fail';
        record($c);
        return $c->render(json => { success => \1 });
    }
    record($c);
    $c->render(json => { ok => \1 });
};

app->log->level('warn');
app->start('daemon', '-l', $opt{listen});
