//! Reports (Markdown, HTML, CSV, JSON), figures, leaderboard and paired comparison.
