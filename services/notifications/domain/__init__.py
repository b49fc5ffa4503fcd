"""The notifier's rules: the G2 escalation ladder, pure Python with no I/O."""
