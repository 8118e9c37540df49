#!/usr/bin/perl
# 83-prometheus.t: GET /metrics (metrics-reporting.md §7) through the real stack with two
# responders and a worker polling a simulated PVE cluster: the original's request and poll
# families summed over both responders (each process's rows in pulse.prom_series), process_*
# per process, the estate gauges, label values escaped; Debian's promtool finds no problem in
# the text; Debian's prometheus scrapes it through nginx (TLS, no verification) and answers a
# request counter and an estate gauge from its own HTTP API; a responder that stops keeps its
# counts (folded into process '' once gone) so no counter goes backwards; nginx and Apache
# refuse /metrics to an address not allowed (127.0.0.2) and the shipped templates say so.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use File::Temp qw(tempdir);
use Mojo::UserAgent;
use Test::More;
use PulseStack;
use PulseTest;

my ($promtool, $prometheus) = ('/usr/bin/promtool', '/usr/bin/prometheus');
-x $promtool && -x $prometheus
    or BAIL_OUT("Debian's prometheus package is missing (apt-get install prometheus)");

my $stack = PulseStack->new(responders => 2, apache => 1,
    settings => { prometheus_interval => 1, pve_polling_interval => 2 })->start;
$stack->setup_admin;
my $ua = $stack->ua;
my $h = $stack->token_headers;

sub scrape {
    my $res = $ua->get($stack->url('/metrics'))->result;
    return $res;
}

# The samples of a text, as "name{labels}" => value.
sub samples {
    my %s;
    for (split /\n/, shift) {
        next if /^#/ || !/\S/;
        /^(.+) (\S+)$/ or next;
        $s{$1} = $2;
    }
    return \%s;
}

sub sample_sum {
    my ($text, $re) = @_;
    my $s = samples($text);
    my $sum = 0;
    $sum += $s->{$_} for grep { /$re/ } keys %$s;
    return $sum;
}

# --- a simulated cluster, polled; its instance name needs escaping ---
my $sim = $stack->start_sim(nodes => 2, guests => 6, token => 'root@pam!p=prom-token-1');
my $name = 'lab "east" \\ 1';
my $res = $ua->post($stack->url('/api/config/nodes') => $h => json => { type => 'pve', name => $name,
    host => $sim->{url}, tokenName => 'root@pam!p', tokenValue => 'prom-token-1',
    fingerprint => $sim->{fingerprint} })->result;
is($res->code, 201, 'a simulated cluster added') or diag $res->body;
$stack->wait_state(sub { @{ $_[0]{nodes} } == 2 && @{ $_[0]{vms} } + @{ $_[0]{containers} } == 6 },
    40, 'the simulated cluster');

# --- requests driven to each responder on its own socket ---
my %sent = (1 => 7, 2 => 5);
for my $i (1, 2) {
    for (1 .. $sent{$i}) {
        my ($status) = $stack->fcgi_request(socket => $stack->socket_path($i), uri => '/api/agent/version');
        $status == 200 or diag "responder $i answered $status";
    }
}
for my $i (1, 2) {
    my ($status) = $stack->fcgi_request(socket => $stack->socket_path($i), uri => '/api/no-such-route/12345');
}
my $total = $sent{1} + $sent{2};
my $series = 'pulse_http_requests_total{method="GET",route="/api/agent/version",status="200"}';
my $text;
$stack->wait_for(sub {
    $res = scrape();
    $text = $res->body;
    return ($res->code // 0) == 200 && (samples($text)->{$series} // 0) == $total
        && (samples($text)->{'pulse_http_requests_total{method="GET",route="unmatched",status="404"}'} // 0) == 2;
}, 20, "GET /metrics to count the requests of both responders");
is($res->code, 200, 'GET /metrics: 200 without credentials from loopback');
like($res->headers->content_type, qr{^text/plain; version=0\.0\.4}, 'the text format 0.0.4');
is(samples($text)->{$series}, $total, "pulse_http_requests_total of /api/agent/version: $total, both responders");
# Each responder published its own share.
my @shares = split /\n/, $stack->psql(q{SELECT p.program, s.value FROM pulse.prom_series s
    JOIN pulse.prom_processes p USING (process)
    WHERE s.name = 'pulse_http_requests_total' AND s.labels LIKE '%route="/api/agent/version"%'
    ORDER BY s.value DESC});
is_deeply(\@shares, ['pulse-fcgi|7', 'pulse-fcgi|5'], 'two processes, 7 and 5: the answer sums them');
is(samples($text)->{'pulse_http_request_duration_seconds_count{method="GET",route="/api/agent/version",status="200"}'},
    $total, 'the histogram counted them too');
is(samples($text)->{'pulse_http_request_duration_seconds_bucket{method="GET",route="/api/agent/version",status="200",le="+Inf"}'},
    $total, 'its +Inf bucket');
like($text, qr/^# TYPE pulse_http_request_duration_seconds histogram$/m, 'TYPE histogram');
for my $le (qw(0.05 0.1 0.25 0.5 1 2.5 5 10)) {
    like($text, qr/^pulse_http_request_duration_seconds_bucket\{method="GET",route="\/api\/agent\/version",status="200",le="\Q$le\E"\} \d+$/m,
        "the original's bucket le=$le");
}
is(samples($text)->{'pulse_http_requests_total{method="GET",route="unmatched",status="404"}'}, 2,
    'a path no route knows counts as route="unmatched"');
is(samples($text)->{'pulse_http_request_errors_total{method="GET",route="unmatched",status_class="client_error"}'}, 2,
    'and as a client_error');
unlike($text, qr/route="\/metrics"/, '/metrics itself is not counted');

# Polls, with the instance name escaped.
my $esc = 'lab \\"east\\" \\\\ 1';
$stack->wait_for(sub {
    $text = scrape()->body;
    return (samples($text)->{qq(pulse_monitor_poll_total{instance_type="pve",instance="$esc",result="success"})} // 0) >= 1;
}, 20, 'a successful poll counted');
ok(samples($text)->{qq(pulse_monitor_poll_duration_seconds_count{instance_type="pve",instance="$esc"})} >= 1,
    'pulse_monitor_poll_duration_seconds counted, the label value escaped');
like($text, qr/^pulse_monitor_poll_duration_seconds_bucket\{instance_type="pve",instance="\Q$esc\E",le="30"\} \d+$/m,
    'the poll histogram has the bucket 30');
ok(samples($text)->{qq(pulse_monitor_poll_last_success_timestamp{instance_type="pve",instance="$esc"})} > time - 60,
    'pulse_monitor_poll_last_success_timestamp is recent');
is(samples($text)->{qq(pulse_monitor_poll_staleness_seconds{instance_type="pve",instance="$esc"})}, 0,
    'staleness 0 after a success');

# The estate.
my $s = samples($text);
is(scalar(grep { /^pulse_node_up\{instance="\Q$esc\E",node="[^"]+"\}$/ } keys %$s), 2, 'pulse_node_up of two nodes');
is(scalar(grep { /^pulse_guest_up\{instance="\Q$esc\E",node="[^"]+",vmid="\d+",name="[^"]*",type="(qemu|lxc|oci)"\}$/ } keys %$s),
    6, 'pulse_guest_up of six guests with instance, node, vmid, name and type')
    or diag join "\n", grep { /^pulse_guest_up/ } keys %$s;
my $st = $ua->get($stack->url('/api/state') => $h)->result->json;
my $g = (@{ $st->{vms} }, @{ $st->{containers} })[0];
my ($gkey) = grep { /^pulse_guest_memory_total_bytes\{.*vmid="$g->{vmid}",/ } keys %$s;
is($s->{$gkey}, $g->{memory}{total}, 'a guest\'s memory total as /api/state has it');
ok(scalar(grep { /^pulse_storage_total_bytes\{/ } keys %$s) > 0, 'storage gauges');
ok(scalar(grep { /^process_resident_memory_bytes\{process="pulse-fcgi@/ } keys %$s) == 2,
    'process_resident_memory_bytes of both responders');
ok(scalar(grep { /^process_resident_memory_bytes\{process="pulse-worker@/ } keys %$s) == 1, 'and of the worker');

# An active alert, with a type that needs escaping.
$stack->psql(q{INSERT INTO pulse.alerts (id, type, level, resource_id, start_time, source)
    VALUES ('prom-test', E'odd"type\\\\x\nnext', 'critical', 'r1', now(), 'prom-test')});
$text = scrape()->body;
is(samples($text)->{'pulse_alerts_active{level="critical",type="odd\"type\\\\x\nnext"}'}, 1,
    'pulse_alerts_active: quote, backslash and newline escaped');
is($ua->post($stack->url('/api/alerts/prom-test/acknowledge') => $h)->result->code, 200, 'the alert acknowledged');
$stack->wait_for(sub { (samples(scrape()->body)->{pulse_alerts_acknowledged_total} // 0) == 1 }, 20,
    'pulse_alerts_acknowledged_total to count it');
pass('pulse_alerts_acknowledged_total 1 (no labels)');
$stack->psql(q{DELETE FROM pulse.alerts WHERE id = 'prom-test'});

# --- promtool ---
my $dir = tempdir('prom-XXXXXX', TMPDIR => 1, CLEANUP => 1);
open my $fh, '>', "$dir/metrics.txt" or die $!;
print {$fh} $text;
close $fh;
my $out = qx{$promtool check metrics < $dir/metrics.txt 2>&1};
my $rc = $? >> 8;
# The only finding is the lint rule against the original's own name
# pulse_scheduler_breaker_failure_count, kept for its dashboards (docs/COMPATIBILITY.md):
# exit 3 is "lint problems", 1 would be a text promtool cannot parse.
ok($rc == 0 || $rc == 3, "promtool check metrics parses the text (exit $rc)") or diag $out;
is($out, qq(pulse_scheduler_breaker_failure_count non-histogram and non-summary metrics should not have "_count" suffix\n),
    'promtool check metrics: no finding but the original\'s name') or diag $out;

# --- a real scrape by Debian's prometheus, through nginx ---
my $pport = PulseStack::free_port();
open $fh, '>', "$dir/prometheus.yml" or die $!;
printf {$fh} <<'EOF', $stack->port;
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: pulse
    scheme: https
    metrics_path: /metrics
    tls_config:
      insecure_skip_verify: true
    static_configs:
      - targets: ['127.0.0.1:%d']
EOF
close $fh;
$stack->spawn('prometheus', {}, $prometheus, "--config.file=$dir/prometheus.yml",
    "--storage.tsdb.path=$dir/data", "--web.listen-address=127.0.0.1:$pport");
my $prom = Mojo::UserAgent->new(request_timeout => 5);
sub pquery {
    my $r = eval { $prom->get("http://127.0.0.1:$pport/api/v1/query" => form => { query => shift })->result }
        or return undef;
    return undef unless $r->is_success && ($r->json->{status} // '') eq 'success';
    my $v = $r->json->{data}{result}[0] or return undef;
    return $v->{value}[1];
}
$stack->wait_for(sub { (pquery('up{job="pulse"}') // 0) == 1 && defined pquery('pulse_guest_up') }, 30,
    'prometheus to scrape /metrics', 'prometheus');
is(pquery(qq(sum(pulse_http_requests_total{route="/api/agent/version"}))), $total,
    'prometheus: the request counter summed over both responders');
is(pquery('count(pulse_guest_up)'), 6, 'prometheus: pulse_guest_up of six guests');
is(pquery('count(pulse_node_up == 1)'), 2, 'prometheus: two nodes up');
$stack->stop_program('prometheus');

# --- restricted to the allowed addresses ---
my $other = Mojo::UserAgent->new(insecure => 1, socket_options => { LocalAddr => '127.0.0.2' });
is($other->get($stack->url('/metrics'))->result->code, 403, 'GET /metrics from 127.0.0.2: 403 by nginx');
is($other->get($stack->url('/api/health'))->result->code, 200, 'the API from 127.0.0.2: served');
# Apache's template says the same.
$res = $ua->get($stack->apache_url('/metrics'))->result;
is($res->code, 200, 'GET /metrics through Apache from loopback: 200');
like($res->body, qr/^pulse_http_requests_total\{/m, 'the same text');
is($other->get($stack->apache_url('/metrics'))->result->code, 403, 'GET /metrics through Apache from 127.0.0.2: 403');
for my $t (['nginx/pulse-site.conf.in', qr/location = \/metrics \{\s*allow 127\.0\.0\.1;\s*allow ::1;\s*deny\s+all;/],
    ['nginx/pulse-apache.conf.in', qr/<Location "\/metrics">\s*Require ip 127\.0\.0\.1 ::1\s*<\/Location>/]) {
    open my $in, '<', PulseStack::srcdir() . "/$t->[0]" or die $!;
    local $/;
    like(<$in>, $t->[1], "$t->[0] admits loopback only to /metrics");
}


# --- a responder that stops keeps its counts ---
my $pid2 = $stack->pid_of('fcgi-2');
$stack->stop_program('fcgi-2');
$stack->psql(qq{UPDATE pulse.prom_processes SET seen_at = now() - interval '1 hour'
    WHERE process LIKE 'pulse-fcgi@%:$pid2'});
$stack->wait_for(sub { $stack->psql(qq{SELECT count(*) FROM pulse.prom_processes WHERE process LIKE 'pulse-fcgi@%:$pid2'}) == 0 },
    20, 'the worker to fold the stopped responder');
is($stack->psql(q{SELECT value FROM pulse.prom_series WHERE process = '' AND name = 'pulse_http_requests_total'
    AND labels LIKE '%route="/api/agent/version"%'}), $sent{2}, 'its count folded into process \'\'');
$text = scrape()->body;
is(samples($text)->{$series}, $total, 'the sum did not go backwards');
ok(!(grep { /process="pulse-fcgi\@[^"]*:$pid2"/ } keys %{ samples($text) }), 'its process_* series are gone');

done_testing;
