#!/usr/bin/perl
# 55-pmg-alerts.t: the Mail Gateway alert checks beyond the cluster totals
# (alerts-notifications.md §3.8) through the whole stack: a simulated three-node gateway
# whose one node's queue is an outlier raises per-node alerts with the outlier note; a spam
# quarantine grown since the sample 2 hours old (seeded in pulse.pmg_quarantine_samples)
# raises the growth alert; two anomalous hours in a row after a day of quiet ones (seeded in
# pulse.pmg_mail_samples) raise the spamIn anomaly; the sample tables stay bounded; the node
# alerts resolve when the queue drains.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use PulseStack;
use PulseTest;

my $stack = PulseStack->new(settings => { pmg_polling_interval => 1 })->start;
$stack->setup_admin;
my $ua = $stack->ua;
my $auth = $stack->token_headers;
my $anchor = time;
my $hour = int($anchor / 3600) * 3600;    # the simulator's hour under way
my $sim = $stack->start_pmg_sim(name => 'pmgq', token => 'pulse@pmg!mon:s3cret-pmg-55', nodes => 3,
    now => $anchor);

sub sim_set {
    my (%m) = @_;
    my $r = $ua->post("$sim->{url}/__sim/metrics" => json => \%m)->result;
    ok($r->is_success, 'sim: ' . join(',', sort keys %m)) or diag $r->body;
}

my $res = $ua->post($stack->url('/api/config/nodes') => $auth => json => { type => 'pmg', name => 'mail9',
    host => $sim->{url}, tokenName => 'pulse@pmg!mon', tokenValue => 's3cret-pmg-55',
    fingerprint => $sim->{fingerprint} })->result;
is($res->code, 201, 'gateway added') or diag $res->body;
my $id = $stack->psql(q{SELECT id FROM pulse.instances WHERE name = 'mail9'});

# The active alerts by id.
sub alerts {
    my $r = $ua->get($stack->url('/api/alerts/active') => $auth)->result;
    die 'GET /api/alerts/active answered ' . $r->code . "\n" unless $r->code == 200;
    return { map { ($_->{id} => $_) } @{ $r->json // [] } };
}
sub find_alert { alerts()->{ $_[0] } }

my $mail_samples = "SELECT count(*) FROM pulse.pmg_mail_samples WHERE instance_id = '$id'";
$stack->wait_for(sub { $stack->psql($mail_samples) > 0 }, 30, 'the gateway polled', 'worker-1');
$stack->wait_for(sub { $stack->psql("SELECT count(*) FROM pulse.poll_status WHERE instance_id = '$id' AND "
    . "last_success > (SELECT min(taken_at) FROM pulse.pmg_quarantine_samples) + interval '2 seconds'") }, 30,
    'later polls', 'worker-1');
is($stack->psql("SELECT count(*) FROM pulse.pmg_quarantine_samples WHERE instance_id = '$id'"), 1,
    'polls a second apart: one quarantine sample (at most one per 5 minutes)');
is($stack->psql("SELECT extract(epoch FROM max(hour_start))::bigint FROM pulse.pmg_mail_samples WHERE instance_id = '$id'"),
    $hour - 3600, 'the newest completed hour sampled, not the one under way');
ok(!(grep { /^pmg-mail9-pmg\d-queue-total$/ } keys %{ alerts() }), 'quiet queues: no node alert');

# --- one node's queue far above the others (§3.8 per node) ---
sim_set(node => 'pmg3', active => 0, deferred => 400, hold => 0, incoming => 0, oldest_age => 60);
$stack->wait_for(sub { find_alert('pmg-mail9-pmg3-queue-deferred') }, 30, 'the node alert', 'worker-1');
my $a = find_alert('pmg-mail9-pmg3-queue-total');
ok($a, 'pmg-<id>-<node>-queue-total') or diag explain alerts();
is($a->{type}, 'queue-total', 'type queue-total');
is($a->{level}, 'warning', '400 >= 0.6 x 500: warning');
is($a->{node}, 'pmg3', 'node');
is($a->{resourceId}, 'pmg-mail9', 'resourceId: the gateway');
is($a->{threshold}, 300, 'scaled threshold');
is($a->{message}, 'PMG node pmg3 on mail9 has 400 total messages in queue (threshold: 300, outlier)',
    'message with the outlier note');
$a = find_alert('pmg-mail9-pmg3-queue-deferred');
is($a->{level}, 'critical', 'deferred 400 >= 0.8 x 500: critical');
like($a->{message}, qr/has 400 deferred messages \(threshold: 400, outlier\)$/, 'deferred message');
ok(!find_alert('pmg-mail9-pmg3-oldest-message'), 'a minute old: no node age alert');

# --- quarantine growth against the sample 2 hours old ---
sim_set(quarantine_spam => 1000);
$stack->psql("INSERT INTO pulse.pmg_quarantine_samples VALUES ('$id', now() - interval '2 hours', 100, 0), "
    . "('$id', now() - interval '4 hours', 50, 0)");
$stack->wait_for(sub { find_alert('pmg-mail9-quarantine-spam') }, 30, 'the growth alert', 'worker-1');
$a = find_alert('pmg-mail9-quarantine-spam');
is($a->{type}, 'quarantine-spam', 'type quarantine-spam');
is($a->{level}, 'critical', '+900 (+900 %): critical');
is($a->{message}, 'PMG mail9 spam quarantine growing rapidly: +900 messages (+900.0%) in 2 hours', 'growth message');
is($a->{threshold}, 600, 'threshold: the count then + quarantineGrowthCritMin');
is($stack->psql("SELECT count(*) FROM pulse.pmg_quarantine_samples WHERE instance_id = '$id' AND taken_at < now() - interval '3 hours'"),
    0, 'samples older than 3 hours deleted');

# --- two anomalous hours after 58 quiet ones (mail-rate anomaly) ---
# The simulator's hours say 500 spam mails each; the history says 10 an hour until 2 hours
# before the one under way, then 500: the next poll adds the completed hour (500 again).
sim_set(hours => { spamcount_in => 500, count_in => 2000 });
my $done = time >= $hour + 3600 ? $hour : $hour - 3600;    # the newest completed hour
$stack->psql("DELETE FROM pulse.pmg_mail_samples WHERE instance_id = '$id'; "
    . "INSERT INTO pulse.pmg_mail_samples SELECT '$id', to_timestamp($done + 3600 - h * 3600), "
    . "CASE WHEN h = 2 THEN 500 ELSE 10 END, 0, 0, 0 FROM generate_series(2, 61) h");
$stack->wait_for(sub { find_alert('pmg-mail9-anomaly-spamIn') }, 30, 'the anomaly alert', 'worker-1');
$a = find_alert('pmg-mail9-anomaly-spamIn');
is($a->{type}, 'anomaly-spamIn', 'type anomaly-spamIn');
is($a->{level}, 'critical', '50x a baseline of 10: critical');
is($a->{message}, 'PMG mail9 anomaly detected: spamIn is 500.0 messages/hour (50.0x baseline of 10.0)', 'anomaly message');
is($a->{threshold}, 10, 'threshold: the baseline');
ok(!find_alert('pmg-mail9-anomaly-virusIn'), 'virusIn steady: nothing');
is($stack->psql("SELECT count(*) FROM pulse.pmg_mail_samples WHERE instance_id = '$id'"), 48,
    'hourly samples: the newest 48 kept');

# --- the queue drains ---
sim_set(node => 'pmg3', deferred => 0);
$stack->wait_for(sub { !find_alert('pmg-mail9-pmg3-queue-deferred') }, 30, 'the node alerts resolve', 'worker-1');
ok(!find_alert('pmg-mail9-pmg3-queue-total'), 'total resolved too');
ok(find_alert('pmg-mail9-anomaly-spamIn'), 'the anomaly stays while no new hour comes');

# --- the instance deleted: its samples go with it ---
$res = $ua->delete($stack->url("/api/config/nodes/$id") => $auth)->result;
ok($res->is_success, 'gateway deleted') or diag $res->code . ' ' . $res->body;
is($stack->psql("SELECT (SELECT count(*) FROM pulse.pmg_mail_samples) + (SELECT count(*) FROM pulse.pmg_quarantine_samples)"),
    0, 'no samples left');

$stack->stop;
done_testing;
