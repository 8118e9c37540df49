#!/usr/bin/perl
# 53-notify-rate-limit.t: the per-URL webhook rate limit holds rows back without spending
# their attempts: five rows to one URL with a limit of three a window are all delivered once
# (three now, two in the next window), none goes to the DLQ. make check shortens the window
# to 10 s (notify_rate_window); make drill (PULSE_DRILL=1) waits out the real minute.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::JSON qw(true encode_json);
use Test::More;
use Time::HiRes qw(sleep);
use PulseStack;

my $drill = $ENV{PULSE_DRILL} ? 1 : 0;
my $window = $drill ? 60 : 10;
my $stack = PulseStack->new(settings => { notify_timeout => 5, notify_batch => 10,
    notify_rate_limit => 3, notify_rate_window => $window, notify_senders => 1 })->start;
$stack->setup_admin;
my $ua = $stack->ua;
my $sink = $stack->start_webhook_sink;
my $tool = PulseStack::builddir() . '/t/tools/notify-enqueue';
$stack->psql(q{INSERT INTO pulse.system_settings (key, value)
    VALUES ('webhookAllowedPrivateCIDRs', to_jsonb('127.0.0.1'::text))});

my $cfg = encode_json({ name => 'limited', url => "$sink->{url}/hook", method => 'POST',
    enabled => true, service => 'generic', headers => {}, customFields => {}, template => '' });
my $alerts = encode_json([{ id => 'rl-{n}', type => 'cpu', level => 'warning', resourceId => 'pve1:n1:100',
    resourceName => 'vm100', node => 'n1', instance => 'pve1', message => 'CPU at 95%', value => 95,
    threshold => 80, startTime => '2026-01-02T03:04:05Z', acknowledged => \0 }]);
my @ids = do {
    local $ENV{PULSE_CONFIG} = $stack->conf_path;
    grep { length } split /\n/, qx{'$tool' -t webhook -n 5 -i rl -C '$cfg' -a '$alerts' 2>&1};
};
is(scalar @ids, 5, 'five rows queued to one URL');

sub count { $stack->psql("SELECT count(*) FROM pulse.notification_queue WHERE $_[0]") }
sub keys_seen { scalar keys %{ $ua->get("$sink->{url}/__sink/stats")->result->json->{received} // {} } }

# One reading of both counts (a loaded machine may reach the next window soon after): three
# sent and two held back, not an attempt spent, due when the window that began with the
# first send ends.
my $both = q{SELECT count(*) FILTER (WHERE status = 'sent') || ',' || count(*) FILTER (WHERE
    status = 'pending' AND attempts = 0 AND next_retry_at > now()) FROM pulse.notification_queue};
$stack->wait_for(sub { $stack->psql($both) eq '3,2' }, 30, 'three rows sent and two held back');
pass('no more than three in the window, the other two wait, no attempt spent');
my $early = $stack->psql(qq{SELECT count(*) FROM pulse.notification_queue WHERE status = 'pending'
    AND next_retry_at < (SELECT min(last_attempt) FROM pulse.notification_queue WHERE status = 'sent')
    + interval '$window seconds' - interval '1 second'});
is($early, 0, 'the held rows are due when the window ends');
is(count("status = 'dlq'"), 0, 'nothing in the DLQ');
is(count("last_error IS NOT NULL"), 0, 'a held row is not a failure');
$stack->wait_for(sub { count("status = 'sent'") == 5 }, $window + 20, 'the rest sent in the next window');
is(count("status = 'sent' AND attempts = 1"), 5, 'each delivered at its first attempt');
is(keys_seen(), 5, 'five delivery keys at the receiver');
my $received = $ua->get("$sink->{url}/__sink/stats")->result->json->{received};
is((grep { $_ != 1 } values %$received), 0, 'each delivered once');
done_testing();
