#!/usr/bin/perl
# webhook-sink.pl: a webhook receiver for tests. It stores every request (method, path,
# query, headers, body) and counts deliveries by their X-Pulse-Delivery header.
#
#   webhook-sink.pl --listen http://127.0.0.1:9000   (or https://... with --cert C --key K)
#
# Behaviour by path (composable, no state):
#   /hang/...             never answers (the connection stays open)
#   /slow/<ms>/...        answers 200 after <ms> milliseconds
#   /status/<code>/...    answers <code>
#   /redirect?to=<url>    answers 302 to <url> (also /redirect307 for a 307)
#   anything else         200 {"ok":true}, unless a mode below says otherwise
# Control (not recorded):
#   POST /__sink/mode {"down":1}        every request answers 503 until {"down":0}
#   POST /__sink/mode {"fail":N}        the next N requests answer 500
#   POST /__sink/mode {"delay":S}       every answer waits S seconds (0: none)
#   POST /__sink/reset                  forgets requests and counters
#   GET  /__sink/stats    {"requests":N,"delivered":N,"keys":{key:2xx answers},
#                          "received":{key:requests}}
#   GET  /__sink/requests [{"method","path","query","headers":{..},"body","key","status",
#                           "at": unix time of receipt}]
use strict;
use warnings;
use Getopt::Long;
use Mojolicious::Lite -signatures;
use Mojo::IOLoop;
use Time::HiRes ();
use Mojo::Server::Daemon;

my %opt;
GetOptions(\%opt, 'listen=s', 'cert=s', 'key=s') or die "bad options\n";
die "--listen URL\n" unless $opt{listen};
my (@requests, %keys, %received);
my %mode = (down => 0, fail => 0, delay => 0);

post '/__sink/mode' => sub ($c) {
    my $m = $c->req->json // {};
    $mode{$_} = $m->{$_} + 0 for grep { exists $m->{$_} } qw(down fail delay);
    $c->render(json => \%mode);
};
post '/__sink/reset' => sub ($c) {
    @requests = ();
    %keys = %received = ();
    $c->render(json => { ok => \1 });
};
get '/__sink/stats' => sub ($c) {
    my $delivered = 0;
    $delivered += $_ for values %keys;
    $c->render(json => { requests => scalar @requests, delivered => $delivered, keys => \%keys,
        received => \%received });
};
get '/__sink/requests' => sub ($c) { $c->render(json => \@requests) };

any '/*whatever' => { whatever => '' } => sub ($c) {
    my $req = $c->req;
    my $key = $req->headers->header('X-Pulse-Delivery') // '';
    my $path = $req->url->path->to_string;
    my %h = map { $_ => scalar $req->headers->header($_) } @{ $req->headers->names };
    my $rec = { method => $req->method, path => $path, query => $req->url->query->to_string,
        headers => \%h, body => $req->body, key => $key, at => Time::HiRes::time() };
    push @requests, $rec;
    $received{$key}++ if $key ne '';
    return $c->inactivity_timeout(3600) && $c->render_later if $path =~ m{^/hang(/|$)};
    my ($status, $json, $wait) = (200, { ok => \1 }, $mode{delay});
    if ($mode{down}) {
        $status = 503;
    } elsif ($mode{fail} > 0) {
        $mode{fail}--;
        $status = 500;
        $json = { error => 'sink told to fail' };
    } elsif ($path =~ m{^/slow/(\d+)}) {
        $wait = $1 / 1000;
    } elsif ($path =~ m{^/status/(\d{3})}) {
        $status = $1;
    } elsif ($path =~ m{^/redirect(307)?$}) {
        $rec->{status} = $1 // 302;
        $c->res->headers->location($c->param('to') // '/');
        return $c->rendered($1 // 302);
    }
    my $answer = sub {
        $rec->{status} = $status;
        $keys{$key}++ if $key ne '' && $status >= 200 && $status < 300;
        $c->render(json => $json, status => $status);
    };
    return $answer->() unless $wait > 0;
    $c->inactivity_timeout($wait + 30);
    $c->render_later;
    Mojo::IOLoop->timer($wait => $answer);
};

my $listen = $opt{listen};
if ($listen =~ m{^https://} && $opt{cert}) {
    $listen .= "?cert=$opt{cert}&key=$opt{key}";
}
app->log->level('warn');
my $daemon = Mojo::Server::Daemon->new(app => app, listen => [$listen], silent => 1,
    inactivity_timeout => 60);
$daemon->run;
