"""What operators (admins and editors) may do, apart from how the bot shows it."""
