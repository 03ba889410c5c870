"""The interface languages: Vietnamese first (the default), English second."""

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
