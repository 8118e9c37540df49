package ProxmoxSim;
# ProxmoxSim.pm: the plumbing the Proxmox simulators in t/fakes/ (pve-sim.pl, pbs-sim.pl,
# pmg-sim.pl) share; each simulator keeps only its data.
#
# A simulator makes one object for its product, then hands it its Mojolicious::Lite app and
# the function that answers a path:
#
#   my %opt = (seed => 1);
#   my $sim = ProxmoxSim->new('PBS', \%opt, 'seed=s');    # parses @ARGV into %opt
#   my $mode = $sim->mode;                                  # the test control mode, live
#   ...
#   $sim->serve(app, marker => 'synthetic (...)', answer => \&generated, writes => \&writes);
#
# Options every simulator takes: --listen URL (https://127.0.0.1:8006, 8007 for PBS),
# --cert FILE --key FILE (TLS), --token 'user@realm!id=secret' (PVE) or
# 'user@realm!id:secret' (PBS, PMG), --password 'user@realm:password'.
#
# Authentication, named after the product P (PVE, PBS or PMG): with --token the header
# `Authorization: PAPIToken=<token>` is required; with --password a ticket from
# POST /api2/json/access/ticket (form or JSON body: username, password), sent back as the
# cookie `PAuthCookie` (URL-encoded or not), and for a request other than GET also the
# header CSRFPreventionToken the login answered; with neither, everything is open.
# Failing auth answers 401.
#
# The API is served under /api2/json. answer($c, $path) answers a GET: a Perl value (sent
# as {"data": value}), refusal(status, message) (an error answer as the product words it),
# verbatim(status, body) (a whole body, e.g. a recording) or nothing (404). A request with
# another method goes to writes($c, $path), which answers the same way, or nothing for a
# write the simulator does not carry out (501, "not implemented"); a write is carried out
# whatever the fault mode, which is for what a poller reads.
#
# Test control, on the same port and without authentication:
#   POST /__sim/mode {"mode":M,"delay":seconds,"node":name,"path":path,"mb":megabytes}
#     answers the mode now in force. The modes done here: normal; slow (every answer after
#     delay seconds); error (500 "simulated failure"); truncated (the first half of the
#     body); garbage (HTML-ish bytes, not JSON); huge (a body of 7,000,000 items, hundreds of
#     megabytes); amplify (the answer to "path" only is {"data":[{},{},...]} of "mb"
#     megabytes, a body that costs a JSON library hundreds of times its size); evil-ticket
#     and evil-csrf (a password login answers a ticket or CSRF token that carries
#     "\r\nX-Injected: 1"). Any other mode (offline-node, ...) means what the simulator's
#     own answers make of it; here it is the normal one.
#   GET /__sim/stats {"requests":N,"by_path":{path:N},"injected":N}: API requests counted,
#     and the requests of any kind that arrived with an X-Injected header.
use Mojo::Base -strict, -signatures;
use Exporter qw(import);
use Getopt::Long qw(GetOptions);
use JSON::PP;
use Mojo::IOLoop;
use Time::HiRes qw(time);

our @EXPORT_OK = qw(refusal verbatim);

# What the products do differently. PVE is a Perl server: an error's reason phrase repeats
# its message, the message ends in a newline, a 401 carries no message, and our replays
# answer an unrecorded path as {"errors": {"path": ...}}. The PBS and PMG simulators answer
# as PBS does. huge: the item a "huge" body repeats, shaped like the product's answers.
my %PRODUCT = (
    PVE => { port => 8006, perl_errors => 1, huge => '{"node":"x"}' },
    PBS => { port => 8007, perl_errors => 0, huge => '{"store":"x"}' },
    PMG => { port => 8006, perl_errors => 0, huge => '{"count":"1"}' },
);

my $INJECTED = "\r\nX-Injected: 1";

# An error answer of answer() or writes(): the HTTP status and the product's message.
sub refusal ($status, $message) { bless { status => $status, message => $message }, 'ProxmoxSim::Refusal' }

# A whole answer of answer() or writes(): the HTTP status and the body to encode as it is.
sub verbatim ($status, $body) { bless { status => $status, body => $body }, 'ProxmoxSim::Verbatim' }

# Parses the options of @ARGV into %$opt: the common ones above and spec (Getopt::Long
# specifications) of the simulator's own. Dies on a bad option or an unknown product.
sub new ($class, $product, $opt, @spec) {
    my $p = $PRODUCT{$product} or die "unknown product $product\n";
    GetOptions($opt, 'listen=s', 'cert=s', 'key=s', 'token=s', 'password=s', @spec) or die "bad options\n";
    return bless { %$p, product => $product, opt => $opt, json => JSON::PP->new->canonical,
        mode => { mode => 'normal', delay => 0, node => '', path => '', mb => 0 },
        stats => { requests => 0, by_path => {}, injected => 0 },
        tickets => {},    # ticket handed out => its CSRF token
    }, $class;
}

# The test control mode in force (a hash the simulator may read at any time; POST
# /__sim/mode changes its contents, never the hash).
sub mode ($self) { $self->{mode} }

# Adds the routes to app (after the simulator's own), then runs it as a daemon on --listen:
# never returns. how: answer, writes (see above), marker (a value for an X-Pulse-Sim header
# on every answer, saying where the data comes from).
sub serve ($self, $app, %how) {
    @$self{qw(answer writes)} = @how{qw(answer writes)};
    my $marker = $how{marker};
    $app->hook(before_dispatch => sub ($c) {
        $c->res->headers->header('X-Pulse-Sim' => $marker) if defined $marker;
        $self->{stats}{injected}++ if defined $c->req->headers->header('X-Injected');
    });
    my $r = $app->routes;
    $r->post('/api2/json/access/ticket' => sub ($c) { $self->login($c) });
    $r->post('/__sim/mode' => sub ($c) { $self->set_mode($c) });
    $r->get('/__sim/stats' => sub ($c) { $c->render(json => $self->{stats}) });
    $r->any('/api2/json/*rest' => sub ($c) { $self->api($c) });
    $app->log->level('warn');
    my $opt = $self->{opt};
    my $listen = $opt->{listen} // "https://127.0.0.1:$self->{port}";
    $listen .= ($listen =~ /\?/ ? '&' : '?') . "cert=$opt->{cert}&key=$opt->{key}" if $opt->{cert};
    $app->start('daemon', '-l', $listen);
}

sub set_mode ($self, $c) {
    my $m = $c->req->json // {};
    %{ $self->{mode} } = (mode => $m->{mode} // 'normal', delay => $m->{delay} // 0, node => $m->{node} // '',
        path => $m->{path} // '', mb => $m->{mb} // 0);
    $c->render(json => $self->{mode});
}

# --- authentication -----------------------------------------------------------------------

# A 401, with message where the product words one.
sub deny ($self, $c, $message) {
    $c->render(status => 401, json => { data => undef, $self->{perl_errors} ? () : (message => $message) });
}

sub random_string ($length, @alphabet) { join '', map { $alphabet[rand @alphabet] } 1 .. $length }

sub login ($self, $c) {
    my $opt = $self->{opt};
    my ($user, $pass) = split /:/, $opt->{password} // '', 2;
    my $p = ($c->req->headers->content_type // '') =~ m{^application/json} ? ($c->req->json // {})
        : $c->req->params->to_hash;
    $p = {} unless ref $p eq 'HASH';
    return $self->deny($c, 'authentication failure')
        if !$opt->{password} || ($p->{username} // '') ne $user || ($p->{password} // '') ne $pass;
    my $stamp = sprintf '%08X', int time;
    my $ticket = "$self->{product}:$user:$stamp\::" . random_string(43, 'A' .. 'Z', 'a' .. 'z', 0 .. 9);
    my $csrf = "$stamp:" . random_string(27, 'A' .. 'Z', 0 .. 9);
    $self->{tickets}{$ticket} = $csrf;
    # What is handed out may be poisoned; what is checked stays the clean value.
    $ticket .= $INJECTED if $self->{mode}{mode} eq 'evil-ticket';
    $csrf .= $INJECTED if $self->{mode}{mode} eq 'evil-csrf';
    $c->render(json => { data => { ticket => $ticket, CSRFPreventionToken => $csrf, username => $user } });
}

# The ticket of the request's cookie when this simulator handed it out, else nothing.
sub cookie_ticket ($self, $c) {
    my $cookie = $c->req->cookie("$self->{product}AuthCookie") or return;
    (my $v = $cookie->value) =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge;
    return exists $self->{tickets}{$v} ? $v : undef;
}

sub authorised ($self, $c) {
    my $opt = $self->{opt};
    my $auth = $c->req->headers->authorization // '';
    return 1 if $opt->{token} && $auth eq "$self->{product}APIToken=$opt->{token}";
    if ($opt->{password} && (my $t = $self->cookie_ticket($c))) {
        return 1 if $c->req->method eq 'GET'
            || ($c->req->headers->header('CSRFPreventionToken') // '') eq $self->{tickets}{$t};
    }
    return !$opt->{token} && !$opt->{password};
}

# --- the API --------------------------------------------------------------------------------

sub api ($self, $c) {
    my $path = '/' . $c->stash('rest');
    my $method = $c->req->method;
    $self->{stats}{requests}++;
    $self->{stats}{by_path}{$path}++;
    return $self->deny($c, 'authentication failed - no valid credentials') unless $self->authorised($c);
    if ($method ne 'GET') {
        my $d = $self->{writes} ? $self->{writes}->($c, $path) : undef;
        return $self->reply($c, $path, $d, 'normal') if defined $d;
        return $c->render(status => 501, json => { data => undef, message => "Method '$method $path' not implemented" });
    }
    my $m = $self->{mode}{mode};
    my $answer = sub {
        return $c->render(status => 500, json => { data => undef, message => 'simulated failure' }) if $m eq 'error';
        $self->reply($c, $path, scalar $self->{answer}->($c, $path), $m);
    };
    if ($m eq 'slow' && $self->{mode}{delay} > 0) {
        $c->render_later;
        Mojo::IOLoop->timer($self->{mode}{delay} => $answer);
        return;
    }
    $answer->();
}

# Renders what answer() or writes() gave for path ($d: see above), spoilt as mode m says.
sub reply ($self, $c, $path, $d, $m) {
    if (!defined $d) {
        return $c->render(status => 404, json => { data => undef, $self->{perl_errors}
            ? (errors => { path => 'not recorded' }) : (message => "Path '/api2/json$path' not found.") });
    }
    if (ref $d eq 'ProxmoxSim::Refusal') {
        my $message = $d->{message};
        if ($self->{perl_errors}) {
            $c->res->message($message);
            $message .= "\n";
        }
        return $c->render(status => $d->{status}, json => { data => undef, message => $message });
    }
    my ($status, $data) = ref $d eq 'ProxmoxSim::Verbatim' ? @$d{qw(status body)} : (200, { data => $d });
    my $body = $self->{json}->encode($data);
    if ($m eq 'truncated') { $body = substr($body, 0, int(length($body) / 2)) }
    elsif ($m eq 'garbage') { $body = "<html>\x00\xff not json {{{" }
    elsif ($m eq 'huge') { $body = '{"data":[' . join(',', ($self->{huge}) x 7_000_000) . ']}' }
    elsif ($m eq 'amplify' && $path eq $self->{mode}{path}) {
        $body = '{"data":[' . join(',', ('{}') x int($self->{mode}{mb} * 1e6 / 3)) . ']}';
    }
    $c->res->headers->content_type('application/json;charset=UTF-8');
    $c->render(status => $status, data => $body);
}

1;
