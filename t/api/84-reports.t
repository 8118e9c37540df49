#!/usr/bin/perl
# 84-reports.t: GET /api/admin/reports/generate (metrics-reporting.md §3). Samples are seeded
# into the raw tier for a VM and a storage; the CSV has the original's layout with the
# summary and every row's values as computed here from the seeded samples; the PDF has pages
# (pdftoppm makes PNGs of them) and its text (pdftotext) has the title, the resource and the
# summary figures; longer ranges read the rolled-up tiers; bad input is a 400 JSON error;
# without the licence 402, a non-admin 403, no credentials 401.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use File::Temp qw(tempdir);
use List::Util qw(sum min max);
use Mojo::Util qw(url_escape);
use POSIX qw(strftime floor);
use Test::More;
use PulseStack;
use PulseTest;

for my $tool (qw(pdftoppm pdftotext)) {
    system("command -v $tool > /dev/null") == 0
        or BAIL_OUT("$tool missing: install poppler-utils (./quickstart test installs it)");
}

my $proxy_secret = 'report-proxy-secret-0123456789';
my $stack = PulseStack->new(settings => { license_public_key => PulseStack::licence_public_key(),
    proxy_auth_secret => $proxy_secret, proxy_auth_user_header => 'X-Remote-User',
    proxy_auth_role_header => 'X-Remote-Roles', proxy_auth_admin_role => 'admin' })->start;
my $ua = $stack->ua;
# With proxy authentication there is no first-run setup: the proxy admin makes the token.
my %proxy = ('X-Proxy-Secret' => $proxy_secret, 'X-Remote-User' => 'viewer');
{
    my $res = $ua->post($stack->url('/api/security/tokens') => { %proxy, 'X-Remote-User' => 'boss',
        'X-Remote-Roles' => 'admin' } => json => { name => 'report admin' })->result;
    die 'admin token: ' . $res->code . ' ' . $res->body unless $res->code == 200;
    $stack->{admin} = { token => $res->json->{token} };
}
my $auth = $stack->token_headers;
my $path = '/api/admin/reports/generate';
my $get = sub {
    my ($query, $headers) = @_;
    return $ua->get($stack->url("$path?$query") => ($headers // $auth))->result;
};

# --- seed: ten minutes of samples, one a minute, ending five minutes ago -------------------
my $now = time;
my $base = floor($now / 60) * 60 - 15 * 60;
my %series = (cpu => [map { [$_, 10 + $_] } 0 .. 9],
    memory => [map { [$_, 50 + 0.5 * $_] } grep { $_ != 5 } 0 .. 9],
    netin => [map { [$_, 1000 * $_] } grep { $_ % 2 == 0 } 0 .. 9]);
my %storage = (used => [map { [$_, 1536 * ($_ + 1)] } 0 .. 3],
    total => [map { [$_, 3 * 1024**3] } 0 .. 3], avail => [map { [$_, 500] } 0 .. 3]);
sub seed {
    my ($type, $id, $name, $data) = @_;
    for my $metric (sort keys %$data) {
        my $sid = $stack->psql(qq{INSERT INTO pulse.metric_series (resource_type, resource_id, metric, resource_name)
            VALUES ('$type', '$id', '$metric', '$name') RETURNING id});
        my $rows = join ",\n", map {
            my $ts = $base + 60 * $_->[0];
            "(to_timestamp($ts), $sid / 200, pulse.metric_pack(array_fill(NULL::float8, ARRAY[$sid % 200]) || $_->[1]::float8))"
        } @{ $data->{$metric} };
        $stack->psql(qq{INSERT INTO pulse.metric_raw (ts, blk, vals) VALUES $rows
            ON CONFLICT (blk, ts) DO UPDATE SET vals = pulse.metric_merge(pulse.metric_raw.vals, EXCLUDED.vals)});
    }
}
$stack->psql(qq{SELECT count(pulse.metric_partition_ensure('raw', to_timestamp(t)))
    FROM generate_series($base - 3600, $base + 3600, 1800) t});
seed('vm', 'synthetic:rep:1', 'report-vm', \%series);
seed('storage', 'synthetic:rep:st', 'report-store', \%storage);

my $rfc = sub { strftime('%Y-%m-%dT%H:%M:%SZ', gmtime $_[0]) };
my ($start, $end) = ($rfc->($base - 60), $rfc->($base + 20 * 60));
my $window = 'start=' . url_escape($start) . '&end=' . url_escape($end);
my $vm = "resourceType=vm&resourceId=synthetic:rep:1&$window";

# --- the licence gate, then credentials, admin and scope -----------------------------------
my $res = $get->("$vm&format=csv");
is($res->code, 402, 'without the licence: 402');
is($res->json->{error}, 'license_required', 'without the licence: license_required');
is($res->json->{feature}, 'advanced_reporting', 'without the licence: the feature named');
$stack->activate_licence;
json_error_ok($get->("$vm&format=csv", {}), 401, 'unauthorized', 'no credentials');
my $r403 = json_error_ok($get->("$vm&format=csv", { %proxy, 'X-Remote-Roles' => 'viewer' }), 403,
    'forbidden', 'a user who is not an admin');
is($get->("$vm&format=csv", { %proxy, 'X-Remote-User' => 'boss', 'X-Remote-Roles' => 'admin' })->code, 200,
    'a proxy admin: 200');
my $monitor = $stack->agent_token('monitor', 'monitoring:read');
json_error_ok($get->("$vm&format=csv", $monitor->{headers}), 403, 'missing_scope',
    'a token without settings:read');
my $reader = $stack->agent_token('reader', 'settings:read');
is($get->("$vm&format=csv", $reader->{headers})->code, 200, 'a token with settings:read: 200');

# --- CSV -------------------------------------------------------------------------------------
$res = $get->("$vm&format=csv&title=" . url_escape('Lab, weekly "ops"'));
is($res->code, 200, 'CSV: 200');
is($res->headers->content_type, 'text/csv', 'CSV: text/csv');
like($res->headers->content_disposition // '',
    qr/^attachment; filename="report-synthetic_rep_1-\d{8}\.csv"$/, 'CSV: Content-Disposition');
my @lines = split /\n/, $res->body, -1;
pop @lines if @lines && $lines[-1] eq '';
is_deeply([@lines[0 .. 4]], ['# Pulse Metrics Report', '# Title:,"Lab, weekly ""ops"""',
    '# Resource Type:,Virtual Machine', '# Resource ID:,synthetic:rep:1', "# Period:,$start to $end"],
    'CSV: the heading rows (title quoted)');
like($lines[5], qr/^# Generated:,\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'CSV: generated');
my $total = sum(map { scalar @$_ } values %series);
is($lines[6], "# Total Data Points:,$total", "CSV: $total data points");
is_deeply([@lines[7 .. 9]], ['', '# SUMMARY', 'Metric,Count,Min,Max,Average,Current,Unit'], 'CSV: summary header');
my %display = (cpu => ['CPU Usage', '%'], memory => ['Memory Usage', '%'], netin => ['netin', '']);
my @keys = sort keys %series;
my $i = 10;
for my $m (@keys) {
    my @v = map { $_->[1] } @{ $series{$m} };
    my $want = join ',', $display{$m}[0], scalar @v,
        (map { sprintf '%.2f', $_ } min(@v), max(@v), sum(@v) / @v, $v[-1]), $display{$m}[1];
    is($lines[$i++], $want, "CSV summary: $m");
}
is_deeply([@lines[$i .. $i + 2]], ['', '# DATA', 'Timestamp,CPU Usage (%),Memory Usage (%),netin'],
    'CSV: data header');
$i += 3;
my @rows = @lines[$i .. $#lines];
is(scalar @rows, 10, 'CSV: a row per distinct second');
for my $k (0 .. 9) {
    my @cells = map {
        my ($p) = grep { $_->[0] == $k } @{ $series{$_} };
        defined $p ? sprintf('%.2f', $p->[1]) : '';
    } @keys;
    is($rows[$k], join(',', $rfc->($base + 60 * $k), @cells), "CSV row $k");
}

# One metric alone; bytes shown in binary units in the summary, raw in the rows.
$res = $get->("resourceType=storage&resourceId=synthetic:rep:st&metricType=used&format=csv&$window");
is($res->code, 200, 'CSV, one metric: 200');
like($res->body, qr/^Used Space,4,1\.50 KiB,6\.00 KiB,3\.75 KiB,6\.00 KiB,bytes$/m, 'CSV: bytes in binary units');
like($res->body, qr/^Timestamp,Used Space \(bytes\)$/m, 'CSV: only the metric asked for');
like($res->body, qr/,6144\.00$/m, 'CSV rows: raw numbers for bytes');
$res = $get->("resourceType=storage&resourceId=synthetic:rep:st&format=csv&$window");
like($res->body, qr/^Available Space,4,500 B,500 B,500 B,500 B,bytes$/m, 'CSV: below 1 KiB in bytes');
like($res->body, qr/^Total Space,4,3\.00 GiB,/m, 'CSV: GiB');
like($res->body, qr/^# Resource Type:,Storage$/m, 'CSV: the storage display name');

# A resource without samples: the header and an empty summary (as the original).
$res = $get->("resourceType=vm&resourceId=nothing-here&format=csv&$window");
is($res->code, 200, 'no samples: 200');
like($res->body, qr/# Total Data Points:,0\n\n# SUMMARY\nMetric,Count,Min,Max,Average,Current,Unit\n\n# DATA\nTimestamp\n$/,
    'no samples: an empty summary and no rows');

# Thirty days: a rolled-up tier's buckets (the samples not rolled up yet come from below).
$res = $get->("resourceType=vm&resourceId=synthetic:rep:1&metricType=cpu&format=csv&start="
    . url_escape($rfc->($now - 30 * 86400)) . '&end=' . url_escape($rfc->($now)));
is($res->code, 200, '30 days: 200');
my ($n30, $min30, $max30) = $res->body =~ /^CPU Usage,(\d+),([\d.]+),([\d.]+),/m;
ok(defined $n30 && $n30 >= 1 && $n30 <= 2, '30 days: day buckets (' . ($n30 // 'none') . ')');
ok(defined $min30 && $min30 >= 10 && $max30 <= 19, "30 days: bucket averages within the samples ($min30 .. $max30)");

# The defaults: the last 24 hours, PDF.
$res = $get->('resourceType=vm&resourceId=synthetic:rep:1');
is($res->code, 200, 'defaults: 200');
is($res->headers->content_type, 'application/pdf', 'defaults: a PDF');

# --- PDF -------------------------------------------------------------------------------------
$res = $get->("$vm&format=pdf&title=" . url_escape('Quarterly lab report'));
is($res->code, 200, 'PDF: 200');
is($res->headers->content_type, 'application/pdf', 'PDF: application/pdf');
like($res->headers->content_disposition // '', qr/filename="report-synthetic_rep_1-\d{8}\.pdf"/, 'PDF: file name');
like($res->body, qr/^%PDF-1\.\d/, 'PDF: a PDF header');
my $dir = tempdir(CLEANUP => 1);
{
    open my $fh, '>:raw', "$dir/r.pdf" or die;
    print {$fh} $res->body;
    close $fh;
}
is(system('pdftoppm', '-r', '40', '-png', "$dir/r.pdf", "$dir/page"), 0, 'pdftoppm reads it');
my @pngs = glob "$dir/page*.png";
ok(@pngs >= 1, scalar(@pngs) . ' PNG pages');
my $png_ok = 1;
for my $png (@pngs) {
    open my $fh, '<:raw', $png or die;
    read $fh, my $magic, 8;
    $png_ok &&= $magic eq "\x89PNG\r\n\x1a\n" && -s $png > 1000;
}
ok($png_ok, 'every page a PNG with content');
is(system('pdftotext', '-layout', "$dir/r.pdf", "$dir/r.txt"), 0, 'pdftotext reads it');
my $text = do { local $/; open my $fh, '<:encoding(UTF-8)', "$dir/r.txt" or die; <$fh> };
like($text, qr/Pulse Metrics Report/, 'PDF text: the heading');
like($text, qr/Quarterly lab report/, 'PDF text: the title');
like($text, qr/synthetic:rep:1/, 'PDF text: the resource id');
like($text, qr/Virtual Machine/, 'PDF text: the resource type');
like($text, qr/Data Points:\s+$total\b/, "PDF text: $total data points");
like($text, qr/CPU Usage\s+10\s+10\.00\s+19\.00\s+14\.50\s+19\.00\s+%/, 'PDF text: the CPU summary row');
like($text, qr/Memory Usage\s+9\s+50\.00\s+54\.50\s+52\.22\s+54\.50\s+%/, 'PDF text: the memory summary row');
like($text, qr/CPU Usage \(%\)/, 'PDF text: a chart title');
like($text, qr/Data Sample/, 'PDF text: the data sample');
like($text, qr/Generated by Pulse - \d{4}-/, 'PDF text: the footer');
my $fonts = qx{pdffonts '$dir/r.pdf' 2>/dev/null};
like($fonts, qr/TrueType|Type 1|CID/, 'PDF: text set in embedded fonts, not an image');

# --- bad input: 400 JSON ---------------------------------------------------------------------
my @bad = (
    ['resourceType=vm', 'missing_parameters', 'no resourceId', qr/^resourceType and resourceId are required$/],
    ['resourceId=x', 'missing_parameters', 'no resourceType', qr/^resourceType and resourceId are required$/],
    ["resourceType=planet&resourceId=x", 'invalid_resource_type', 'unknown resource type', qr/planet/],
    ["$vm&metricType=happiness", 'invalid_metric', 'unknown metric', qr/happiness/],
    ["$vm&format=docx", 'unsupported_format', 'unknown format', qr/^Failed to generate report: unsupported format: docx$/],
    ['resourceType=vm&resourceId=x&start=yesterday', 'invalid_time', 'bad start', qr/RFC 3339/],
    ['resourceType=vm&resourceId=x&end=2026-13-45T00:00:00Z', 'invalid_time', 'bad end', qr/RFC 3339/],
    ['resourceType=vm&resourceId=x&start=' . url_escape($end) . '&end=' . url_escape($start), 'invalid_range',
        'end before start', qr/^end must be after start$/],
    ['resourceType=vm&resourceId=x&start=1900-01-01T00:00:00Z&end=2026-01-01T00:00:00Z', 'range_too_large',
        'an absurd range', qr/^Report range too large: at most 3650 days$/],
    ["$vm&title=" . ('t' x 300), 'invalid_title', 'a title too long', qr/256/],
    ['resourceType=vm&resourceId=%FFbad', 'invalid_encoding', 'an id that is not UTF-8', qr/UTF-8/],
    ["$vm&title=%C3%28", 'invalid_encoding', 'a title that is not UTF-8', qr/UTF-8/],
    ["$vm&title=%ED%A0%80", 'invalid_encoding', 'a title with a surrogate', qr/UTF-8/],
);
for my $case (@bad) {
    my ($q, $code, $name, $msg) = @$case;
    my $err = json_error_ok($get->($q), 400, $code, $name);
    like($err->{error} // '', $msg, "$name: the message");
}

# Too many points: bounded with a 400 before they are read, not a responder grown without
# limit. The raw tier's retention is made three days (before the samples go in, so that the
# worker keeps them); a node with all eleven metrics gets 18,182 samples of each, a second
# apart: 200,002 points, ending before the samples above.
$stack->psql(q{UPDATE pulse.metric_tiers SET retention = interval '3 days' WHERE tier = 'raw'});
$stack->psql(q{CREATE TABLE big_ids AS WITH i AS (
        INSERT INTO pulse.metric_series (resource_type, resource_id, metric, resource_name)
        SELECT 'node', 'synthetic:rep:big', m, 'big'
        FROM unnest(ARRAY['cpu', 'memory', 'disk', 'diskread', 'diskwrite', 'netin', 'netout', 'usage',
                          'used', 'total', 'avail']) m RETURNING id)
    SELECT id FROM i});
my ($t0, $t1) = ($base - 100 - 18_182, $base - 100);
$stack->psql(qq{SELECT count(pulse.metric_partition_ensure('raw', to_timestamp(t)))
    FROM generate_series($t0 - 3600, $t1 + 3600, 1800) t});
$stack->psql(qq{INSERT INTO pulse.metric_raw (ts, blk, vals)
    SELECT to_timestamp($t0 + k), b.blk, b.vals
    FROM (SELECT blk, pulse.metric_pack(array_agg(CASE WHEN s IN (SELECT id FROM big_ids) THEN 42::float8 END
                                                  ORDER BY s)) AS vals
          FROM (SELECT DISTINCT id / 200 AS blk FROM big_ids) x,
               generate_series(blk * 200, (SELECT max(id) FROM big_ids WHERE id / 200 = x.blk)) s
          GROUP BY blk) b,
         generate_series(0, 18181) k
    ON CONFLICT (blk, ts) DO UPDATE SET vals = pulse.metric_merge(pulse.metric_raw.vals, EXCLUDED.vals);
    DROP TABLE big_ids});
my $err = json_error_ok($get->('resourceType=node&resourceId=synthetic:rep:big&format=csv&start='
    . url_escape($rfc->($t0 - 1)) . '&end=' . url_escape($rfc->($t1))), 400, 'report_too_large',
    'too many points');
like($err->{error} // '', qr/^Report too large: up to 200002 data points in the range \(at most 200000\): /,
    'too many points: counted before reading');
# One metric of it is 18,182 points: a report.
$res = $get->('resourceType=node&resourceId=synthetic:rep:big&metricType=used&format=csv&start='
    . url_escape($rfc->($t0 - 1)) . '&end=' . url_escape($rfc->($t1)));
is($res->code, 200, 'one metric of it: 200');
like($res->body, qr/^# Total Data Points:,18182$/m, 'one metric of it: 18,182 points');
$stack->psql(q{UPDATE pulse.metric_tiers SET retention = interval '2 hours' WHERE tier = 'raw'});
# A rolled-up tier is bounded by its buckets: an hour tier kept ten years, 3,000 days of it
# for three metrics is 3 x (72,000 + 1 or 2) buckets, refused before anything is read.
$stack->psql(q{UPDATE pulse.metric_tiers SET retention = interval '3650 days' WHERE tier = 'hour'});
$err = json_error_ok($get->('resourceType=vm&resourceId=synthetic:rep:1&format=csv&start='
    . url_escape($rfc->($now - 3000 * 86400)) . '&end=' . url_escape($rfc->($now))), 400, 'report_too_large',
    'too many buckets');
like($err->{error} // '', qr/^Report too large: up to 21600[3-6] data points/,
    'too many buckets: their count (3 x 72,001, a bucket more where the window is cut)');
$stack->psql(q{UPDATE pulse.metric_tiers SET retention = interval '7 days' WHERE tier = 'hour'});

ok($stack->alive("fcgi-$_"), "responder $_ alive") for 1 .. ($stack->{responders} // 1);
done_testing;
