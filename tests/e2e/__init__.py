"""Browser tests: the real app in a thread, driven by Chromium through Playwright."""
