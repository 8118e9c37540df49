#!/usr/bin/perl
# release-feed.pl: a release feed and download server for the update tests (HTTP). Every path
# answers what the test last set for it; requests are counted per path.
#
#   release-feed.pl --listen http://127.0.0.1:9000
#
# Control (not counted):
#   POST /__feed/set {"path":"/releases","status":200,"type":"application/json",
#                     "body":"...","repeat":N,"delay":S}
#        path answers status with body (repeated N times: a huge answer without sending it
#        here) after S seconds (0: at once)
#   POST /__feed/reset        forgets every path and count
#   GET  /__feed/counts       {"<path>": requests}
# Anything not set answers 404.
use strict;
use warnings;
use Getopt::Long;
use Mojolicious::Lite -signatures;
use Mojo::IOLoop;
use Mojo::Server::Daemon;

my %opt;
GetOptions(\%opt, 'listen=s') or die "bad options\n";
die "--listen URL\n" unless $opt{listen};
my (%paths, %counts);

post '/__feed/set' => sub ($c) {
    my $s = $c->req->json // {};
    return $c->render(status => 400, json => { error => 'path' }) unless ($s->{path} // '') =~ m{^/};
    $paths{ $s->{path} } = $s;
    $c->render(json => { ok => \1 });
};
post '/__feed/reset' => sub ($c) {
    %paths = %counts = ();
    $c->render(json => { ok => \1 });
};
get '/__feed/counts' => sub ($c) { $c->render(json => \%counts) };

any '/*rest' => { rest => '' } => sub ($c) {
    my $path = $c->req->url->path->to_string;
    $counts{$path}++;
    my $s = $paths{$path};
    return $c->render(status => 404, text => "not set\n") unless $s;
    my $answer = sub {
        my $body = ($s->{body} // '') x ($s->{repeat} // 1);
        $c->res->headers->content_type($s->{type} // 'application/octet-stream');
        $c->render(status => $s->{status} // 200, data => $body);
    };
    if ($s->{delay}) {
        $c->render_later;
        Mojo::IOLoop->timer($s->{delay} => $answer);
        return;
    }
    $answer->();
};

app->log->level('warn');
my $daemon = Mojo::Server::Daemon->new(app => app, listen => [$opt{listen}], silent => 1,
    inactivity_timeout => 120);
$daemon->run;
