// Reads feeds with one JavaScript feed library and prints what it saw as JSON.
//
//   node read_js.mjs CLIENT FILE...
//
// CLIENT is rss-parser, feed-extractor or feedsmith. Output: {FILE: {feed, items}},
// where feed has title and icon, and every item has title, link, date and, when the
// library reads them, author, image and summary. A field the library does not read
// is left out (not null), so the test knows what it can hold the library to.
import { readFileSync } from 'node:fs';

const [client, ...files] = process.argv.slice(2);

const first = (value) => (Array.isArray(value) ? value[0] : value);
const attr = (node, name) => (node && typeof node === 'object' ? node[`@_${name}`] : undefined);

async function readRssParser(text) {
  const { default: Parser } = await import('rss-parser');
  // media:thumbnail is not read by default; its README shows custom fields for it.
  const parser = new Parser({ customFields: { item: [['media:thumbnail', 'thumbnail']] } });
  const feed = await parser.parseString(text);
  return {
    feed: { title: feed.title, icon: feed.image?.url },
    items: feed.items.map((item) => ({
      title: item.title,
      link: item.link,
      date: item.isoDate,
      author: item.creator ?? item.author ?? null,
      image: item.enclosure?.url ?? item.thumbnail?.$?.url ?? null,
      summary: item.contentSnippet ?? null,
    })),
  };
}

async function readFeedExtractor(text, json) {
  const { extractFromXml, extractFromJson } = await import('@extractus/feed-extractor');
  // The normalized entry has id, title, link, published and description; author and
  // image come from the library's documented hook onto the raw entry it parsed.
  const extra = (raw) => {
    if (json) {
      return { author: raw.author?.name ?? null, image: raw.image ?? null };
    }
    const links = [].concat(raw.link ?? []);
    const enclosure = raw.enclosure ?? links.find((l) => attr(l, 'rel') === 'enclosure');
    const author = raw['dc:creator'] ?? raw.author?.name ?? null;
    return { author: first(author) ?? null, image: attr(enclosure, 'url') ?? attr(enclosure, 'href') ?? null };
  };
  const options = { normalization: true, getExtraEntryFields: extra };
  const feed = json ? extractFromJson(JSON.parse(text), options) : extractFromXml(text, options);
  return {
    feed: { title: feed.title },
    items: feed.entries.map((entry) => ({
      title: entry.title,
      link: entry.link,
      date: entry.published,
      author: entry.author,
      image: entry.image,
      summary: entry.description ?? null,
    })),
  };
}

async function readFeedsmith(text) {
  const { parseFeed } = await import('feedsmith');
  const { format, feed } = parseFeed(text);
  if (format === 'rss') {
    return {
      feed: { title: feed.title, icon: feed.image?.url },
      items: feed.items.map((item) => ({
        title: item.title,
        link: item.link,
        date: item.pubDate,
        author: item.dc?.creators?.[0] ?? item.authors?.[0] ?? null,
        image: item.enclosures?.[0]?.url ?? item.media?.thumbnails?.[0]?.url ?? null,
        summary: item.description ?? null,
        player: item.media?.contents?.find((c) => c.medium === 'video')?.player?.url ?? null,
      })),
    };
  }
  if (format === 'atom') {
    const text_ = (value) => (value && typeof value === 'object' ? value.value : value);
    return {
      feed: { title: text_(feed.title), icon: feed.icon, logo: feed.logo },
      items: feed.entries.map((entry) => ({
        title: text_(entry.title),
        link: entry.links?.find((l) => (l.rel ?? 'alternate') === 'alternate')?.href,
        date: entry.published,
        updated: entry.updated,
        author: entry.authors?.[0]?.name ?? null,
        image: entry.links?.find((l) => l.rel === 'enclosure')?.href ?? null,
        summary: text_(entry.summary) ?? null,
        player: entry.media?.contents?.find((c) => c.medium === 'video')?.player?.url ?? null,
      })),
    };
  }
  return {
    feed: { title: feed.title, icon: feed.icon, favicon: feed.favicon },
    items: feed.items.map((item) => ({
      title: item.title,
      link: item.url,
      date: item.date_published,
      author: item.authors?.[0]?.name ?? null,
      image: item.image ?? null,
      summary: item.summary ?? null,
    })),
  };
}

const readers = {
  'rss-parser': (text) => readRssParser(text),
  'feed-extractor': (text, json) => readFeedExtractor(text, json),
  feedsmith: (text) => readFeedsmith(text),
};

const read = readers[client];
if (!read) {
  console.error(`unknown client ${client}`);
  process.exit(2);
}
const out = {};
for (const file of files) {
  out[file] = await read(readFileSync(file, 'utf8'), file.endsWith('.json'));
}
process.stdout.write(JSON.stringify(out));
