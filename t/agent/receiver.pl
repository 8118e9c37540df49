#!/usr/bin/perl
# receiver.pl: a stand-in Pulse server for t/api/63-agent-program.t: takes host reports and
# writes each, with the token headers it came with, as one JSON line to --out.
#
#   receiver.pl --listen http://127.0.0.1:PORT --out FILE [--status 200]
#               [--commands FILE] [--docker-removed]
#
# POST /api/agents/host/report answers --status (200: the original's success body);
# GET /api/agents/host/lookup and /api/agents/host/{id}/config answer 404, as the original does
# for a host that has not reported yet (agents.md §9.4); they are logged to --out too.
# POST /api/agents/docker/report (t/api/65-agent-docker.t) answers as the original (§4.4),
# handing out the commands of --commands (a JSON array) one per answer, each once; with
# --docker-removed it answers 400 invalid_report "... was removed ..." (§4.2).
# POST /api/agents/docker/commands/{id}/ack is logged and answered as the original (§4.6).
use strict;
use warnings;
use Getopt::Long;
use IO::Handle;
use JSON::PP;
use Mojolicious::Lite -signatures;

my ($listen, $out, $status) = ('http://127.0.0.1:0', undef, 200);
my ($commands_file, $docker_removed);
GetOptions('listen=s' => \$listen, 'out=s' => \$out, 'status=i' => \$status,
    'commands=s' => \$commands_file, 'docker-removed' => \$docker_removed)
    or die "usage: $0 --listen URL --out FILE [--status N] [--commands FILE]\n";
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

my @commands;
if ($commands_file) {
    open my $cf, '<', $commands_file or die "$commands_file: $!\n";
    local $/;
    @commands = @{ decode_json(<$cf>) };
}
post '/api/agents/docker/report' => sub ($c) {
    my $body = eval { decode_json($c->req->body) };
    record($c, 'docker', defined $body ? $body : $c->req->body);
    return $c->render(status => 400, json => { error => 'Docker host "h1" was removed at '
        . '2026-01-12T10:15:30Z and cannot report again', code => 'invalid_report',
        status_code => 400, timestamp => time }) if $docker_removed;
    my %answer = (success => JSON::PP::true, hostId => 'docker-h1',
        containers => ref $body eq 'HASH' && ref $body->{containers} eq 'ARRAY'
            ? scalar @{ $body->{containers} } : 0,
        lastSeen => '2026-01-12T10:15:30.123456789Z');
    $answer{commands} = [shift @commands] if @commands;
    $c->render(json => \%answer);
};
post '/api/agents/docker/commands/:id/ack' => sub ($c) {
    my $body = eval { decode_json($c->req->body) };
    record($c, 'ack', { id => $c->param('id'), body => $body // $c->req->body });
    $c->render(json => { success => JSON::PP::true, hostId => 'docker-h1',
        command => { id => $c->param('id'), status => ref $body eq 'HASH' ? $body->{status} : '' } });
};

app->log->level('warn');
app->start('daemon', '-l', $listen);
