"""Curriculum plugin: manuals as versioned modules, expert review, editions, translations."""
