#!/usr/bin/perl
# 89-openapi.t: the OpenAPI 3.1 document (openapi/openapi.json, made at build time by
# openapi/gen-openapi.pl and served at GET /api/openapi.json). The document is checked as a
# document (its structure, every $ref resolving, every schema compiling, only JSON Schema
# 2020-12 keywords that 2019-09 reads the same way, so that JSON::Validator's 2019-09 checker
# is exact); it holds every route of `pulse-fcgi --list-routes` with every method and nothing
# else; and every GET route is called on a seeded stack (mock mode's estate, alerts, an
# incident, a token, a host agent, a webhook, a licence, a release feed and an update job in
# the history) and its real answer is checked against the document's schema for the answer's
# status (the update stream's head and first event only: it does not end by itself).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use JSON::Validator::Schema::Draft201909;
use Mojo::File qw(path);
use Mojo::JSON qw(decode_json encode_json true false);
use Test::More;
use PulseStack;
use PulseTest;

my $doc_file = path(PulseStack::builddir(), 'openapi/openapi.json');
ok(-s $doc_file, 'the document was built') or BAIL_OUT('no openapi/openapi.json: run make');
my $doc = decode_json($doc_file->slurp);

# --- the document as a document ---
like($doc->{openapi}, qr/^3\.1\.\d+$/, 'OpenAPI 3.1');
ok($doc->{info}{title} && $doc->{info}{version}, 'info: title and version');
chomp(my $version = path(PulseStack::srcdir(), 'VERSION')->slurp);
is($doc->{info}{version}, $version, 'info.version is the VERSION file');
my %schemes = %{ $doc->{components}{securitySchemes} };
is_deeply([sort keys %schemes], [qw(apiToken bearer session)], 'security schemes: session, token header, bearer');

# Keywords of JSON Schema 2020-12 that mean the same in 2019-09; anything else (prefixItems,
# $dynamicRef, items as an array...) would be read differently by the checker used below.
my %KEYWORD = map { $_ => 1 } qw($ref type properties required additionalProperties items anyOf
    oneOf allOf if then else const enum format description minimum maximum minItems maxItems
    pattern minLength maxLength title examples default deprecated readOnly writeOnly);
my (@bad, %op_ids);
sub walk_schema {
    my ($s, $where) = @_;
    return push @bad, "$where: not a schema" unless ref $s eq 'HASH';
    for my $k (sort keys %$s) {
        push @bad, "$where: keyword $k" unless $KEYWORD{$k};
    }
    push @bad, "$where: items must be one schema" if exists $s->{items} && ref $s->{items} ne 'HASH';
    walk_schema($s->{properties}{$_}, "$where.$_") for sort keys %{ $s->{properties} // {} };
    walk_schema($s->{additionalProperties}, "$where\{}") if ref $s->{additionalProperties} eq 'HASH';
    walk_schema($s->{items}, "$where\[]") if ref $s->{items} eq 'HASH';
    for my $k (qw(anyOf oneOf allOf)) {
        walk_schema($s->{$k}[$_], "$where.$k\[$_]") for 0 .. $#{ $s->{$k} // [] };
    }
    walk_schema($s->{$_}, "$where.$_") for grep { $s->{$_} } qw(if then else);
}
walk_schema($doc->{components}{schemas}{$_}, $_) for sort keys %{ $doc->{components}{schemas} };
my $text = encode_json($doc);
for my $ref (map { s{\\/}{/}gr } $text =~ m{"\$ref":"([^"]+)"}g) {
    my ($kind, $name) = $ref =~ m{^#/components/(schemas|responses)/(.+)$};
    push @bad, "unresolved $ref" unless $kind && $doc->{components}{$kind}{$name};
}
my %METHOD = map { $_ => 1 } qw(get post put patch delete);
for my $p (sort keys %{ $doc->{paths} }) {
    my @in_path = sort $p =~ /\{(\w+)\}/g;
    for my $m (sort keys %{ $doc->{paths}{$p} }) {
        my $op = $doc->{paths}{$p}{$m};
        push @bad, "$p: $m is not a method" unless $METHOD{$m};
        push @bad, "$m $p: no operationId" unless $op->{operationId};
        push @bad, "$m $p: operationId $op->{operationId} twice" if $op_ids{ $op->{operationId} // '' }++;
        push @bad, "$m $p: no summary" unless $op->{summary};
        push @bad, "$m $p: no responses" unless %{ $op->{responses} // {} };
        push @bad, "$m $p: no security" unless ref $op->{security} eq 'ARRAY';
        for my $sec (@{ $op->{security} // [] }) {
            $schemes{$_} or push @bad, "$m $p: unknown security scheme $_" for keys %$sec;
        }
        my @params = @{ $op->{parameters} // [] };
        for my $q (@params) {
            push @bad, "$m $p: parameter without name, in or schema"
                unless $q->{name} && $q->{in} =~ /^(path|query|header|cookie)$/ && $q->{schema};
            walk_schema($q->{schema}, "$m $p param $q->{name}") if $q->{schema};
        }
        is_deeply([sort map { $_->{name} } grep { $_->{in} eq 'path' } @params], \@in_path,
            "$m $p: its path parameters") or next;
        for my $code (sort keys %{ $op->{responses} }) {
            push @bad, "$m $p: status $code" unless $code =~ /^[1-5]\d\d$/;
            my $r = $op->{responses}{$code};
            next if $r->{'$ref'};
            push @bad, "$m $p $code: no description" unless defined $r->{description};
            for my $type (sort keys %{ $r->{content} // {} }) {
                walk_schema($r->{content}{$type}{schema}, "$m $p $code $type");
            }
        }
        walk_schema($op->{requestBody}{content}{'application/json'}{schema}, "$m $p request")
            if $op->{requestBody};
    }
}
is_deeply(\@bad, [], 'the document: structure, keywords and references') or diag join "\n", @bad;

# Every schema compiles (JSON::Validator resolves the document's own references).
# validate($data, $schema): the errors of $data against $schema, whose references are to the
# document's components.
sub validate {
    my ($data, $schema) = @_;
    my $jv = JSON::Validator::Schema::Draft201909->new({ %$schema, components => $doc->{components} });
    return $jv->validate($data);
}
# One validator over them all: JSON::Validator resolves every reference when it loads a schema.
my @names = sort keys %{ $doc->{components}{schemas} };
ok(eval { validate({}, { anyOf => [map { { '$ref' => "#/components/schemas/$_" } } @names] }); 1 },
    scalar(@names) . ' component schemas compile') or diag $@;

# --- the document against the route table: every route and method, nothing else ---
my $fcgi = PulseStack::builddir() . '/fcgi/pulse-fcgi';
my (%routes, %route_of);
for my $line (split /\n/, `'$fcgi' --list-routes`) {
    my $rt = decode_json($line);
    for my $m (@{ $rt->{methods} }) {
        $routes{"$m $rt->{pattern}"} = $rt;
    }
}
ok(keys %routes > 100, scalar(keys %routes) . ' route methods in the table');
my %in_doc;
for my $p (keys %{ $doc->{paths} }) {
    $in_doc{ uc($_) . " $p" } = $doc->{paths}{$p}{$_} for keys %{ $doc->{paths}{$p} };
}
is_deeply([sort grep { !$in_doc{$_} } keys %routes], [], 'every route of the table is in the document');
is_deeply([sort grep { !$routes{$_} } keys %in_doc], [], 'and nothing else');
my @prot;
for my $key (sort keys %routes) {
    my ($rt, $op) = ($routes{$key}, $in_doc{$key});
    next unless $op;
    push @prot, "$key: no operation in openapi/paths/*.json" if $op->{'x-pulse-undocumented'};
    push @prot, "$key: scope" if ($rt->{scope} // '') ne ($op->{'x-pulse-scope'} // '');
    push @prot, "$key: feature" if ($rt->{feature} // '') ne ($op->{'x-pulse-feature'} // '');
    push @prot, "$key: 402" if $rt->{feature} && !$op->{responses}{402};
    push @prot, "$key: rate" if $rt->{rate} ne $op->{'x-pulse-rate'};
    push @prot, "$key: admin" if !!$rt->{admin} ne !!$op->{'x-pulse-admin'};
    push @prot, "$key: security" if $rt->{public} ? !grep { !%$_ } @{ $op->{security} }
        : grep { !%$_ } @{ $op->{security} };
    push @prot, "$key: no scope in the description"
        if $rt->{scope} && index($op->{description}, "`$rt->{scope}`") < 0;
    my ($m) = split / /, $key;
    if ($m eq 'GET') {
        my ($ok) = grep { /^[23]/ } keys %{ $op->{responses} };
        push @prot, "$key: no schema of its answer" unless $op->{'x-pulse-error-only'} ? !$ok
            : $ok && ($op->{responses}{$ok}{content} || $op->{responses}{$ok}{headers});
    }
    push @prot, "$key: no request body" if $m =~ /^(POST|PUT|PATCH)$/ && !$op->{requestBody}
        && !$op->{'x-pulse-no-body'};
}
is_deeply(\@prot, [], 'each operation carries its route\'s protection; every GET a schema of its answer')
    or diag join "\n", @prot;

# --- every GET route on a seeded stack, its answer checked against the document ---
# The updates routes read a local release feed (t/fakes/release-feed.pl) as a deb install.
my $feed_port = PulseStack::free_port();
my $feed_url = "http://127.0.0.1:$feed_port";
my $stack = PulseStack->new(settings => { demo_mode => 'true', pve_polling_interval => 1,
    license_public_key => PulseStack::licence_public_key(), deployment_type => 'deb',
    update_feed_url => "$feed_url/releases", update_timeout => 5 })->start;
$stack->setup_admin;
my $ua = $stack->ua;
my $auth = $stack->token_headers;
$stack->start_release_feed(port => $feed_port);
my $deb = 'pulse_90.2.0_' . (`dpkg --print-architecture` =~ s/\s+//gr) . '.deb';
my $r = $ua->post("$feed_url/__feed/set" => json => { path => '/releases', type => 'application/json',
    body => encode_json([{ tag_name => 'v90.3.0-rc.1', draft => false, prerelease => true, body => 'rc notes',
        published_at => '2026-12-01T10:00:00Z', assets => [] },
        { tag_name => 'v90.2.0', draft => false, prerelease => false, body => 'stable notes',
        published_at => '2026-11-30T10:00:00Z', assets => [{ name => $deb,
            browser_download_url => "$feed_url/download/v90.2.0/$deb" }] }]) })->result;
ok($r->is_success, 'a release feed') or diag $r->body;
# An update that failed, as the worker records one: the history and its entry have one to show.
$stack->psql(q{INSERT INTO pulse.update_jobs (event_id, channel, version_from, version_to,
    deployment_type, initiated_by, initiated_via, download_url, status, started_at, finished_at,
    duration_ms, download_bytes, log_path, error_message, error_code) VALUES ('oa-update-1',
    'stable', '0.1.0', 'v90.2.0', 'deb', 'user', 'ui', 'http://127.0.0.1/x.deb', 'failed', now(),
    now(), 1200, 5000, '/var/lib/pulse/updates/oa-update-1.log', 'Checksum mismatch',
    'checksum_mismatch')});
$stack->wait_state(sub { @{ $_[0]{nodes} } && @{ $_[0]{vms} } && @{ $_[0]{pbs} } && @{ $_[0]{storage} }
    && @{ $_[0]{activeAlerts} } }, 40, 'the mock estate with alerts');
$stack->wait_for(sub { $stack->psql(q{SELECT count(DISTINCT ts) FROM pulse.metric_raw}) >= 1 }, 40,
    q{a mock sample written}, 'worker-1');
$stack->activate_licence;
my $st = $ua->get($stack->url('/api/state') => $auth)->result->json;
my $host_token = $stack->agent_token('oa-host', 'host-agent:report');
$r = $ua->post($stack->url('/api/agents/host/report') => $host_token->{headers} => json => {
    agent => { id => 'oa-agent', version => '5.0.4', type => 'unified', intervalSeconds => 30 },
    host => { id => 'oa-host', hostname => 'oa-host.example.org', platform => 'debian', osName => 'debian',
        osVersion => '12', kernelVersion => '6.1.0', architecture => 'x86_64', cpuCount => 2, uptimeSeconds => 60 },
    metrics => { cpuUsagePercent => 5, memory => { totalBytes => 1000, usedBytes => 500, freeBytes => 500, usage => 50 } },
    timestamp => '2026-01-12T10:15:30Z' })->result;
is($r->code, 200, 'a host agent report') or diag $r->body;
is($ua->post($stack->url('/api/notifications/webhooks') => $auth => json => { name => 'h',
    url => 'https://198.51.100.10/x', service => 'generic', enabled => true })->result->code, 200, 'a webhook');
is($ua->post($stack->url('/api/admin/profiles') => $auth => json => { name => 'oa-profile',
    config => { interval => '30s' } })->result->code, 200, 'an agent profile');
my ($alert) = @{ $st->{activeAlerts} };
my ($node) = grep { $_->{status} eq 'online' } @{ $st->{nodes} };
my ($vm) = @{ $st->{vms} };
my ($storage) = @{ $st->{storage} };
my $resources = $ua->get($stack->url('/api/resources') => $auth)->result->json->{resources};
my ($datastore) = grep { $_->{type} eq 'datastore' } @$resources;
my $audit = $ua->get($stack->url('/api/audit') => $auth)->result->json;
my ($event) = @{ $audit->{events} // [] };

# The URL each GET route is called with; ids come from the seeded data.
my %call = (
    '/api/alerts/incidents' => "/api/alerts/incidents?alert_id=$alert->{id}",
    '/api/agents/host/lookup' => '/api/agents/host/lookup?id=oa-host',
    '/api/agents/host/{id}/config' => '/api/agents/host/oa-agent/config',
    '/api/admin/roles/{id}' => '/api/admin/roles/admin',
    '/api/admin/users/{user}' => '/api/admin/users/admin',
    '/api/admin/users/{user}/roles' => '/api/admin/users/admin/roles',
    '/api/admin/users/{user}/permissions' => '/api/admin/users/admin/permissions',
    '/api/backups/{view}' => '/api/backups/unified',
    '/api/audit/{id}/verify' => '/api/audit/' . ($event->{id} // 'none') . '/verify',
    '/api/resources/{id}' => "/api/resources/$node->{id}",
    '/api/resources/{pbs}/datastore/{name}' => '/api/resources/' . ($datastore->{id} // 'none/datastore/none'),
    '/api/storage/{id}' => "/api/storage/$storage->{id}",
    '/api/charts' => '/api/charts?range=1h',
    '/api/storage-charts' => '/api/storage-charts?range=60',
    '/api/metrics-store/history' => "/api/metrics-store/history?resourceType=vm&resourceId=$vm->{id}&range=1h",
    '/api/oidc/login' => '/api/oidc/login',
    '/api/setup-script' => '/api/setup-script?type=pve&host=https%3A%2F%2F10.0.0.5%3A8006',
    '/api/admin/reports/generate' => "/api/admin/reports/generate?resourceType=node&resourceId=$node->{id}&format=csv",
    '/api/updates/plan' => '/api/updates/plan?version=v90.2.0',
    '/api/updates/history/entry' => '/api/updates/history/entry?id=oa-update-1',
);
# Routes that are not called, each with its reason: none at the moment.
my %not_called = (
);
my %extra_calls = ('/api/metrics-store/history' =>
    ["/api/metrics-store/history?resourceType=vm&resourceId=$vm->{id}&range=1h&metric=cpu"],
    '/api/alerts/incidents' => ["/api/alerts/incidents?resource_id=$alert->{resourceId}"],
    '/api/admin/reports/generate' => ["/api/admin/reports/generate?resourceType=node&resourceId=$node->{id}&format=pdf"],
    '/api/updates/check' => ['/api/updates/check?channel=rc'],
    '/api/updates/history' => ['/api/updates/history?status=failed'],
    '/api/updates/history/entry' => ['/api/updates/history/entry?id=oa-none']);

# A stream of server-sent events does not end by itself: the connection is closed once the
# first event has come, and that head and event are what is checked.
sub event_stream_head {
    my ($url, $h) = @_;
    my $tx = $ua->build_tx(GET => $stack->url($url) => $h);
    my $got = '';
    $tx->res->content->on(read => sub {
        $got .= $_[1];
        return unless $got =~ /^data: .*\n\n/m;
        $ua->ioloop->next_tick(sub { my $s = $ua->ioloop->stream($tx->connection // ''); $s->close if $s });
    });
    my $res = $ua->start($tx)->res;
    return ($res, $got);
}

# Routes called with other credentials than the admin's token.
my %headers = ('/api/agents/host/lookup' => $host_token->{headers});

# The checker finds a broken answer: a node without its id, a guest's cpu as a string.
{
    my %node = %$node;
    delete $node{id};
    my %bad_vm = (%$vm, cpu => 'high');
    my @e = validate({ %$st, nodes => [\%node], vms => [\%bad_vm] }, { '$ref' => '#/components/schemas/State' });
    like(join("\n", @e), qr{/nodes/0/id: Missing property}, 'checker: a required member missing');
    like(join("\n", @e), qr{/vms/0/cpu: Expected number}, 'checker: a wrong type');
    @e = validate({ %$node, cpu => 85 }, { '$ref' => '#/components/schemas/Node' });
    like(join("\n", @e), qr{/cpu: .*1}, 'checker: a unit broken (a fraction written as a percentage)');
    @e = validate({ %$st, surprise => 1 }, { '$ref' => '#/components/schemas/State' });
    ok(scalar @e, 'checker: a member the schema does not know');
}

my $dump = $ENV{OPENAPI_DUMP};
my (@unchecked, %statuses);
for my $key (sort grep { /^GET / } keys %routes) {
    my ($pattern) = $key =~ /^GET (.*)$/;
    next if $not_called{$pattern};
    my $op = $in_doc{$key};
    for my $url ($call{$pattern} // $pattern, @{ $extra_calls{$pattern} // [] }) {
        my ($res, $events) = $pattern eq '/api/updates/stream'
            ? event_stream_head($url, $headers{$pattern} // $auth)
            : ($ua->max_redirects(0)->get($stack->url($url) => $headers{$pattern} // $auth)->result);
        my $code = $res->code;
        $statuses{$code}++;
        path($dump, ($url =~ s{[^\w]+}{_}gr) . ".$code.json")->spurt($res->body) if $dump;
        my $spec = $op->{responses}{$code};
        $spec = $doc->{components}{responses}{$1} if $spec && ($spec->{'$ref'} // '') =~ m{^#/components/responses/(\w+)$};
        if (!$spec) {
            fail("GET $url: status $code is not in the document");
            diag substr($res->body, 0, 300);
            next;
        }
        my $ctype = ($res->headers->content_type // '') =~ s/;.*//r;
        if (!$spec->{content}) {
            ok(!length $res->body || $code =~ /^3/, "GET $url: $code as documented, without a body");
            next;
        }
        my $media = $spec->{content}{$ctype};
        ok($media, "GET $url: $code $ctype is documented") or next;
        if ($ctype eq 'text/event-stream') {
            # Each event's data is the status object (UpdateStatus).
            my ($data) = ($events // '') =~ /^data: (.*)$/m;
            my @errors = validate(eval { decode_json($data // '') } // 'not JSON',
                { '$ref' => '#/components/schemas/UpdateStatus' });
            is_deeply([map {"$_"} @errors], [], "GET $url: $code, its first event an UpdateStatus")
                or diag $events;
            next;
        }
        if ($ctype ne 'application/json') {
            ok(length $res->body, "GET $url: $code, a body of $ctype");
            next;
        }
        my @errors = validate($res->json, $media->{schema});
        is_deeply([map {"$_"} @errors], [], "GET $url: $code matches its schema")
            or diag substr($res->body, 0, 600);
    }
}
is_deeply([sort keys %not_called], [], 'no GET route left uncalled');

# The settings' request schema takes what the web client sends back (the answer of GET), as the
# server does, and refuses what the server refuses.
{
    my $set = $ua->get($stack->url('/api/system/settings') => $auth)->result->json;
    # This stack polls every second (pulse.conf), below what a change may ask for.
    is($set->{pvePollingInterval}, 1, 'the settings as read: the interval of pulse.conf');
    $set->{pvePollingInterval} = 10;
    my $change = { '$ref' => '#/components/schemas/SystemSettingsChange' };
    is_deeply([map {"$_"} validate($set, $change)], [], 'the settings as read are a valid change');
    is($ua->post($stack->url('/api/system/settings/update') => $auth => json => $set)->result->code, 200,
        'and the server takes them');
    my %bad = (pvePollingInterval => 5, theme => 'blue', discoveryConfig => { max_concurrent => 5000 });
    for my $k (sort keys %bad) {
        ok(scalar validate({ $k => $bad{$k} }, $change), "the schema refuses $k " . encode_json($bad{$k}));
        is($ua->post($stack->url('/api/system/settings/update') => $auth => json => { $k => $bad{$k} })->result->code,
            400, "and so does the server");
    }
}
ok($statuses{200} > 50, "$statuses{200} answers of 200");

# --- the document is served, as installed, to anyone ---
$r = $stack->ua->get($stack->url('/api/openapi.json'))->result;
is($r->code, 200, 'GET /api/openapi.json without credentials');
is($r->headers->content_type =~ s/;.*//r, 'application/json', 'as JSON');
is_deeply($r->json, $doc, 'the built document');

done_testing;
