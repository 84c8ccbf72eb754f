#!/usr/bin/perl
# bench/ourstmt.pl KEYVALUE KEYSQL < log: the pgbench script of the statement our server sent
# for one request, as PostgreSQL logged it (log_min_duration_statement = 0 while the harness
# sent that one request). Every bind parameter becomes its literal value, except the one equal
# to KEYVALUE (the id or search term of the request), which becomes KEYSQL (a subquery of the
# harness's table of ids, on pgbench's random :n). The organization setting goes first, in
# the same pipeline (one implicit transaction, one Sync), as db.ReadInOrg sends it.
use strict;
use warnings;

my ($keyvalue, $keysql) = @ARGV;
my (@records, $cur);
while (my $line = <STDIN>) {
  chomp $line;
  if ($line =~ /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/) { push @records, $cur if defined $cur; $cur = $line; }
  elsif (defined $cur) { $cur .= "\n" . $line; }
}
push @records, $cur if defined $cur;

my (@stmts, $settings);
for (my $i = 0; $i < @records; $i++) {
  next unless $records[$i] =~ /LOG:  duration: [\d.]+ ms  execute (.*)\z/s;
  my $rest = $1;
  my $sql;
  if ($rest =~ /^\S+: (.*)\z/s) { $sql = $1; }
  else {
    # Prepared under its own text as the name (db.prepare): "execute X: X".
    my $n = (length($rest) - 2) / 2;
    $sql = substr($rest, 0, $n);
    die "cannot read the logged statement\n" unless substr($rest, $n, 2) eq ': ' && substr($rest, $n + 2) eq $sql;
  }
  my %params;
  if ($i + 1 < @records && $records[$i + 1] =~ /DETAIL:  parameters: (.*)\z/s) {
    my $p = $1;
    while ($p =~ /\G(?:, )?\$(\d+) = (NULL|'((?:[^']|'')*)')/gc) { $params{$1} = $2; }
  }
  for my $k (sort { $b <=> $a } keys %params) {
    my $v = $params{$k};
    my $lit = $v;
    if ($v ne 'NULL') { (my $raw = substr($v, 1, -1)) =~ s/''/'/g; $lit = $keysql if $raw eq $keyvalue; }
    $sql =~ s/\$$k(?!\d)/$lit/g;
  }
  # pgbench reads :name as its variable, also inside a string literal (to_char's 'HH24:MI'):
  # a colon followed by a letter that is not a cast (::) is written as a concatenation,
  # which PostgreSQL folds back into the same constant.
  $sql =~ s/(?<!:):(?=[A-Za-z_])(?!n\b)/' || ':' || '/g;
  if ($sql =~ /^SELECT set_config\('app\.current_organization_id'/) { $settings = $sql; next; }
  push @stmts, $sql;
}
die "no statement of the request in the log\n" unless @stmts && defined $settings;
print "\\set n random(1, 1000)\n\\startpipeline\n$settings;\n";
print "$_;\n" for @stmts;
print "\\endpipeline\n";
