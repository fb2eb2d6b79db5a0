"""notifications: e-mails the shop sends (over SMTP, or into a local mail folder)."""
