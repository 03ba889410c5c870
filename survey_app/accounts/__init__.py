"""Accounts: staff users, passwords, login and lockout, roles (`auth`), and the audit log of who
did what (`audit`). The login page is in the admin blueprint; the users commands in commands/."""
