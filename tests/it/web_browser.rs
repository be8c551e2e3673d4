//! The web interface in a real browser: headless Chromium driven over WebDriver.
