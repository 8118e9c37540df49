#!/usr/bin/perl
# kube-api.pl: a stand-in Kubernetes API server for t/api/67-agent-kubernetes.t: the list
# shapes of the API's documentation (kind NodeList, PodList, DeploymentList,
# NamespaceList, apiVersion, metadata.resourceVersion, items) and GET /version, over HTTP or
# HTTPS, every call needing `Authorization: Bearer <token>` (401 Status otherwise, as the
# API server answers). SYNTHETIC DATA: made up for the test, shaped after the v1 and apps/v1
# objects (metadata, spec, status) the agent reads.
#
#   kube-api.pl --listen https://127.0.0.1:PORT [--cert C --key K] --token T --log FILE
#
# The cluster: nodes cp-1 (control-plane, Ready) and worker-1 (not Ready, cordoned); pods
# shop/api (running, one container crash-looping), shop/web (running, ready), jobs/batch
# (Pending), kube-system/coredns (running, ready); deployments shop/api (3 desired, 1
# available) and shop/web (2 of 2). Pods honour fieldSelector=status.phase!=Succeeded
# (a Succeeded pod jobs/done exists to be left out). Each request is one JSON line in --log.
use strict;
use warnings;
use Getopt::Long;
use IO::Handle;
use Mojo::JSON qw(encode_json true false);
use Mojolicious::Lite -signatures;

my %opt;
GetOptions(\%opt, 'listen=s', 'cert=s', 'key=s', 'token=s', 'log=s') or die "bad options\n";
die "--listen, --token and --log are required\n" unless $opt{listen} && $opt{token} && $opt{log};
open my $log, '>>', $opt{log} or die "$opt{log}: $!\n";
$log->autoflush(1);

my $created = '2026-01-12T09:00:00Z';
sub meta { my ($name, $ns, %more) = @_; { name => $name, ($ns ? (namespace => $ns) : ()), uid => "uid-" . ($ns // 'cluster') . "-$name", creationTimestamp => $created, resourceVersion => '4242', %more } }
sub running { my ($name, $image, $ready, $restarts) = @_; { name => $name, image => $image, ready => $ready ? true : false, restartCount => $restarts // 0, started => true, state => { running => { startedAt => $created } } } }

my @nodes = (
    { metadata => meta('cp-1', undef, labels => { 'node-role.kubernetes.io/control-plane' => '', 'kubernetes.io/hostname' => 'cp-1' }),
      spec => {}, status => { capacity => { cpu => '4', memory => '8137116Ki', pods => '110' },
        allocatable => { cpu => '3500m', memory => '7934364Ki', pods => '110' },
        conditions => [{ type => 'MemoryPressure', status => 'False' }, { type => 'Ready', status => 'True' }],
        nodeInfo => { kubeletVersion => 'v1.30.2', containerRuntimeVersion => 'containerd://1.7.13', osImage => 'Ubuntu 24.04 LTS',
            kernelVersion => '6.8.0-31-generic', architecture => 'amd64' } } },
    { metadata => meta('worker-1', undef, labels => { 'kubernetes.io/role' => 'worker' }),
      spec => { unschedulable => true }, status => { capacity => { cpu => '2', memory => '4Gi', pods => '110' },
        allocatable => { cpu => '2', memory => '3900Mi', pods => '100' },
        conditions => [{ type => 'Ready', status => 'Unknown' }],
        nodeInfo => { kubeletVersion => 'v1.30.2', containerRuntimeVersion => 'containerd://1.7.13', osImage => 'Ubuntu 24.04 LTS',
            kernelVersion => '6.8.0-31-generic', architecture => 'arm64' } } },
);
my $owner = sub { [{ apiVersion => 'apps/v1', kind => 'ReplicaSet', name => $_[0], uid => "rs-$_[0]", controller => true }] };
my @pods = (
    { metadata => meta('api-7d9f-abcde', 'shop', labels => { app => 'api' }, ownerReferences => $owner->('api-7d9f')),
      spec => { nodeName => 'cp-1' },
      status => { phase => 'Running', qosClass => 'Burstable', startTime => '2026-01-12T09:00:02Z',
        containerStatuses => [{ name => 'api', image => 'ghcr.io/shop/api:1.4', ready => false, restartCount => 7,
            state => { waiting => { reason => 'CrashLoopBackOff', message => 'back-off 5m0s restarting failed container' } } }] } },
    { metadata => meta('web-5c6b-fghij', 'shop', labels => { app => 'web' }, ownerReferences => $owner->('web-5c6b')),
      spec => { nodeName => 'cp-1' },
      status => { phase => 'Running', qosClass => 'BestEffort', startTime => '2026-01-12T09:00:03Z',
        containerStatuses => [running('web', 'nginx:1.27', 1, 0)] } },
    { metadata => meta('batch-x', 'jobs'), spec => {},
      status => { phase => 'Pending', reason => 'Unschedulable', message => '0/2 nodes are available', qosClass => 'BestEffort' } },
    { metadata => meta('done', 'jobs'), spec => { nodeName => 'cp-1' }, status => { phase => 'Succeeded' } },
    { metadata => meta('coredns-1', 'kube-system'), spec => { nodeName => 'cp-1' },
      status => { phase => 'Running', qosClass => 'Burstable', containerStatuses => [running('coredns', 'coredns:1.11', 1, 0)] } },
);
my @deployments = (
    { metadata => meta('api', 'shop', labels => { app => 'api' }), spec => { replicas => 3 },
      status => { replicas => 3, updatedReplicas => 3, readyReplicas => 1, availableReplicas => 1 } },
    { metadata => meta('web', 'shop'), spec => { replicas => 2 },
      status => { replicas => 2, updatedReplicas => 2, readyReplicas => 2, availableReplicas => 2 } },
);

sub list { my ($c, $kind, $api, @items) = @_; $c->render(json => { kind => $kind, apiVersion => $api, metadata => { resourceVersion => '4242' }, items => \@items }) }

under sub ($c) {
    print {$log} encode_json({ method => $c->req->method, path => $c->req->url->path->to_string,
        query => $c->req->url->query->to_string, auth => ($c->req->headers->authorization // '') eq "Bearer $opt{token}" ? 1 : 0 }), "\n";
    return 1 if ($c->req->headers->authorization // '') eq "Bearer $opt{token}";
    $c->render(status => 401, json => { kind => 'Status', apiVersion => 'v1', metadata => {}, status => 'Failure',
        message => 'Unauthorized', reason => 'Unauthorized', code => 401 });
    return undef;
};

get '/version' => sub ($c) { $c->render(json => { major => '1', minor => '30', gitVersion => 'v1.30.2', platform => 'linux/amd64' }) };
get '/api/v1/nodes' => sub ($c) { list($c, 'NodeList', 'v1', @nodes) };
get '/api/v1/namespaces' => sub ($c) {
    my %ns = map { $_->{metadata}{namespace} => 1 } @pods, @deployments;
    list($c, 'NamespaceList', 'v1', map { { metadata => meta($_), status => { phase => 'Active' } } } sort keys %ns);
};
get '/api/v1/pods' => sub ($c) {
    my $sel = $c->param('fieldSelector') // '';
    my @p = $sel eq 'status.phase!=Succeeded' ? grep { $_->{status}{phase} ne 'Succeeded' } @pods : @pods;
    list($c, 'PodList', 'v1', @p);
};
get '/apis/apps/v1/deployments' => sub ($c) { list($c, 'DeploymentList', 'apps/v1', @deployments) };

my $listen = $opt{listen};
$listen .= "?cert=$opt{cert}&key=$opt{key}" if $opt{cert};
app->log->level('error');
app->start('daemon', '-l', $listen);
