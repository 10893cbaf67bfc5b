"""The `user` Module object, shared by the handler files that register params on it."""
from ugene import Module

module = Module("user", version="1.0.0", description="Your own account: profile, email, password, sessions, "
                "second factor, files and avatar")
