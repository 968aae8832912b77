#!/bin/sh
# messages.sh — is every user-facing error message produced by some test?
#
# Lists the format strings of every message the user can see:
#   compiler/*.c, grammar/nn.l, grammar/nn.y
#       diag_error, diag_warning, diag_note; usage_error (main.c)
#   runtime/*.c
#       fail, fail_at (data.c, safetensors.c, train.c), set_err (fit.c),
#       error and usage (cli.c), and snprintf(err, ...)
# and looks for each in what the tests expect: the golden outputs
# (tests/golden/**, not the .nn inputs), the string literals of the unit
# tests (tests/unit/*.c) and everything under tests/e2e/ (string literals
# of .c files, other files as text; not .nn inputs).
#
# A message counts as tested when its distinctive fragment appears there:
# the longest run of literal text between % conversions (at least 8
# characters), or, when every run is shorter, the whole format as a
# pattern with each conversion matching anything.  Formats with no literal
# text at all ("%s", passing on another message) are not listed.
#
# Messages known to be untested are listed, one format string per line as
# printed below, in tests/messages.allow; the goal is an empty file.
#
#   tests/messages.sh            print untested messages not in the allow
#                                list; exit 1 if there are any
#   tests/messages.sh --all      print every untested message
#   tests/messages.sh --list     print every message with its file:line
#   tests/messages.sh --update   rewrite tests/messages.allow
set -u
cd "$(dirname "$0")/.." || exit 2
mode=${1:-check}
exec perl -e '
use strict;
use warnings;

my ($mode) = @ARGV;
my $allow_file = "tests/messages.allow";

sub slurp { local $/; open(my $f, "<", $_[0]) or die "$_[0]: $!"; my $s = <$f>; close $f; return $s; }

# C escapes of a literal body -> the bytes they stand for.
sub unescape {
	my ($s) = @_;
	$s =~ s/\\(x[0-9A-Fa-f]{1,2}|[0-7]{1,3}|.)/
		my $e = $1;
		$e =~ m{^x}   ? chr(hex(substr($e, 1))) :
		$e =~ m{^[0-7]} ? chr(oct($e)) :
		$e eq "n" ? "\n" : $e eq "t" ? "\t" : $e eq "r" ? "\r" :
		$e eq "a" ? "\a" : $e eq "0" ? "\0" : $e/ge;
	return $s;
}

# Tokens of C text: string literals (with their line), identifiers,
# punctuation; comments and character constants dropped.
sub tokens {
	my ($text) = @_;
	my @t;
	my $line = 1;
	while ($text =~ m{\G(?:
		(\s+) |
		(//[^\n]*) |
		(/\*.*?\*/) |
		"((?:[^"\\\n]|\\.)*)" |
		(\x27(?:[^\x27\\\n]|\\.)*\x27) |
		([A-Za-z_]\w*) |
		(.)
	)}gsx) {
		my $m = $&;
		if (defined $4) { push @t, ["str", unescape($4), $line]; }
		elsif (defined $6) { push @t, ["id", $6, $line]; }
		elsif (defined $7) { push @t, ["p", $7, $line]; }
		$line += ($m =~ tr/\n//);
	}
	return @t;
}

# The format of each call of a message function: the first run of
# adjacent string literals among its arguments (PRId64 and friends
# between them count as a conversion).
my @msgs;    # [format, file:line]
sub scan_file {
	my ($file, $funcs) = @_;
	my @t = tokens(slurp($file));
	for (my $i = 0; $i < @t - 1; $i++) {
		next unless $t[$i][0] eq "id" && $funcs->{$t[$i][1]};
		next unless $t[$i + 1][0] eq "p" && $t[$i + 1][1] eq "(";
		next if $i > 0 && $t[$i - 1][0] eq "id" && $t[$i - 1][1] =~ /^(int|void|char|static)$/;
		next if $i > 0 && $t[$i - 1][0] eq "p" && $t[$i - 1][1] eq "*";
		# snprintf counts only when it writes the caller`s err buffer.
		next if $t[$i][1] eq "snprintf" && !($t[$i + 2][0] eq "id" && $t[$i + 2][1] eq "err");
		my $depth = 0;
		my ($fmt, $line);
		for (my $j = $i + 1; $j < @t; $j++) {
			my ($k, $v) = @{$t[$j]};
			if ($k eq "p" && ($v eq "(" || $v eq "[" || $v eq "{")) { $depth++; next; }
			if ($k eq "p" && ($v eq ")" || $v eq "]" || $v eq "}")) { last if --$depth == 0; next; }
			next unless $depth == 1;
			if ($k eq "str") {
				$fmt .= $v; $line //= $t[$j][2];
			} elsif (defined $fmt && $k eq "id" && $v =~ /^PRI[diouxX]/) {
				$fmt .= "d";
			} elsif (defined $fmt) {
				last;
			}
		}
		push @msgs, [$fmt, "$file:$line"] if defined $fmt;
	}
}

my %cfuncs = map { $_ => 1 } qw(diag_error diag_warning diag_note usage_error);
my %rfuncs = map { $_ => 1 } qw(fail fail_at set_err error usage snprintf);
scan_file($_, \%cfuncs) for (glob("compiler/*.c"), "grammar/nn.l", "grammar/nn.y");
scan_file($_, \%rfuncs) for glob("runtime/*.c");

# What the tests expect, as one text to search.
my $corpus = "";
my @files;
sub walk {
	my ($d) = @_;
	opendir(my $h, $d) or return;
	for my $e (sort readdir $h) {
		next if $e =~ /^\./;
		my $p = "$d/$e";
		if (-d $p) { walk($p); } else { push @files, $p; }
	}
}
walk("tests/golden"); walk("tests/e2e"); walk("tests/infer");
push @files, glob("tests/unit/*.c");
for my $f (@files) {
	next if $f =~ /\.nn$/;
	next if -B $f;
	if ($f =~ /\.[ch]$/) {
		# Adjacent literals joined, as the compiler would.
		my $run = "";
		for my $t (tokens(slurp($f))) {
			if ($t->[0] eq "str") { $run .= $t->[1]; }
			elsif ($run ne "") { $corpus .= "$run\n"; $run = ""; }
		}
		$corpus .= "$run\n";
	} else {
		$corpus .= slurp($f) . "\n";
	}
}

my $conv = qr/%[-+ #0]*(?:\*|\d+)?(?:\.(?:\*|\d+))?(?:hh|h|ll|l|z|j|t|L)?[diouxXeEfgGaAcspn%]/;
sub tested {
	my ($fmt) = @_;
	my @runs = grep { length } map { s/^\s+|\s+$//gr } split($conv, $fmt);
	my ($best) = sort { length($b) <=> length($a) } @runs;
	return undef unless defined $best;   # no literal text
	return index($corpus, $best) >= 0 if length($best) >= 8;
	my $re = join(".*?", map { quotemeta } split($conv, $fmt, -1));
	return $corpus =~ /$re/s ? 1 : 0;
}

# The printed form of a format: one line, C escapes for control bytes.
sub shown {
	my ($s) = @_;
	$s =~ s/\\/\\\\/g;
	$s =~ s/\n/\\n/g;
	$s =~ s/\t/\\t/g;
	$s =~ s/([\x00-\x1f\x7f])/sprintf("\\x%02x", ord $1)/ge;
	return "\"$s\"";
}

my %allow;
if (open(my $fh, "<", $allow_file)) {
	while (<$fh>) { chomp; next if /^(#|\s*$)/; $allow{$_} = 1; }
	close $fh;
}

my (%seen, @untested, @new);
my ($total, $ok) = (0, 0);
for my $m (@msgs) {
	my ($fmt, $where) = @$m;
	my $t = tested($fmt);
	next unless defined $t;
	my $key = shown($fmt);
	if ($mode eq "--list") { print "$where: $key\n"; }
	next if $seen{$key}++;
	$total++;
	if ($t) { $ok++; next; }
	push @untested, [$key, $where];
	push @new, [$key, $where] unless $allow{$key};
}
exit 0 if $mode eq "--list";
if ($mode eq "--update") {
	open(my $fh, ">", $allow_file) or die "$allow_file: $!";
	print $fh "# Messages that no test produces yet (tests/messages.sh --update).\n";
	print $fh "# Write a test for one, then delete its line; the goal is an empty list.\n";
	print $fh "$_->[0]\n" for sort { $a->[0] cmp $b->[0] } @untested;
	close $fh;
	printf "%d messages, %d tested, %d untested: written to %s\n",
		$total, $ok, scalar @untested, $allow_file;
	exit 0;
}
my @show = $mode eq "--all" ? @untested : @new;
print "untested: $_->[1]: $_->[0]\n" for @show;
my %used = map { $_->[0] => 1 } @untested;
my @stale = grep { !$used{$_} } sort keys %allow;
print "tested now, remove from $allow_file: $_\n" for @stale;
printf "%d messages, %d tested, %d untested (%d in %s), %d new\n",
	$total, $ok, scalar @untested, scalar(@untested) - scalar(@new),
	$allow_file, scalar @new;
exit(@new ? 1 : 0);
' -- "$mode"
