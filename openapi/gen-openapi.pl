#!/usr/bin/perl
# gen-openapi.pl: writes the OpenAPI 3.1 document of every route. The route table comes from
# `pulse-fcgi --list-routes` (its protection: credentials, admin, scope, rate class, body
# limit, licence feature); what a route takes and answers comes from openapi/paths/*.json
# (one file per block of fcgi/routes.c, edited by hand) and openapi/base.json (shared
# parts); the object kinds the original's web client reads (t/contract/*-contract.json, with
# the allowed differences of t/contract/allowlist.json) become components/schemas as they are.
#
#   gen-openapi.pl --routes routes.jsonl --srcdir DIR [--version V] > openapi.json
#
# A route of the table without an operation in the path files still gets one, from the table
# alone, marked x-pulse-undocumented; an operation that names no route is kept, marked
# x-pulse-no-route. Both are warned about here and fail t/api/89-openapi.t, so the document
# cannot drift from the table, yet a merge that adds a route does not break the build.
use strict;
use warnings;
use Getopt::Long;
use JSON::PP;

my ($routes_file, $srcdir, $version) = ('', '.', '');
GetOptions('routes=s' => \$routes_file, 'srcdir=s' => \$srcdir, 'version=s' => \$version)
    or die "usage: $0 --routes FILE --srcdir DIR [--version V]\n";
my $json = JSON::PP->new->utf8->canonical->pretty->relaxed(0);

sub slurp_json {
    my ($file) = @_;
    open my $fh, '<', $file or die "$file: $!\n";
    local $/;
    my $text = <$fh>;
    my $v = eval { JSON::PP->new->utf8->decode($text) };
    die "$file: $@" unless $v;
    return $v;
}

my $doc = slurp_json("$srcdir/openapi/base.json");
if (!$version && open my $vf, '<', "$srcdir/VERSION") {
    chomp($version = <$vf> // '');
}
$doc->{info}{version} = $version || 'unknown';
my $schemas = $doc->{components}{schemas} //= {};

# --- the contract's kinds as schemas ---

my (%kinds, %allowed);
for my $file (sort glob("$srcdir/t/contract/*-contract.json")) {
    my $c = slurp_json($file);
    delete $c->{_meta};
    $kinds{$_} = $c->{$_} for keys %$c;
}
my $allow = slurp_json("$srcdir/t/contract/allowlist.json");
$allowed{"$_->{kind}.$_->{field}.$_->{difference}"} = $_ for @{ $allow->{fields} };
# The allowlist says a field is extra, not its type: the types of our extra fields.
my $extra_types = slurp_json("$srcdir/openapi/contract-extra.json");

my %GO_MAP = ('map[string]string' => { type => 'string' }, 'map[string]bool' => { type => 'boolean' },
    'map[string]int' => { type => 'integer' }, 'map[string]float64' => { type => 'number' },
    'map[string]map[string]int' => { type => 'object', additionalProperties => { type => 'integer' } });

sub ref_to { { '$ref' => "#/components/schemas/$_[0]" } }

# The JSON Schema of one contract type; $f is the field (child_kind, go_type).
sub contract_type {
    my ($type, $f) = @_;
    my $child = $f->{child_kind} && $kinds{ $f->{child_kind} } ? $f->{child_kind} : undef;
    return {} if $type eq 'any';    # the original's interface{} / json.RawMessage: free
    return { type => 'string' } if $type eq 'string';
    return { type => 'string', format => 'date-time' } if $type eq 'string(RFC3339)';
    return { type => 'string', anyOf => [{ const => '' }, { format => 'date-time' }] }
        if $type eq 'string(RFC3339 or "")';
    return { type => $type } if $type =~ /^(boolean|integer|number)$/;
    if ($type =~ /^array(?:<(.*)>)?$/) {
        my $elem = $1;
        return { type => 'array' } unless defined $elem;    # the original's []any
        return { type => 'array', items => contract_type($elem, $f) };
    }
    if ($type =~ /^object:/) {
        return $child ? ref_to($child) : { type => 'object' };
    }
    if ($type eq 'object(map)') {
        my $go = $f->{go_type} // '';
        return { type => 'object', additionalProperties => { type => 'array', items => ref_to($child) } }
            if $child && $go =~ /^map\[string\]\[\]/;
        return { type => 'object', additionalProperties => ref_to($child) } if $child;
        return { type => 'object', additionalProperties => $GO_MAP{$go} } if $GO_MAP{$go};
        return { type => 'object' };    # a free map (map[string]any, metadata, labels)
    }
    die "contract type $type is not understood\n";
}

# Units the issue fixes where the contract only reports what the original happened to write
# (as t/lib/WireContract.pm): the bounds follow them.
my %UNIT_OVERRIDE = ('PBSInstance.cpu' => 'percent 0-100', 'CephPool.percentUsed' => 'percent 0-100');

# The bounds of a unit, as t/lib/WireContract.pm checks them, on a numeric schema (minimum and
# maximum leave null and other types alone).
sub unit_bounds {
    my ($s, $unit) = @_;
    my $t = ref $s->{type} ? '' : $s->{type} // '';
    return unless $t eq 'integer' || $t eq 'number';
    if ($unit =~ /^percent 0-100/) {
        @$s{qw(minimum maximum)} = ($unit =~ /-1 = unknown/ ? -1 : 0, 100);
    } elsif ($unit =~ /^fraction 0-1/) {
        @$s{qw(minimum maximum)} = (0, 1);
    } elsif ($unit =~ /^epoch-ms/) {
        $s->{anyOf} = [{ const => 0 }, { minimum => 1e11, maximum => 1e14 }];
    } elsif ($unit =~ /^epoch-seconds/) {
        $s->{anyOf} = [{ const => 0 }, { minimum => 1e8, maximum => 1e11 }];
    }
}

sub nullable {
    my ($s) = @_;
    return { anyOf => [$s, { type => 'null' }] } if !$s->{type} || ref $s->{type};
    return { %$s, type => [$s->{type}, 'null'] };
}

for my $kind (sort keys %kinds) {
    my $fields = $kinds{$kind};
    my (%props, @required, @conditions);
    for my $name (sort keys %$fields) {
        my $f = $fields->{$name};
        my $s;
        if (my $by = $f->{kind_by}) {
            # A member whose kind a sibling's value chooses: one if/then per value.
            for my $value (sort keys %{ $by->{kinds} }) {
                my $child = $by->{kinds}{$value};
                next unless $kinds{$child};
                push @conditions, { if => { properties => { $by->{field} => { const => $value } },
                        required => [$by->{field}] },
                    then => { properties => { $name => $f->{nullable} ? nullable(ref_to($child)) : ref_to($child) } } };
            }
            $s = {};
        } else {
            $s = contract_type($f->{type}, $f);
            unit_bounds($s, $UNIT_OVERRIDE{"$kind.$name"} // $f->{unit}) if $f->{unit};
            $s = nullable($s) if $f->{nullable} || $allowed{"$kind.$name.null"};
        }
        $s->{description} = "unit: $f->{unit}" if $f->{unit} && !$s->{'$ref'};
        $props{$name} = $s;
        push @required, $name if !$f->{optional} && $f->{on_wire} && !$allowed{"$kind.$name.missing"};
    }
    for my $a (grep { $_->{kind} eq $kind && $_->{difference} eq 'extra' } @{ $allow->{fields} }) {
        my $t = $extra_types->{"$kind.$a->{field}"}
            or die "openapi/contract-extra.json: no type for the allowed extra $kind.$a->{field}\n";
        $props{ $a->{field} } = { %$t, description => "not in the original: $a->{reason}" };
    }
    my $s = { type => 'object', properties => \%props, additionalProperties => JSON::PP::false };
    $s->{required} = \@required if @required;
    $s->{allOf} = \@conditions if @conditions;
    # An if/then member is checked by the allOf, which additionalProperties cannot see into:
    # listing it in properties keeps it allowed.
    die "schema $kind is defined twice\n" if $schemas->{$kind};
    $schemas->{$kind} = $s;
}

# --- the hand-written path files ---

my %ops;    # "METHOD pattern" => operation
my %file_of;
for my $file (sort glob("$srcdir/openapi/paths/*.json")) {
    my $part = slurp_json($file);
    (my $short = $file) =~ s{.*/}{};
    for my $name (sort keys %{ $part->{schemas} // {} }) {
        die "$short: schema $name is defined twice\n" if $schemas->{$name};
        $schemas->{$name} = $part->{schemas}{$name};
    }
    for my $pattern (sort keys %{ $part->{paths} // {} }) {
        for my $method (sort keys %{ $part->{paths}{$pattern} }) {
            my $key = uc($method) . " $pattern";
            die "$short: $key is also in $file_of{$key}\n" if $file_of{$key};
            $file_of{$key} = $short;
            $ops{$key} = { %{ $part->{paths}{$pattern}{$method} }, tag => $part->{tag} };
        }
    }
}

# --- the route table ---

my %RATE = (public => 'public', auth => 'auth (sign-in)', general => 'general', recovery => 'recovery',
    export => 'export', config_read => 'configuration reads', config_write => 'configuration writes',
    updates => 'updates', download => 'download', none => 'none');
my %seen_tag;
my @missing;
open my $rf, '<', $routes_file or die "$routes_file: $!\n";
while (my $line = <$rf>) {
    next unless $line =~ /\S/;
    my $rt = JSON::PP->new->decode($line);
    my $pattern = $rt->{pattern};
    my @path_params = $pattern =~ /\{(\w+)\}/g;
    for my $method (@{ $rt->{methods} }) {
        my $key = "$method $pattern";
        my $in = delete $ops{$key};
        if (!$in) {
            push @missing, $key;
            $in = { summary => "$method $pattern", 'x-pulse-undocumented' => JSON::PP::true };
        }
        $doc->{paths}{$pattern}{ lc $method } = operation($rt, $method, $in, \@path_params);
        $seen_tag{ $in->{tag} }++ if $in->{tag};
    }
}
close $rf;
warn "openapi: routes without an operation in openapi/paths/*.json:\n" . join('', map { "  $_\n" } @missing)
    if @missing;
for my $key (sort keys %ops) {
    warn "openapi: $key ($file_of{$key}) names no route\n";
    my ($method, $pattern) = split / /, $key, 2;
    $doc->{paths}{$pattern}{ lc $method } = { %{ $ops{$key} }, 'x-pulse-no-route' => JSON::PP::true };
}
$doc->{tags} = [map { { name => $_ } } sort keys %seen_tag];

# Every $ref must resolve.
my @refs = $json->encode($doc) =~ m{"#/components/(?:schemas|responses)/([^"]+)"}g;
for my $r (@refs) {
    die "unresolved reference to $r\n" unless $schemas->{$r} || $doc->{components}{responses}{$r};
}
print $json->encode($doc);

# One operation: the path file's words plus what the route table says.
sub operation {
    my ($rt, $method, $in, $path_params) = @_;
    my %op;
    $op{summary} = $in->{summary} // die "$method $rt->{pattern}: no summary\n";
    $op{$_} = $in->{$_} for grep { /^x-/ } keys %$in;
    $op{tags} = [$in->{tag}] if $in->{tag};
    (my $id = lc($method) . $rt->{pattern}) =~ s/[^A-Za-z0-9]+(.)?/defined $1 ? uc $1 : ''/ge;
    $op{operationId} = $id;
    my @desc;
    push @desc, $in->{description} if $in->{description};
    my @who;
    if ($rt->{public}) {
        push @who, 'Public: no credentials needed.';
    } else {
        push @who, 'Needs a session, an API token or a proxy-authenticated user'
            . ($rt->{admin} ? ', with the admin role' : '') . '.';
        push @who, $rt->{scope} ? "An API token needs the scope `$rt->{scope}`."
            : 'An API token needs no particular scope.';
    }
    push @who, "Licence feature `$rt->{feature}` required (402 without it)." if $rt->{feature};
    push @who, 'Rate class: ' . ($RATE{ $rt->{rate} } // $rt->{rate}) . '.' if $rt->{rate} ne 'none';
    push @desc, join ' ', @who;
    $op{description} = join "\n\n", @desc;
    $op{'x-pulse-scope'} = $rt->{scope} if $rt->{scope};
    $op{'x-pulse-admin'} = $rt->{admin} ? JSON::PP::true : JSON::PP::false;
    $op{'x-pulse-csrf'} = $rt->{csrf} ? JSON::PP::true : JSON::PP::false;
    $op{'x-pulse-rate'} = $rt->{rate};
    $op{'x-pulse-body-limit'} = $rt->{bodyLimit};
    $op{'x-pulse-feature'} = $rt->{feature} if $rt->{feature};
    $op{security} = $rt->{public} ? [{}]
        : [{ session => [] }, { apiToken => [] }, { bearer => [] }];
    $op{security} = [{}, { session => [] }, { apiToken => [] }, { bearer => [] }]
        if $rt->{public} && $in->{optionalAuth};

    my @params = map { { name => $_, in => 'path', required => JSON::PP::true,
        schema => $in->{pathSchemas}{$_} // { type => 'string' } } } @$path_params;
    push @params, @{ $in->{parameters} // [] };
    $op{parameters} = \@params if @params;

    if ($in->{request}) {
        $op{requestBody} = { required => $in->{requestOptional} ? JSON::PP::false : JSON::PP::true,
            content => { 'application/json' => { schema => $in->{request} } } };
    }
    my %res = %{ $in->{responses} // {} };
    if ($in->{response}) {
        my $type = $in->{responseType} // 'application/json';
        $res{ $in->{status} // 200 } = { description => $in->{responseDescription} // 'Success',
            content => { $type => { schema => $in->{response} } } };
    }
    $res{200} //= { description => $in->{responseDescription} // 'Success' }
        unless $in->{'x-pulse-error-only'} || grep { /^[23]/ } keys %res;
    my $err = { '$ref' => '#/components/responses/Error' };
    $res{400} //= $err if $method ne 'GET' || @{ $in->{parameters} // [] } || @$path_params;
    $res{$_} //= $err for @{ $in->{errors} // [] };
    unless ($rt->{public}) {
        $res{401} //= $err;
        $res{403} //= $err;
    }
    $res{402} //= $err if $rt->{feature};
    $res{413} //= $err if $method ne 'GET';
    $res{429} //= $err if $rt->{rate} ne 'none';
    $op{responses} = \%res;
    return \%op;
}
