#!/usr/bin/perl
# Reads RSS and Atom files with Perl's XML::Feed and prints what it saw as JSON:
#   perl read_perl.pl FILE...   ->  {FILE: {feed: {title, icon}, items: [{title, link, date, author, image, summary}]}}
use strict;
use warnings;
use JSON::PP;
use XML::Feed;

# XML::Atom hands back undecoded UTF-8 bytes unless told otherwise (its documented switch).
$XML::Atom::ForceUnicode = 1;

sub utc {
    my ($moment) = @_;
    return undef unless defined $moment;
    return $moment->clone->set_time_zone('UTC')->strftime('%Y-%m-%dT%H:%M:%SZ');
}

my %out;
for my $file (@ARGV) {
    my $feed = XML::Feed->parse($file) or die "$file: " . XML::Feed->errstr . "\n";
    my @items;
    for my $entry ($feed->entries) {
        my ($enclosure) = $entry->enclosure;
        push @items, {
            title   => $entry->title,
            link    => $entry->link,
            date    => utc($entry->issued),
            author  => $entry->author,
            image   => $enclosure ? $enclosure->url : undef,
            summary => $entry->summary ? $entry->summary->body : undef,
        };
    }
    my %info = (title => $feed->title);
    # XML::Feed reads the RSS <image>; it has no accessor for Atom's icon.
    $info{icon} = $feed->image if $feed->format =~ /^RSS/;
    $out{$file} = { feed => \%info, items => \@items };
}
print JSON::PP->new->utf8->canonical->encode(\%out);
