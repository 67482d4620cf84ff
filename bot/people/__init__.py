"""What the bot says to a person rather than to a question: small talk, who runs it, and the
language a message is written in."""
