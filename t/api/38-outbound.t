#!/usr/bin/perl
# 38-outbound.t: what Pulse sends to Proxmox servers, and to servers posing as one
# (security review M3, M4, L5, L8 and the worker's side of H2). Listeners that write down
# whatever reaches them (t/fakes/recorder.pl) show that credentials and injected headers
# never get there.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::JSON qw(true false);
use Test::More;
use Time::HiRes qw(sleep time);
use IO::Socket::INET;
use PulseStack;
use PulseTest;

my $stack = PulseStack->new(settings => { pve_polling_interval => 1, pve_timeout => 5 })->start;
$stack->setup_admin;
my $ua = $stack->ua;
my $auth = $stack->token_headers;
my $nodes = $stack->url('/api/config/nodes');

sub colons { uc join ':', $_[0] =~ /(..)/g }

# A recorder on addr:port (TLS with the named certificate, or plain HTTP); returns the file
# it writes.
my $recorders = 0;
sub recorder {
    my (%o) = @_;
    my $name = 'recorder-' . ++$recorders;
    my $out = $stack->log_dir . "/$name.seen";
    my @tls;
    if ($o{cert}) {
        my ($crt, $key, $fp) = $stack->_sim_cert($o{cert});
        @tls = ('--cert', $crt, '--key', $key);
        $o{fingerprint} = $fp;
    }
    $stack->spawn($name, {}, $^X, "$FindBin::Bin/../fakes/recorder.pl", '--listen', "$o{addr}:$o{port}",
        '--out', $out, @tls);
    $stack->wait_for(sub { PulseStack::_port_open($o{port}, $o{addr}) }, 20, $name, $name);
    return { file => $out, fingerprint => $o{fingerprint} };
}
sub seen { my $f = shift; open my $fh, '<', $f->{file} or return ''; local $/; <$fh> // '' }
sub node_cfg { my $id = shift; my ($n) = grep { $_->{id} eq $id } @{ $ua->get($nodes => $auth)->result->json }; $n }

# --- L5: control characters never reach a header ----------------------------------------

my $rport = PulseStack::free_port();
my $plain = recorder(addr => '127.0.0.1', port => $rport);
my %inject = (tokenValue => "x\r\nX-Injected: 1", tokenName => "a\@pam!b\r\nX-Injected: 1",
    user => "root\r\nX-Injected: 1", password => "pw\r\nX-Injected: 1");
for my $field (sort keys %inject) {
    my %body = (type => 'pve', host => "http://127.0.0.1:$rport", verifySSL => false,
        $field =~ /^token/ ? (tokenName => 'a@pam!b', tokenValue => 'x') : (user => 'root', password => 'pw'),
        $field => $inject{$field});
    my $b = json_error_ok($ua->post("$nodes/test-connection" => $auth => json => \%body)->result, 400,
        'validation_failed', "L5: test-connection with CR/LF in $field");
    like($b->{fields}{$field} // '', qr/control characters/, "L5: the answer names $field");
    $b = json_error_ok($ua->post($nodes => $auth => json => { %body, name => 'inj' })->result, 400,
        'validation_failed', "L5: add with CR/LF in $field");
}
json_error_ok($ua->post("$nodes/test-connection" => $auth => json => { type => 'pve', host => "http://127.0.0.1:$rport",
    tokenName => 'a@pam!b', tokenValue => "x\x{0}X-Injected: 1" })->result, 400, 'validation_failed', 'L5: a NUL in tokenValue');
sleep 0.5;
unlike(seen($plain), qr/X-Injected/, 'L5: no injected header reached the listener');
unlike(seen($plain), qr{HTTP/1}, 'L5: no request at all was sent');
is($stack->psql('SELECT count(*) FROM pulse.instances'), 0, 'L5: nothing stored');

# A server whose login answer carries CR/LF in the ticket or the CSRF token: refused before
# it becomes a header.
my $pw = $stack->start_sim(name => 'pw', nodes => 1, guests => 1, password => 'root@pam:pw-secret-1');
my %pwnode = (type => 'pve', host => $pw->{url}, user => 'root', password => 'pw-secret-1',
    fingerprint => $pw->{fingerprint});
for my $mode (qw(evil-ticket evil-csrf)) {
    $stack->sim_mode($pw, mode => $mode);
    my $res = $ua->post("$nodes/test-connection" => $auth => json => \%pwnode)->result;
    json_error_ok($res, 400, 'connection_failed', "L5: $mode: test-connection fails");
    like($res->json->{error}, qr/login answer refused/, "L5: $mode: the login answer is refused");
    my $stats = $ua->get("$pw->{url}/__sim/stats")->result->json;
    is($stats->{injected}, 0, "L5: $mode: no request with an injected header reached the server");
}
$stack->sim_mode($pw, mode => 'normal');

# --- M3: credentials again when host or TLS changes -------------------------------------

my $m3 = $stack->start_sim(name => 'm3', nodes => 1, guests => 1, token => 'root@pam!m3=m3-secret-token');
my $evil_port = PulseStack::free_port();
my $evil = recorder(addr => '127.0.0.1', port => $evil_port, cert => 'evil');
my $res = $ua->post($nodes => $auth => json => { type => 'pve', name => 'm3', host => $m3->{url},
    tokenName => 'root@pam!m3', tokenValue => 'm3-secret-token', fingerprint => colons($m3->{fingerprint}) })->result;
is($res->code, 201, 'a token node added') or diag $res->body;
my $id = $res->json->{id};
my @moves = (
    [{ host => "https://127.0.0.1:$evil_port", verifySSL => false }, 'host and verifySSL'],
    [{ host => "127.0.0.1:$evil_port" }, 'host without a scheme'],
    [{ fingerprint => '' }, 'fingerprint cleared'],
    [{ fingerprint => $evil->{fingerprint} }, 'another fingerprint'],
    [{ verifySSL => false }, 'verifySSL turned off'],
    [{ host => "https://127.0.0.1:$evil_port", tokenName => 'root@pam!m3' }, 'host with the token id but no secret'],
);
for my $m (@moves) {
    my ($body, $what) = @$m;
    my $b = json_error_ok($ua->put("$nodes/$id" => $auth => json => $body)->result, 400, 'credentials_required',
        "M3: $what without the credentials");
    like($b->{error}, qr/tokenValue/, "M3: $what: the message names tokenValue");
    is_deeply($b->{missing}, ['tokenValue'], "M3: $what: missing names tokenValue");
}
my $n = node_cfg($id);
is($n->{host}, $m3->{url}, 'M3: the host was not changed');
is($n->{fingerprint}, $m3->{fingerprint}, 'M3: the pin was not changed');
is($n->{verifySSL}, true, 'M3: verification was not changed');
is($ua->post("$nodes/$id/test" => $auth => json => {})->result->json->{status}, 'success',
    'M3: the saved node test still goes to its own server');
sleep 0.5;
unlike(seen($evil), qr/PVEAPIToken|m3-secret-token/, 'M3: the secret never reached the other server');
unlike(seen($evil), qr{HTTP/1}, 'M3: the other server received no request');

# What does not move the secret needs no credentials; omitting the fingerprint keeps it.
is($ua->put("$nodes/$id" => $auth => json => { name => 'm3-renamed', host => "$m3->{url}/some/path" })->result->code, 200,
    'M3: a rename and the same host written differently need no credentials');
$n = node_cfg($id);
is($n->{name}, 'm3-renamed', 'the rename applied');
is($n->{fingerprint}, $m3->{fingerprint}, 'L8: an update that omits fingerprint keeps the pin');
is($ua->put("$nodes/$id" => $auth => json => { fingerprint => colons($m3->{fingerprint}) })->result->code, 200,
    'M3: the same fingerprint written differently is no change');
is($ua->put("$nodes/$id" => $auth => json => { fingerprint => '', tokenValue => 'm3-secret-token' })->result->code, 200,
    'M3: with the secret sent again the pin can be cleared');
$n = node_cfg($id);
ok(!exists $n->{fingerprint}, 'L8: fingerprint "" clears the pin');
is($n->{hasToken}, true, 'the token is still there');
is($n->{tokenName}, 'root@pam!m3', 'a secret alone keeps the token id');
is($ua->put("$nodes/$id" => $auth => json => { fingerprint => $m3->{fingerprint}, tokenValue => 'm3-secret-token' })->result->code,
    200, 'pinned again');
is($ua->post("$nodes/$id/test" => $auth => json => {})->result->json->{status}, 'success', 'and it still works');

my $pwid = $ua->post($nodes => $auth => json => { %pwnode, name => 'pw' })->result->json->{id};
ok($pwid, 'a password node added');
my $b = json_error_ok($ua->put("$nodes/$pwid" => $auth => json => { host => "https://127.0.0.1:$evil_port" })->result,
    400, 'credentials_required', 'M3: password node: host change without the password');
is_deeply($b->{missing}, ['password'], 'M3: missing names password');
like($b->{error}, qr/password/, 'M3: the message names password');
is($ua->put("$nodes/$pwid" => $auth => json => { host => "https://127.0.0.1:$evil_port", password => 'another-pw-9' })
    ->result->code, 200, 'M3: the same change with a password');
is(node_cfg($pwid)->{host}, "https://127.0.0.1:$evil_port", 'M3: then the host changes');
is($ua->delete("$nodes/$pwid" => $auth)->result->code, 200, 'password node removed');

# --- L8: one message for every way of not reaching a server -----------------------------

my $closed = PulseStack::free_port();
my $silent_port = PulseStack::free_port();
my $silent = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $silent_port, Listen => 5, ReuseAddr => 1)
    or die "listen: $!";    # accepts connections in the kernel, never answers
my %probe = (type => 'pve', tokenName => 'a@pam!b', tokenValue => 'port-scan-1', verifySSL => false);
my $refused = $ua->post("$nodes/test-connection" => $auth => json => { %probe, host => "https://127.0.0.1:$closed" })->result;
my $timeout = $ua->post("$nodes/test-connection" => $auth => json => { %probe, host => "https://127.0.0.1:$silent_port" })->result;
is($refused->code, 400, 'L8: a closed port: 400');
is($timeout->code, 400, 'L8: a port that never answers: 400');
(my $m1 = $refused->json->{error}) =~ s/\d+$/PORT/;
(my $m2 = $timeout->json->{error}) =~ s/\d+$/PORT/;
is($m1, $m2, "L8: refused and timed out read the same: $m1");
like($refused->json->{error}, qr/could not connect to https:\/\/127\.0\.0\.1:$closed$/, 'L8: the message names the host only');
close $silent;

# At most 64 members are read from /cluster/status.
my $big = $stack->start_sim(name => 'big', nodes => 70, guests => 0, token => 'root@pam!big=big-secret-token');
$res = $ua->post($nodes => $auth => json => { type => 'pve', name => 'big', host => $big->{url},
    tokenName => 'root@pam!big', tokenValue => 'big-secret-token', fingerprint => $big->{fingerprint} })->result;
is($res->code, 201, 'a cluster of 70 members added');
my $bigid = $res->json->{id};
is(scalar @{ node_cfg($bigid)->{clusterEndpoints} }, 64, 'L8: only 64 members are read from /cluster/status');
like($stack->log_text, qr/more members than are read/, 'L8: the cut is logged');
is($ua->delete("$nodes/$bigid" => $auth)->result->code, 200, 'big cluster removed');
$stack->stop_program('sim-big');

# --- M4: cluster members get no credentials and no trust on first use -------------------

my $mport = PulseStack::free_port();
my $pri = $stack->start_sim(name => 'pri', host => '127.0.0.2', port => $mport, nodes => 2, guests => 2,
    token => 'root@pam!m4=m4-secret-token', cluster => 'm4', member_ips => ['127.0.0.2', '127.0.0.3']);
# The "member" at 127.0.0.3 presents a certificate of its own and writes down what it gets.
my $mitm = recorder(addr => '127.0.0.3', port => $mport, cert => 'mitm');
my %m4 = (type => 'pve', name => 'm4', host => $pri->{url}, tokenName => 'root@pam!m4', tokenValue => 'm4-secret-token');
# The primary cannot tell member 2's certificate.
$ua->post("$pri->{url}/__sim/certs" => json => { node2 => '' });
$res = $ua->post($nodes => $auth => json => { %m4, fingerprint => $pri->{fingerprint} })->result;
is($res->code, 201, 'a pinned cluster added') or diag $res->body;
my $m4id = $res->json->{id};
my %ep = map { $_->{NodeName} => $_ } @{ node_cfg($m4id)->{clusterEndpoints} };
is_deeply([sort keys %ep], ['node1', 'node2'], 'both members listed');
is($ep{node1}{Fingerprint}, $pri->{fingerprint}, 'M4: member 1 pinned with the fingerprint its primary gives');
is($ep{node2}{Fingerprint}, '', 'M4: member 2, whose certificate the primary does not tell, is not pinned on first use');
$stack->wait_for(sub { my ($e) = grep { $_->{NodeName} eq 'node2' } @{ node_cfg($m4id)->{clusterEndpoints} };
    ($e->{PulseError} // '') =~ /fingerprint unknown/ && !$e->{PulseReachable} }, 30, 'member 2 shown unverified');
pass('M4: member 2 is listed unverified and not reachable');
unlike(seen($mitm), qr/GET |PVEAPIToken|m4-secret-token/, 'M4: member 2 was not contacted');

# A list from before this fix holds fingerprints seen on first contact: not trusted.
$stack->psql(qq{UPDATE pulse.instances SET cluster_endpoints = (SELECT jsonb_agg((e - 'fingerprintSource') || } .
    qq{jsonb_build_object('fingerprint', '$mitm->{fingerprint}')) FROM jsonb_array_elements(cluster_endpoints) e) WHERE id = '$m4id'});
sleep 6;    # the worker hears of the change and would probe the member at once
unlike(seen($mitm), qr/GET |PVEAPIToken|m4-secret-token/, 'M4: a member pin not learned from the primary is not used');
($ep{node2}) = grep { $_->{NodeName} eq 'node2' } @{ node_cfg($m4id)->{clusterEndpoints} };
like($ep{node2}{PulseError}, qr/fingerprint unknown/, 'M4: the member stays unverified');

# The primary tells a fingerprint that the member does not present: the member does not
# pass the handshake, gets nothing, and is not kept.
$ua->post("$pri->{url}/__sim/certs" => json => { node2 => colons($pri->{fingerprint}) });
$res = $ua->post("$nodes/$m4id/refresh-cluster" => $auth => json => {})->result;
is($res->code, 200, 'refresh-cluster');
%ep = map { $_->{NodeName} => $_ } @{ node_cfg($m4id)->{clusterEndpoints} };
ok(!$ep{node2} || $ep{node2}{Fingerprint} ne $mitm->{fingerprint}, 'M4: the presented certificate is never pinned');
like(seen($mitm), qr/handshake failed/, 'the member was tried (pinned)');
unlike(seen($mitm), qr/GET |PVEAPIToken|m4-secret-token/, 'M4: a member presenting an unexpected certificate receives no request');

# A node added later that says it belongs to the same cluster brings members that its own
# server vouches for: they are merged, but the cluster's worker leaves them alone.
my $twin = $stack->start_sim(name => 'twin', host => '127.0.0.1', port => $mport, nodes => 3, guests => 1,
    token => 'root@pam!tw=twin-secret-token', cluster => 'm4', member_ips => ['127.0.0.1', '127.0.0.1', '127.0.0.3']);
$ua->post("$twin->{url}/__sim/certs" => json => { node3 => colons($mitm->{fingerprint}) });
$res = $ua->post($nodes => $auth => json => { type => 'pve', name => 'twin', host => $twin->{url},
    tokenName => 'root@pam!tw', tokenValue => 'twin-secret-token', fingerprint => $twin->{fingerprint} })->result;
is($res->json->{merged}, true, 'a node of the same cluster is merged into it') or diag $res->body;
$stack->wait_for(sub { my ($e) = grep { $_->{NodeName} eq 'node3' } @{ node_cfg($m4id)->{clusterEndpoints} };
    $e && ($e->{PulseError} // '') =~ /another node/ && !$e->{PulseReachable} }, 30, 'the merged member shown unconfirmed');
pass('M4: a member merged from another node is listed unreachable until refresh-cluster');
sleep 4;
unlike(seen($mitm), qr/Authorization|PVEAPIToken|m4-secret-token|twin-secret-token/i,
    "M4: neither the cluster's nor the new node's credentials went to the merged member");
$stack->stop_program('sim-twin');
is($ua->delete("$nodes/$m4id" => $auth)->result->code, 200, 'pinned cluster removed');

# An instance the operator set to no verification probes members without it, but without
# credentials too, and pins nothing it saw.
$res = $ua->post($nodes => $auth => json => { %m4, verifySSL => false })->result;
is($res->code, 201, 'the same cluster without verification') or diag $res->body;
$m4id = $res->json->{id};
%ep = map { $_->{NodeName} => $_ } @{ node_cfg($m4id)->{clusterEndpoints} };
is($ep{node2}{Fingerprint} // '', '', 'M4: no fingerprint is pinned on first use');
like(seen($mitm), qr{GET /api2/json/version}, 'the member was probed');
unlike(seen($mitm), qr/Authorization|PVEAPIToken|m4-secret-token/i, 'M4: the probe carried no credentials');
$stack->wait_for(sub { my @get = seen($mitm) =~ /GET /g; @get >= 2 }, 60, 'the worker to probe the member');
unlike(seen($mitm), qr/Authorization|PVEAPIToken|m4-secret-token/i, "M4: the worker's member probes carry no credentials");
is($ua->delete("$nodes/$m4id" => $auth)->result->code, 200, 'removed');

# --- H2: the worker's reads of upstream answers are bounded -----------------------------

my $amp = $stack->start_sim(name => 'amp', nodes => 1, guests => 2, token => 'root@pam!amp=amp-secret-token');
my $calm = $stack->start_sim(name => 'calm', nodes => 1, guests => 2, token => 'root@pam!calm=calm-secret-token');
my %ids;
for my $s ([$amp, 'amp'], [$calm, 'calm']) {
    my ($sim, $name) = @$s;
    $res = $ua->post($nodes => $auth => json => { type => 'pve', name => $name, host => $sim->{url},
        tokenName => "root\@pam!$name", tokenValue => "$name-secret-token", fingerprint => $sim->{fingerprint} })->result;
    is($res->code, 201, "$name added");
    $ids{$name} = $res->json->{id};
}
$stack->wait_state(sub { my %i = map { $_->{instance} => 1 } @{ $_[0]{nodes} }; $i{amp} && $i{calm} }, 30, 'both polled');
my $calm_seen = sub { my ($x) = grep { $_->{instance} eq 'calm' } @{ $_[0]{nodes} }; $x ? $x->{lastSeen} : 0 };

$stack->sim_mode($amp, mode => 'amplify', path => '/cluster/resources', mb => 30);
$stack->wait_for(sub { $stack->log_tail('worker-1', 200) =~ /upstream answer refused.*instance=amp.*cluster\/resources/ }, 60,
    'the amplified answer to be refused', 'worker-1');
pass('H2: a 30 MB /cluster/resources of empty objects is refused and logged for its instance');
my $st = $ua->get($stack->url('/api/state') => $auth)->result->json;
my $before = $calm_seen->($st);
$stack->wait_state(sub { $calm_seen->($_[0]) > $before }, 20, 'the other instance still polled');
pass('H2: the other instance is still polled');
my $pid = $stack->pid_of('worker-1');
my ($hwm) = (do { local (@ARGV, $/) = "/proc/$pid/status"; <> } // '') =~ /VmHWM:\s+(\d+) kB/;
diag(sprintf 'worker peak resident memory (VmHWM): %.0f MB', ($hwm // 0) / 1024);
ok(defined $hwm && $hwm < 600 * 1024, 'H2: the worker stayed well below what parsing it would take (~10 GB)');
ok($stack->alive('worker-1'), 'the worker is alive');

# A small answer over the cap of small answers (8 MiB) is cut off as it arrives.
$stack->sim_mode($amp, mode => 'amplify', path => '/nodes', mb => 10);
$stack->wait_for(sub { $stack->psql("SELECT last_error FROM pulse.poll_status WHERE instance_id = '$ids{amp}'") =~ /larger than/ },
    30, 'the /nodes answer to be cut off', 'worker-1');
pass('H2: a 10 MB /nodes answer is cut off at the small-answer cap');
like($stack->log_tail('worker-1', 300), qr/instance=amp.*larger than 8388608 bytes/, 'H2: and logged for its instance');
$res = $ua->post("$nodes/$ids{amp}/test" => $auth => json => {})->result;
like($res->json->{message}, qr/larger than 8388608 bytes/, 'H2: the node test is cut off the same way');
$st = $ua->get($stack->url('/api/state') => $auth)->result->json;
$before = $calm_seen->($st);
$stack->wait_state(sub { $calm_seen->($_[0]) > $before }, 20, 'the other instance still polled');
pass('H2: the other instance is still polled');
$stack->sim_mode($amp, mode => 'normal');

no_secret_in_logs($stack, 'm3-secret-token', 'm4-secret-token', 'pw-secret-1', 'another-pw-9', 'amp-secret-token');
done_testing;
