"""Everything that moves messages between Telegram and the bot, durably.

inbox: updates in (stored before they are confirmed, handled from the store, in chat order);
sender: everything out (rate limits, flood control, retries), shared with broadcasts.
"""
