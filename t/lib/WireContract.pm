package WireContract;
# WireContract.pm: checks decoded JSON answers against the original web client's contract
# (t/contract/wire-contract.json, extracted from the original at its January 2026 release:
# every object kind with its fields' JSON type, optional, nullable and unit).
#
#   my $wc = WireContract->new;            # loads the contract and t/contract/allowlist.json
#   $wc->check('State', $decoded, 'mock /api/state');
#   is_deeply([$wc->problems], [], ...);   # differences not in the allowlist
#   $wc->seen('VM')                        # objects of a kind checked so far
#
# An object is checked field by field: every key must be a field of its kind, every
# required field (not optional, on the wire) must be there, null only where the original
# may write null, the JSON type as the original's (integer, number, string, boolean, RFC 3339
# string, array, object, map), nested objects recursively as their kind, and the value
# conventions the contract states as units (percent 0-100, epoch milliseconds or seconds).
# JSON types are read from how the decoder left each scalar: Mojo::JSON turns a JSON number
# into a Perl number and a JSON string into a Perl string, so the flags tell them apart.
# A difference is forgiven only when the allowlist names its kind, field and difference
# (missing, extra, null, type, unit); a "value" entry documents a value we deliberately write
# differently from the original, and every object carrying the field must have exactly that
# value. Allowlist entries never used are reported by unused_allowances().
use strict;
use warnings;
use B ();
use Mojo::File qw(path);
use Mojo::JSON qw(decode_json);
use Scalar::Util qw(blessed looks_like_number);

my $RFC3339 = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)$/;

# Units the issue fixes where the contract only reports what the original happened to write:
# the original documents PBS cpu as a percentage and its client rounds it as one; Ceph's
# fraction is shown by its client as a percentage (issue 10).
my %UNIT_OVERRIDE = ('PBSInstance.cpu' => 'percent 0-100', 'CephPool.percentUsed' => 'percent 0-100');

sub contract_dir { path(__FILE__)->dirname->dirname->child('contract') }

sub new {
    my ($class, %opt) = @_;
    my $dir = $opt{dir} // contract_dir();
    my $contract = decode_json(path($dir, 'wire-contract.json')->slurp);
    my $meta = delete $contract->{_meta};
    # Further contract files (t/contract/*-contract.json) add kinds in the same format.
    for my $extra (sort grep { !/wire-contract\.json$/ } glob("$dir/*-contract.json")) {
        my $more = decode_json(path($extra)->slurp);
        my $m = delete $more->{_meta};
        $meta->{kinds}{$_} = $m->{kinds}{$_} for keys %{ $m->{kinds} // {} };
        $contract->{$_} = $more->{$_} for keys %$more;
    }
    my $allow = decode_json(path($dir, 'allowlist.json')->slurp);
    my (%allowed, %values);
    for my $a (@{ $allow->{fields} }) {
        die "allowlist entry without kind, field, difference or reason\n"
            unless $a->{kind} && $a->{field} && $a->{difference} && $a->{reason};
        die "allowlist: unknown kind $a->{kind}\n" unless $contract->{$a->{kind}};
        $allowed{"$a->{kind}.$a->{field}.$a->{difference}"} = 0;
        $values{"$a->{kind}.$a->{field}"} = $a if $a->{difference} eq 'value';
    }
    return bless { contract => $contract, meta => $meta, allow => $allow, allowed => \%allowed,
        values => \%values, problems => [], seen => {} }, $class;
}

sub kinds { sort keys %{ $_[0]{contract} } }
sub kind_fields { my ($self, $kind) = @_; $self->{contract}{$kind} }
sub allowlist { $_[0]{allow} }
sub seen { my ($self, $kind) = @_; defined $kind ? $self->{seen}{$kind} // 0 : { %{ $self->{seen} } } }
sub problems { @{ $_[0]{problems} } }

# The fields of the kinds checked so far that the original writes (on the wire) but that no
# checked object carried: "never emitted" candidates.
sub never_present {
    my ($self) = @_;
    my @out;
    for my $kind (sort keys %{ $self->{seen} }) {
        my $fields = $self->{contract}{$kind};
        push @out, map { "$kind.$_" } grep { $fields->{$_}{on_wire} && !$self->{present}{$kind}{$_} }
            sort keys %$fields;
    }
    return @out;
}
sub clear_problems { $_[0]{problems} = [] }
sub unused_allowances { my $s = shift; sort grep { !$s->{allowed}{$_} } keys %{ $s->{allowed} } }

# Checks one value as an object of $kind; $where names it in problem reports.
sub check {
    my ($self, $kind, $value, $where) = @_;
    die "unknown kind $kind\n" unless $self->{contract}{$kind};
    $self->_object($kind, $value, $where // $kind);
    return $self;
}

# Checks an array whose elements are objects of $kind (answers that are bare lists).
sub check_list {
    my ($self, $kind, $value, $where) = @_;
    if (ref $value ne 'ARRAY') {
        $self->_problem($kind, '(list)', 'type', $where, 'expected an array of ' . $kind);
        return $self;
    }
    $self->_object($kind, $value->[$_], "$where\[$_]") for 0 .. $#$value;
    return $self;
}

sub _problem {
    my ($self, $kind, $field, $difference, $where, $detail) = @_;
    my $key = "$kind.$field.$difference";
    if (exists $self->{allowed}{$key}) {
        $self->{allowed}{$key}++;
        return;
    }
    push @{ $self->{problems} }, "$where: $kind.$field: $difference ($detail)";
}

sub _object {
    my ($self, $kind, $obj, $where) = @_;
    if (ref $obj ne 'HASH') {
        $self->_problem($kind, '(object)', 'type', $where, 'expected an object, got ' . _json_type($obj));
        return;
    }
    $self->{seen}{$kind}++;
    my $fields = $self->{contract}{$kind};
    for my $name (sort keys %$fields) {
        my $f = $fields->{$name};
        if (!exists $obj->{$name}) {
            $self->_problem($kind, $name, 'missing', $where, "required field of type $f->{type}")
                if !$f->{optional} && $f->{on_wire};
            next;
        }
        $self->{present}{$kind}{$name}++;
        if (my $by = $f->{kind_by}) {    # a kind chosen by a sibling's value
            my $child = $by->{kinds}{ $obj->{ $by->{field} } // '' };
            if ($child) {
                $self->_object($child, $obj->{$name}, "$where.$name") if defined $obj->{$name} || !$f->{nullable};
            } else {
                $self->_problem($kind, $name, 'type', $where, "no kind for $by->{field} " . ($obj->{ $by->{field} } // 'null'));
            }
            next;
        }
        $self->_value($kind, $name, $f, $f->{type}, $obj->{$name}, "$where.$name");
        $self->_documented_value($kind, $name, $obj->{$name}, "$where.$name")
            if $self->{values}{"$kind.$name"};
    }
    for my $name (sort keys %$obj) {
        next if $fields->{$name};
        $self->_problem($kind, $name, 'extra', $where, 'not a field of ' . $kind . ', value ' . _json_type($obj->{$name}));
    }
}

sub _value {
    my ($self, $kind, $name, $f, $type, $v, $where) = @_;
    if (!defined $v) {
        $self->_problem($kind, $name, 'null', $where, "null where the original writes $type")
            unless $f->{nullable};
        return;
    }
    my $got = _json_type($v);
    my $bad = sub { $self->_problem($kind, $name, 'type', $where, "expected $type, got $got") };
    if ($type eq 'any') {
        return;
    } elsif ($type eq 'string') {
        return $bad->() unless $got eq 'string';
    } elsif ($type eq 'string(RFC3339)') {
        return $bad->() unless $got eq 'string' && $v =~ $RFC3339;
    } elsif ($type eq 'string(RFC3339 or "")') {
        return $bad->() unless $got eq 'string' && ($v eq '' || $v =~ $RFC3339);
    } elsif ($type eq 'boolean') {
        return $bad->() unless $got eq 'boolean';
    } elsif ($type eq 'integer') {
        return $bad->() unless $got eq 'integer';
        $self->_unit($kind, $name, $f, $v, $where);
    } elsif ($type eq 'number') {
        return $bad->() unless $got eq 'integer' || $got eq 'number';
        $self->_unit($kind, $name, $f, $v, $where);
    } elsif ($type =~ /^array(?:<(.*)>)?$/) {
        my $elem = $1;
        return $bad->() unless $got eq 'array';
        return unless defined $elem;
        for my $i (0 .. $#$v) {
            $self->_value($kind, $name, { %$f, nullable => 0 }, $elem, $v->[$i], "$where\[$i]");
        }
    } elsif ($type =~ /^object:(.*)$/) {
        return $bad->() unless $got eq 'object';
        my $child = $f->{child_kind};
        $self->_object($child, $v, $where) if $child && $self->{contract}{$child};
    } elsif ($type eq 'object(map)') {
        return $bad->() unless $got eq 'object';
        my $child = $f->{child_kind};
        return unless $child && $self->{contract}{$child};
        for my $key (sort keys %$v) {
            my $item = $v->{$key};
            if (ref $item eq 'ARRAY') {    # a map of lists (metric name -> points)
                $self->_object($child, $item->[$_], "$where\{$key}[$_]") for 0 .. $#$item;
            } else {
                $self->_object($child, $item, "$where\{$key}");
            }
        }
    } else {
        die "contract type $type of $kind.$name is not understood\n";
    }
}

# A value the allowlist says we deliberately write differently from the original ("ours"):
# it must be exactly that value.
sub _documented_value {
    my ($self, $kind, $name, $v, $where) = @_;
    my $a = $self->{values}{"$kind.$name"};
    my $ours = Mojo::JSON::encode_json($a->{ours});
    my $got = Mojo::JSON::encode_json($v);
    if ($got eq $ours) {
        $self->{allowed}{"$kind.$name.value"}++;
    } else {
        push @{ $self->{problems} }, "$where: $kind.$name: value $got, the allowlist documents $ours";
    }
}

# The value conventions the contract gives as units.
sub _unit {
    my ($self, $kind, $name, $f, $v, $where) = @_;
    my $unit = $UNIT_OVERRIDE{"$kind.$name"} // $f->{unit} // return;
    my $bad = sub { $self->_problem($kind, $name, 'unit', $where, "$v is not $unit") };
    if ($unit =~ /^percent 0-100/) {
        my $unknown = $unit =~ /-1 = unknown/ && $v == -1;
        $bad->() unless $unknown || ($v >= 0 && $v <= 100);
    } elsif ($unit =~ /^fraction 0-1/) {
        $bad->() unless $v >= 0 && $v <= 1;
    } elsif ($unit =~ /^epoch-ms/) {
        $bad->() unless $v == 0 || ($v >= 1e11 && $v < 1e14);
    } elsif ($unit =~ /^epoch-seconds/) {
        $bad->() unless $v == 0 || ($v >= 1e8 && $v < 1e11);
    }
}

# The JSON type a decoded value had: null, boolean, integer, number, string, array, object.
sub _json_type {
    my ($v) = @_;
    return 'null' unless defined $v;
    if (my $r = ref $v) {
        return 'array' if $r eq 'ARRAY';
        return 'object' if $r eq 'HASH';
        return 'boolean' if blessed $v && $v->isa('JSON::PP::Boolean');
        return $r;
    }
    my $flags = B::svref_2object(\$v)->FLAGS;
    if ($flags & B::SVf_POK) {
        return 'string';
    }
    if ($flags & (B::SVf_IOK | B::SVf_NOK)) {
        return $v == int($v) && abs($v) < 2**53 ? 'integer' : 'number';
    }
    return 'string';
}

1;
