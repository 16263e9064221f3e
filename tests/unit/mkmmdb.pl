#!/usr/bin/perl
# mkmmdb.pl: write small MaxMind DB files for the tests.
#
#   perl tests/unit/mkmmdb.pl OUTDIR [COUNTRY-SPEC ASN-SPEC]
#
# Writes OUTDIR/country.mmdb (database_type GeoLite2-Country) and
# OUTDIR/asn.mmdb (GeoLite2-ASN), IPv6 trees with record size 24 whose
# IPv4 part is also reachable as ::ffff:0:0/96, as in MaxMind's own files.
# The spec files have one network a line, '#' comments and blank lines
# ignored:
#   COUNTRY-SPEC:  CIDR CC            e.g. 192.0.2.0/24 NL
#   ASN-SPEC:      CIDR ASN ORG...    e.g. 192.0.2.0/24 64496 Example B.V.
# ("AS64496" is accepted too). Without spec files the built-in data below
# is written; test_geo.c relies on it. Needs libmaxmind-db-writer-perl.
use strict;
use warnings;

use MaxMind::DB::Writer::Tree;

# Built-in test data: documentation ranges only.
my @country = (
	[ '192.0.2.0/24',	'NL' ],
	[ '198.51.100.0/24',	'RU' ],
	[ '2001:db8:1::/48',	'DE' ],
);
# Only a registered country: tests the reader's fallback.
my @registered = (
	[ '203.0.113.0/24',	'JP' ],
);
my @asn = (
	[ '192.0.2.0/24',	64496,	'Example NL B.V.' ],
	[ '198.51.100.0/24',	64511,	'Example RU' ],
	[ '2001:db8:1::/48',	65551,	'Example DE GmbH' ],
	[ '2001:db8:2::/48',	64500,	'Example ASN only' ],
);

# Read a spec file into a list of [ fields ]; at most $n fields, the
# last one taking the rest of the line.
sub readspec {
	my ($path, $n) = @_;
	my @out;

	open(my $fh, '<', $path) or die "mkmmdb: $path: $!\n";
	while (my $line = <$fh>) {
		$line =~ s/#.*//;
		$line =~ s/^\s+|\s+$//g;
		next if $line eq '';
		my @f = split(/\s+/, $line, $n);
		die "mkmmdb: $path:$.: expected CIDR and a value\n" if @f < 2;
		push @out, \@f;
	}
	close($fh);
	return @out;
}

sub newtree {
	my ($type, $desc, %types) = @_;

	return MaxMind::DB::Writer::Tree->new(
		ip_version		=> 6,
		record_size		=> 24,
		database_type		=> $type,
		languages		=> ['en'],
		description		=> { en => $desc },
		alias_ipv6_to_ipv4	=> 1,
		# Required, or the documentation ranges are refused.
		remove_reserved_networks => 0,
		map_key_type_callback	=> sub { $types{ $_[0] } },
	);
}

die "usage: mkmmdb.pl OUTDIR [COUNTRY-SPEC ASN-SPEC]\n"
    unless @ARGV == 1 || @ARGV == 3;
my $dir = $ARGV[0];
if (@ARGV == 3) {
	@country = readspec($ARGV[1], 2);
	@registered = ();
	@asn = readspec($ARGV[2], 3);
}

my $ct = newtree('GeoLite2-Country', 'veilig test countries',
    country => 'map', registered_country => 'map', iso_code => 'utf8_string');
for my $c (@country) {
	my $cc = uc($c->[1]);
	$ct->insert_network($c->[0], {
		country => { iso_code => $cc },
		registered_country => { iso_code => $cc },
	});
}
for my $c (@registered) {
	$ct->insert_network($c->[0],
	    { registered_country => { iso_code => uc($c->[1]) } });
}

my $at = newtree('GeoLite2-ASN', 'veilig test ASNs',
    autonomous_system_number => 'uint32',
    autonomous_system_organization => 'utf8_string');
for my $a (@asn) {
	(my $num = $a->[1]) =~ s/^AS//i;
	die "mkmmdb: bad ASN '$a->[1]'\n" unless $num =~ /^\d+$/;
	$at->insert_network($a->[0], {
		autonomous_system_number => $num + 0,
		autonomous_system_organization => $a->[2] // '',
	});
}

for my $w ([ $ct, 'country.mmdb' ], [ $at, 'asn.mmdb' ]) {
	my $path = "$dir/$w->[1]";
	open(my $fh, '>:raw', "$path.tmp") or die "mkmmdb: $path.tmp: $!\n";
	$w->[0]->write_tree($fh);
	close($fh) or die "mkmmdb: $path.tmp: $!\n";
	rename("$path.tmp", $path) or die "mkmmdb: $path: $!\n";
}
