#!/usr/bin/perl
# receiver.pl: a stand-in Pulse server for t/api/63-agent-program.t: takes host reports and
# writes each, with the token headers it came with, as one JSON line to --out.
#
#   receiver.pl --listen http://127.0.0.1:PORT --out FILE [--status 200]
#
# POST /api/agents/host/report answers --status (200: the original's success body);
# GET /api/agents/host/lookup and /api/agents/host/{id}/config answer 404, as the original does
# for a host that has not reported yet (agents.md §9.4); they are logged to --out too.
use strict;
use warnings;
use Getopt::Long;
use IO::Handle;
use JSON::PP;
use Mojolicious::Lite -signatures;

my ($listen, $out, $status) = ('http://127.0.0.1:0', undef, 200);
GetOptions('listen=s' => \$listen, 'out=s' => \$out, 'status=i' => \$status)
    or die "usage: $0 --listen URL --out FILE [--status N]\n";
die "--out is required\n" unless $out;
open my $fh, '>>', $out or die "$out: $!\n";
$fh->autoflush(1);
my $json = JSON::PP->new->canonical;

sub record ($c, $kind, $body) {
    my $h = $c->req->headers;
    print {$fh} $json->encode({ kind => $kind, path => $c->req->url->path->to_string,
        query => $c->req->url->query->to_string,
        x_api_token => $h->header('X-API-Token'), authorization => $h->authorization,
        user_agent => $h->user_agent, content_type => $h->content_type,
        body => $body }), "\n";
}

post '/api/agents/host/report' => sub ($c) {
    my $body = eval { decode_json($c->req->body) };
    record($c, 'report', defined $body ? $body : $c->req->body);
    return $c->render(status => $status, json => { error => 'refused' }) if $status != 200;
    $c->render(json => { success => JSON::PP::true, hostId => 'h1',
        lastSeen => '2026-01-12T10:15:30Z' });
};
get '/api/agents/host/lookup' => sub ($c) {
    record($c, 'lookup', undef);
    $c->render(status => 404, json => { error => 'Host not found' });
};
get '/api/agents/host/:id/config' => sub ($c) {
    record($c, 'config', undef);
    $c->render(status => 404, json => { error => 'Host not found' });
};

app->log->level('warn');
app->start('daemon', '-l', $listen);
