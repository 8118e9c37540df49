package PulseTest;
# PulseTest.pm: assertions shared by the API tests.

use strict;
use warnings;
use Exporter 'import';
use Mojo::JSON qw(decode_json);
use Test::More;

our @EXPORT = qw(json_error_ok json_body security_headers_ok no_secret_in_logs top_level_keys
    decode_errors_ok);

# The body of a response as JSON, or undef (with a failed test) when it is not JSON.
sub json_body {
    my ($res, $name) = @_;
    my $data = eval { decode_json($res->body) };
    ok(defined $data, ($name // 'body') . ' is JSON') or diag('body: ' . substr($res->body, 0, 300));
    return $data;
}

# An error answer: the status, a JSON content type, and the structured body with a stable
# code, the status repeated and a timestamp (nginx's own error pages carry no timestamp).
sub json_error_ok {
    my ($res, $status, $code, $name, %opt) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    is($res->code, $status, "$name: status $status");
    like($res->headers->content_type // '', qr{^application/json}, "$name: JSON content type");
    my $data = eval { decode_json($res->body) } // {};
    is($data->{code}, $code, "$name: code $code");
    ok(defined $data->{error} && length $data->{error}, "$name: has an error message");
    is($data->{status_code}, $status, "$name: status_code");
    like($data->{timestamp} // '', qr/^\d{10}$/, "$name: timestamp in unix seconds")
        unless $opt{no_timestamp};
    return $data;
}

# No secret of the list appears in any log line of the stack (responders, worker, nginx,
# PostgreSQL).
sub no_secret_in_logs {
    my ($stack, @secrets) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $logs = $stack->log_text;
    ok(length $logs > 0, 'the logs were read');
    for my $s (grep { defined && length >= 8 } @secrets) {
        my $shown = substr($s, 0, 4) . '...';
        ok(index($logs, $s) < 0, "secret $shown appears in no log line");
    }
}

# The keys of a JSON object's top level, in the order they appear in the text.
sub top_level_keys {
    my $text = shift;
    my ($depth, $in_string, $escape, @keys, $start) = (0, 0, 0);
    for my $i (0 .. length($text) - 1) {
        my $c = substr($text, $i, 1);
        if ($in_string) {
            if ($escape) { $escape = 0 }
            elsif ($c eq '\\') { $escape = 1 }
            elsif ($c eq '"') {
                $in_string = 0;
                push @keys, substr($text, $start, $i - $start) if $depth == 1 && substr($text, $i + 1) =~ /^\s*:/;
            }
            next;
        }
        if ($c eq '"') { $in_string = 1; $start = $i + 1 }
        elsif ($c eq '{' || $c eq '[') { $depth++ }
        elsif ($c eq '}' || $c eq ']') { $depth-- }
    }
    return @keys;
}

sub security_headers_ok {
    my ($res, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $h = $res->headers;
    is($h->header('X-Content-Type-Options'), 'nosniff', "$name: X-Content-Type-Options");
    is($h->header('X-Frame-Options'), 'DENY', "$name: X-Frame-Options");
    like($h->header('Content-Security-Policy') // '', qr/frame-ancestors 'none'/, "$name: frame-ancestors");
    is($h->header('Referrer-Policy'), 'strict-origin-when-cross-origin', "$name: Referrer-Policy");
}

# An agent report's decode errors: each case is [text, name] (the body as is) or [sub, name]
# (the sub changes a deep copy of $example); $post->($body) sends it. Each must be 400
# invalid_json, the changed ones with the decoder's message in details.error.
sub decode_errors_ok {
    my ($post, $example, @cases) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    for my $case (@cases) {
        my ($change, $name) = @$case;
        my $body = $change;
        if (ref $change) { $body = decode_json(Mojo::JSON::encode_json($example)); $change->($body) }
        my $err = json_error_ok($post->($body), 400, 'invalid_json', $name);
        ok(length($err->{details}{error} // ''), "$name: the decoder's message in details.error")
            if ref $change;
    }
}

1;
