# Reads RSS and Atom files with Ruby's rss library and prints what it saw as JSON:
#   ruby read_ruby.rb FILE...  ->  {FILE: {feed: {title, icon}, items: [{title, link, date, author, image, summary}]}}
require "json"
require "rss"

def utc(moment)
  moment&.getutc&.strftime("%Y-%m-%dT%H:%M:%SZ")
end

out = {}
ARGV.each do |file|
  feed = RSS::Parser.parse(File.read(file, encoding: "UTF-8"), false)
  if feed.is_a?(RSS::Rss)
    info = { title: feed.channel.title, icon: feed.channel.image&.url }
    items = feed.items.map do |item|
      { title: item.title, link: item.link, date: utc(item.pubDate), author: item.dc_creator,
        image: item.enclosure&.url, summary: item.description }
    end
  else
    info = { title: feed.title.content, icon: feed.icon&.content, logo: feed.logo&.content }
    items = feed.entries.map do |entry|
      alternate = entry.links.find { |l| (l.rel || "alternate") == "alternate" }
      enclosure = entry.links.find { |l| l.rel == "enclosure" }
      { title: entry.title.content, link: alternate&.href, date: utc(entry.published&.content),
        updated: utc(entry.updated&.content), author: entry.author&.name&.content,
        image: enclosure&.href, summary: entry.summary&.content }
    end
  end
  out[file] = { feed: info, items: items }
end
print JSON.generate(out)
