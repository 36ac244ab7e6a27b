"""Editorial feeds: custom feeds from the config, top stories, topics from keywords.

``spec`` turns the config tables into typed specs, ``keywords`` holds the one
matching rule for keywords, ``select`` builds the feeds (pure, like group.py).
"""
