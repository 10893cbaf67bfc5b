"""The user module: the signed-in person's own account, sessions, second factor and files."""
from .module import module
from . import account, security, uploads  # noqa: F401  (each registers its params on `module`)

__all__ = ["module"]
