# SmtpSink.pm: t/fakes/smtp-sink.py for the API tests: its own test CA and a certificate
# for 127.0.0.1 signed by it, three ports (plain, STARTTLS, implicit TLS), the messages it
# accepted, and refusals on request. Started through a PulseStack, so it stops with it.
package SmtpSink;
use strict;
use warnings;
use Carp;
use File::Path qw(make_path remove_tree);
use Mojo::JSON qw(decode_json);
use MIME::Base64 qw(decode_base64);
use PulseStack;

our $USER = 'pulse';
our $PASSWORD = 'pulse-smtp-pw';

# Options: dir (where the CA, certificate and messages go; required), name. Makes the CA
# and the certificate at once, so that ca_file can go into the stack's settings before the
# stack starts.
sub new {
    my ($class, %o) = @_;
    my $self = bless { name => 'smtp', %o }, $class;
    croak 'dir required' unless $self->{dir};
    make_path("$self->{dir}/messages");
    $self->_make_certs;
    $self->{$_} = PulseStack::free_port() for qw(plain_port starttls_port tls_port);
    return $self;
}

sub ca_file       { "$_[0]{dir}/ca.crt" }
sub plain_port    { $_[0]{plain_port} }
sub starttls_port { $_[0]{starttls_port} }
sub tls_port      { $_[0]{tls_port} }

sub _openssl {
    my @cmd = @_;
    my $out = qx{openssl @cmd 2>&1};
    croak "openssl @cmd: $out" if $?;
}

sub _make_certs {
    my $self = shift;
    my $d = $self->{dir};
    return if -f "$d/server.crt";
    _openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
        '-nodes', '-days', '2', '-subj', "/CN=$self->{name}-test-ca", '-keyout', "$d/ca.key",
        '-out', "$d/ca.crt");
    _openssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
        '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', "$d/server.key", '-out', "$d/server.csr");
    open my $fh, '>', "$d/ext.cnf" or croak $!;
    print {$fh} "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n";
    close $fh;
    _openssl('x509', '-req', '-in', "$d/server.csr", '-CA', "$d/ca.crt", '-CAkey', "$d/ca.key",
        '-CAcreateserial', '-days', '2', '-extfile', "$d/ext.cnf", '-out', "$d/server.crt");
}

# Starts the sink as a program of $stack (after $stack->start).
sub start {
    my ($self, $stack) = @_;
    $self->{stack} = $stack;
    my $d = $self->{dir};
    $stack->spawn("smtp-$self->{name}", {}, PulseStack::srcdir() . '/t/fakes/smtp-sink.py',
        '--dir', "$d/messages", '--plain-port', $self->{plain_port}, '--starttls-port',
        $self->{starttls_port}, '--tls-port', $self->{tls_port}, '--cert', "$d/server.crt",
        '--key', "$d/server.key", '--user', $USER, '--password', $PASSWORD, '--control',
        "$d/refuse");
    $stack->wait_for(sub { PulseStack::_port_open($self->{tls_port}) }, 20,
        "smtp sink $self->{name}", "smtp-$self->{name}");
    return $self;
}

# The next $n MAIL commands are answered $code.
sub refuse {
    my ($self, $n, $code) = @_;
    open my $fh, '>', "$self->{dir}/refuse" or croak $!;
    print {$fh} "$n $code\n";
    close $fh;
}

# The accepted messages, oldest first: hashes with mail_from, rcpt_tos, auth_user, port and
# data (the raw message).
sub messages {
    my $self = shift;
    my @files = sort { ($a =~ /(\d+)\.json$/)[0] <=> ($b =~ /(\d+)\.json$/)[0] }
        glob "$self->{dir}/messages/*.json";
    return map {
        open my $fh, '<', $_ or croak $!;
        local $/;
        decode_json(scalar <$fh>);
    } @files;
}

sub clear { unlink glob "$_[0]{dir}/messages/*.json" }

# Waits up to $timeout seconds for $n messages; returns them.
sub wait_messages {
    my ($self, $n, $timeout) = @_;
    my $deadline = time + ($timeout // 10);
    my @m;
    while (1) {
        @m = $self->messages;
        last if @m >= $n || time > $deadline;
        select undef, undef, undef, 0.1;
    }
    return @m;
}

# A raw message taken apart: { headers => { lower-case name => value (unfolded) },
# parts => [ { type => 'text/plain', body => decoded } ... ] }.
sub parse_message {
    my ($raw) = @_;
    my ($head, $body) = split /\r?\n\r?\n/, $raw, 2;
    $head =~ s/\r?\n[ \t]+/ /g;
    my %h;
    for my $line (split /\r?\n/, $head) {
        my ($k, $v) = $line =~ /^([^:]+):\s*(.*)$/ or next;
        $h{lc $k} = $v;
    }
    my @parts;
    if (($h{'content-type'} // '') =~ /boundary="([^"]+)"/) {
        my $b = $1;
        for my $p (split /--\Q$b\E(?:--)?\r?\n/, $body) {
            my ($ph, $pb) = split /\r?\n\r?\n/, $p, 2;
            next unless defined $pb && $ph =~ m{Content-Type:\s*([\w/]+)}i;
            my $type = $1;
            $pb = decode_base64($pb) if $ph =~ /Content-Transfer-Encoding:\s*base64/i;
            push @parts, { type => $type, head => $ph, body => $pb };
        }
    }
    return { headers => \%h, parts => \@parts };
}

1;
