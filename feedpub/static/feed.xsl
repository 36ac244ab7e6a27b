<?xml version="1.0" encoding="UTF-8"?>
<!--
  feedpub: shows an RSS 2.0 or Atom 1.0 feed as a readable web page when a browser opens it.
  Feed readers ignore this file. The empty <style> and <script> below are filled from
  feedpub/static/feedpub.css and copy.js when feedpub writes the file into the output folder.
  Links to the feed's other formats and to its page are relative: they sit in the feed's folder.
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    xmlns:media="http://search.yahoo.com/mrss/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    exclude-result-prefixes="atom media dc">
  <xsl:output method="html" encoding="UTF-8" indent="no" doctype-system="about:legacy-compat"/>

  <xsl:variable name="rss" select="/rss/channel"/>
  <xsl:variable name="atom" select="/atom:feed"/>
  <xsl:variable name="title" select="string($rss/title | $atom/atom:title)"/>
  <xsl:variable name="self" select="string($rss/atom:link[@rel = 'self']/@href | $atom/atom:link[@rel = 'self']/@href)"/>
  <xsl:variable name="items" select="$rss/item | $atom/atom:entry"/>
  <xsl:variable name="format">
    <xsl:choose>
      <xsl:when test="$rss">RSS</xsl:when>
      <xsl:otherwise>Atom</xsl:otherwise>
    </xsl:choose>
  </xsl:variable>

  <xsl:template match="/">
    <html lang="{string($rss/language | $atom/@xml:lang)}">
      <head>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <meta name="robots" content="noindex"/>
        <title><xsl:value-of select="$title"/> (<xsl:value-of select="$format"/> feed)</title>
        <style/>
      </head>
      <body>
        <a class="skip" href="#stories">Skip to the stories</a>
        <header class="site">
          <div class="wrap">
            <p class="eyebrow">
              <span class="badge">
                <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" aria-hidden="true"><circle cx="5" cy="19" r="2.5"/><path d="M2.5 9.5v3a9 9 0 0 1 9 9h3a12 12 0 0 0-12-12zm0-7v3a16 16 0 0 1 16 16h3a19 19 0 0 0-19-19z"/></svg>
                <xsl:value-of select="$format"/> feed
              </span>
              <a href="./">Open the web page</a>
            </p>
            <h1><xsl:value-of select="$title"/></h1>
            <p class="lede"><xsl:value-of select="$rss/description | $atom/atom:subtitle"/></p>
          </div>
        </header>
        <main class="wrap">
          <section class="intro" aria-labelledby="what">
            <h2 id="what">This is a news feed: follow it in a feed reader</h2>
            <p>You are looking at a feed, made for feed reader apps rather than for reading here.
              A reader (NetNewsWire, Feedly, Inoreader, Thunderbird and many more) checks it for you
              and shows each new story as it is published. No account, no tracking.</p>
            <p><strong>To subscribe</strong>, copy this address into your feed reader:</p>
            <p class="feed-url">
              <code id="feed-address"><xsl:value-of select="$self"/></code>
              <button type="button" class="copy" data-copy="feed-address" hidden="">Copy</button>
            </p>
            <p class="formats">
              <span class="label">Also as</span>
              <a href="rss.xml" type="application/rss+xml">RSS</a>
              <a href="atom.xml" type="application/atom+xml">Atom</a>
              <a href="feed.json" type="application/feed+json">JSON Feed</a>
            </p>
            <p>New to feeds? <a href="https://aboutfeeds.com/">About Feeds</a> explains them in a minute.</p>
            <p id="copy-status" class="sr-only" role="status"/>
          </section>
          <section aria-labelledby="stories">
            <h2 id="stories">Latest stories <span class="count">(<xsl:value-of select="count($items)"/>)</span></h2>
            <ol class="items">
              <xsl:apply-templates select="$items"/>
            </ol>
          </section>
        </main>
        <footer class="site">
          <div class="wrap">
            <p>This page is the <xsl:value-of select="$format"/> feed itself, styled for browsers;
              feed readers see only the feed.</p>
          </div>
        </footer>
        <script/>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="item | atom:entry">
    <xsl:variable name="image" select="media:content[@medium = 'image'][1]"/>
    <xsl:variable name="link" select="link | atom:link[not(@rel) or @rel = 'alternate'][1]/@href"/>
    <li>
      <xsl:attribute name="class">
        <xsl:choose>
          <xsl:when test="$image">item</xsl:when>
          <xsl:otherwise>item no-image</xsl:otherwise>
        </xsl:choose>
      </xsl:attribute>
      <xsl:if test="$image">
        <img src="{$image/@url}" alt="" loading="lazy" decoding="async">
          <xsl:if test="$image/@width and $image/@height">
            <xsl:attribute name="width"><xsl:value-of select="$image/@width"/></xsl:attribute>
            <xsl:attribute name="height"><xsl:value-of select="$image/@height"/></xsl:attribute>
          </xsl:if>
        </img>
      </xsl:if>
      <div>
        <h3><a href="{$link}"><xsl:value-of select="title | atom:title"/></a></h3>
        <p class="meta">
          <span class="provider"><xsl:value-of select="dc:creator | atom:author/atom:name"/></span>
          <xsl:text> · </xsl:text>
          <xsl:apply-templates select="pubDate | atom:published" mode="date"/>
        </p>
        <xsl:choose>
          <!-- RSS 2.0: <description> is HTML (feedpub escapes the plain-text excerpt once). -->
          <xsl:when test="description">
            <p class="excerpt"><xsl:value-of select="description" disable-output-escaping="yes"/></p>
          </xsl:when>
          <xsl:when test="atom:summary">
            <p class="excerpt"><xsl:value-of select="atom:summary"/></p>
          </xsl:when>
        </xsl:choose>
      </div>
    </li>
  </xsl:template>

  <!-- RFC 822 (RSS): "Mon, 02 Nov 2026 09:15:00 +0000" → "2 Nov 2026" -->
  <xsl:template match="pubDate" mode="date">
    <span class="date">
      <xsl:value-of select="concat(number(substring(., 6, 2)), ' ', substring(., 9, 8))"/>
    </span>
  </xsl:template>

  <!-- RFC 3339 (Atom): "2026-11-02T09:15:00+00:00" → "2 Nov 2026" -->
  <xsl:template match="atom:published" mode="date">
    <time datetime="{.}">
      <xsl:value-of select="concat(number(substring(., 9, 2)), ' ',
          substring('JanFebMarAprMayJunJulAugSepOctNovDec', 3 * number(substring(., 6, 2)) - 2, 3),
          ' ', substring(., 1, 4))"/>
    </time>
  </xsl:template>
</xsl:stylesheet>
